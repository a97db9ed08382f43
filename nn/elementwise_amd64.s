//go:build amd64 && !purego

#include "textflag.h"

// Every loop here performs the operations of its Go twin (fastexp.go, gelu.go, layernorm.go,
// attention_kernels.go) in the same order, so the results are the same bits: where a loop fuses
// a multiply-add (the exponential, the product kernel, the row dot products) its twin uses
// fma32, and elsewhere neither fuses. Z16–Z28 hold the constants of elementwiseConsts; Z0–Z3
// are the scratch of EXP.

// LOADEXP broadcasts the exponential's constants from the table at SI: Z16, Z17 the clamp,
// Z18 log₂e, Z19 128.5, Z20 int32 128, Z21 ln2Hi, Z22 ln2Lo, Z23–Z28 the Taylor coefficients
// 1, 1/2, 1/6, 1/24, 1/120, 1/720.
#define LOADEXP \
	VBROADCASTSS 0(SI), Z16 \
	VBROADCASTSS 4(SI), Z17 \
	VBROADCASTSS 8(SI), Z18 \
	VBROADCASTSS 12(SI), Z19 \
	VBROADCASTSS 16(SI), Z21 \
	VBROADCASTSS 20(SI), Z22 \
	VBROADCASTSS 24(SI), Z23 \
	VBROADCASTSS 28(SI), Z24 \
	VBROADCASTSS 32(SI), Z25 \
	VBROADCASTSS 36(SI), Z26 \
	VBROADCASTSS 40(SI), Z27 \
	VBROADCASTSS 44(SI), Z28 \
	MOVL $128, AX \
	VPBROADCASTD AX, Z20

// EXP sets Z0 = expApprox32(Z0): clamp (NaN passes), n = int32(v·log₂e + 128.5) − 128,
// r = v − n·ln2Hi − n·ln2Lo, the Taylor polynomial by Horner, times 2ⁿ; every multiply-add
// fused (one rounding each, as fma32 in the Go twin) and 2ⁿ applied by VSCALEFPS (exact, as
// the power's product). Z1–Z3 are scratch.
#define EXP \
	VMAXPS Z0, Z16, Z0 \
	VMINPS Z0, Z17, Z0 \
	VMOVAPS Z19, Z1 \
	VFMADD231PS Z18, Z0, Z1 \
	VCVTTPS2DQ Z1, Z1 \
	VPSUBD Z20, Z1, Z1 \
	VCVTDQ2PS Z1, Z2 \
	VFNMADD231PS Z21, Z2, Z0 \
	VFNMADD231PS Z22, Z2, Z0 \
	VMOVAPS Z28, Z3 \
	VFMADD213PS Z27, Z0, Z3 \
	VFMADD213PS Z26, Z0, Z3 \
	VFMADD213PS Z25, Z0, Z3 \
	VFMADD213PS Z24, Z0, Z3 \
	VFMADD213PS Z23, Z0, Z3 \
	VFMADD213PS Z23, Z0, Z3 \
	VSCALEFPS Z2, Z3, Z0

// LANEMASK sets K1 to the lanes left of the CX elements still to do (all 16 when CX ≥ 16).
#define LANEMASK \
	MOVL $0xffff, AX \
	CMPQ CX, $16 \
	JGE 4(PC) \
	MOVL $1, AX \
	SHLL CX, AX \
	DECL AX \
	KMOVW AX, K1

// func expAVX512(x *float32, n int, c *[18]float32)
TEXT ·expAVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ c+16(FP), SI
	LOADEXP
exploop:
	LANEMASK
	VMOVUPS.Z (DI), K1, Z0
	EXP
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	SUBQ $16, CX
	JG exploop
	VZEROUPPER
	RET

// GELUCONSTS loads, besides LOADEXP's, Z30 = −geluLinear, Z31 = geluLinear, Z4 = geluCubic,
// Z5 = −2·geluScale, Z7 = 0, Z12 = 2·geluScale, Z13 = 3·geluCubic from the table at SI.
#define GELUCONSTS \
	LOADEXP \
	VBROADCASTSS 48(SI), Z30 \
	VBROADCASTSS 52(SI), Z31 \
	VBROADCASTSS 56(SI), Z4 \
	VBROADCASTSS 60(SI), Z5 \
	VPXORD Z7, Z7, Z7 \
	VBROADCASTSS 64(SI), Z12 \
	VBROADCASTSS 68(SI), Z13

// GELUSIG sets Z0 = σ(2u(x)) for x in Z8: v = clamp(x, ±geluLinear) (NaN passes) in Z9,
// e = exp(−2·geluScale·(v + ((geluCubic·v)·v)·v)), s = 1/(1 + e), and s = 0 where
// x < −geluLinear. Z1–Z3, K2 are scratch.
#define GELUSIG \
	VMINPS Z8, Z31, Z9 \
	VMAXPS Z9, Z30, Z9 \
	VMULPS Z9, Z4, Z0 \
	VMULPS Z9, Z0, Z0 \
	VMULPS Z9, Z0, Z0 \
	VADDPS Z0, Z9, Z0 \
	VMULPS Z5, Z0, Z0 \
	EXP \
	VADDPS Z23, Z0, Z0 \
	VDIVPS Z0, Z23, Z0 \
	VCMPPS $1, Z30, Z8, K2 \
	VMOVAPS Z7, K2, Z0

// GELUDERIV sets Z0 = gelu′(v) for v in Z8 and s = σ(2u(v)) in Z9:
// s + ((v·s)·(1−s))·(2·geluScale)·(1 + (3·geluCubic·v)·v), or s where |v| > geluLinear.
// Z1, K2, K3 are scratch.
#define GELUDERIV \
	VMULPS Z9, Z8, Z0 \
	VSUBPS Z9, Z23, Z1 \
	VMULPS Z1, Z0, Z0 \
	VMULPS Z12, Z0, Z0 \
	VMULPS Z8, Z13, Z1 \
	VMULPS Z8, Z1, Z1 \
	VADDPS Z23, Z1, Z1 \
	VMULPS Z1, Z0, Z0 \
	VADDPS Z0, Z9, Z0 \
	VCMPPS $14, Z31, Z8, K2 \
	VCMPPS $1, Z30, Z8, K3 \
	KORW K3, K2, K2 \
	VMOVAPS Z9, K2, Z0

// func geluForwardAVX512(y, sig, x *float32, n int, c *[18]float32)
TEXT ·geluForwardAVX512(SB), NOSPLIT, $0-40
	MOVQ y+0(FP), DI
	MOVQ sig+8(FP), DX
	MOVQ x+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), SI
	GELUCONSTS
geluloop:
	LANEMASK
	VMOVUPS.Z (BX), K1, Z8 // x
	GELUSIG
	VMOVUPS Z0, K1, (DX)
	VMULPS Z0, Z8, Z1      // y = x·s
	VMOVUPS Z1, K1, (DI)
	ADDQ $64, DI
	ADDQ $64, DX
	ADDQ $64, BX
	SUBQ $16, CX
	JG geluloop
	VZEROUPPER
	RET

// func geluBackwardAVX512(dx, dy, x, sig *float32, n int, c *[18]float32, add int)
TEXT ·geluBackwardAVX512(SB), NOSPLIT, $0-56
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), DX
	MOVQ x+16(FP), BX
	MOVQ sig+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), SI
	MOVQ add+48(FP), AX // K5: all lanes if dx is added to, none if it is set
	NEGQ AX
	KMOVW AX, K5
	VBROADCASTSS 24(SI), Z23 // 1
	VBROADCASTSS 48(SI), Z30 // −geluLinear
	VBROADCASTSS 52(SI), Z31 // geluLinear
	VBROADCASTSS 64(SI), Z12 // 2·geluScale
	VBROADCASTSS 68(SI), Z13 // 3·geluCubic
gelubloop:
	LANEMASK
	VMOVUPS.Z (BX), K1, Z8  // v
	VMOVUPS.Z (R8), K1, Z9  // s
	VMOVUPS.Z (DX), K1, Z10 // dy
	KANDW K5, K1, K4
	VMOVUPS.Z (DI), K4, Z11 // dx, or 0 when setting
	GELUDERIV
	VMULPS Z0, Z10, Z0      // dx += dy·d
	VADDPS Z0, Z11, Z11
	VMOVUPS Z11, K1, (DI)
	ADDQ $64, DI
	ADDQ $64, DX
	ADDQ $64, BX
	ADDQ $64, R8
	SUBQ $16, CX
	JG gelubloop
	VZEROUPPER
	RET

// func geluBiasForwardAVX512(y, sig, x, b *float32, n int, c *[18]float32)
TEXT ·geluBiasForwardAVX512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ sig+8(FP), R8
	MOVQ x+16(FP), BX
	MOVQ b+24(FP), DX
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), SI
	GELUCONSTS
gelubfloop:
	LANEMASK
	VMOVUPS.Z (BX), K1, Z8 // u = x + b
	VMOVUPS.Z (DX), K1, Z10
	VADDPS Z10, Z8, Z8
	GELUSIG
	VMOVUPS Z0, K1, (R8)
	VMULPS Z0, Z8, Z1      // y = u·s
	VMOVUPS Z1, K1, (DI)
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, BX
	ADDQ $64, DX
	SUBQ $16, CX
	JG gelubfloop
	VZEROUPPER
	RET

// func geluBiasBackwardAVX512(dx, dy, x, b, sig *float32, n int, c *[18]float32)
TEXT ·geluBiasBackwardAVX512(SB), NOSPLIT, $0-56
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), R8
	MOVQ x+16(FP), BX
	MOVQ b+24(FP), DX
	MOVQ sig+32(FP), R9
	MOVQ n+40(FP), CX
	MOVQ c+48(FP), SI
	GELUCONSTS
gelubbloop:
	LANEMASK
	VMOVUPS.Z (BX), K1, Z8 // v = x + b
	VMOVUPS.Z (DX), K1, Z10
	VADDPS Z10, Z8, Z8
	VMOVUPS.Z (R9), K1, Z9 // s
	GELUDERIV
	VMOVUPS.Z (R8), K1, Z10
	VMULPS Z0, Z10, Z0     // dx = 0 + dy·d
	VADDPS Z0, Z7, Z0
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, BX
	ADDQ $64, DX
	ADDQ $64, R9
	SUBQ $16, CX
	JG gelubbloop
	VZEROUPPER
	RET

// ADDVECS sets the CX ≥ 1 floats at DI to those at BX plus those at DX, 16 at a time, the
// three pointers moving on by whole vectors (CX ends at minus the last vector's padding).
#define ADDVECS \
	LANEMASK \
	VMOVUPS.Z (BX), K1, Z0 \
	VMOVUPS.Z (DX), K1, Z1 \
	VADDPS Z1, Z0, Z0 \
	VMOVUPS Z0, K1, (DI) \
	ADDQ $64, DI \
	ADDQ $64, BX \
	ADDQ $64, DX \
	SUBQ $16, CX \
	JG -15(PC)

// func addAVX512(dst, a, b *float32, n int)
TEXT ·addAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), BX
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	ADDVECS
	VZEROUPPER
	RET

// func scaleAVX512(dst, src *float32, n int, a float32)
TEXT ·scaleAVX512(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), BX
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Z9
scaleloop:
	LANEMASK
	VMOVUPS.Z (BX), K1, Z0
	VMULPS Z9, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	ADDQ $64, BX
	SUBQ $16, CX
	JG scaleloop
	VZEROUPPER
	RET

// func addRowsAVX512(y, res, b *float32, rows, n int)
TEXT ·addRowsAVX512(SB), NOSPLIT, $0-40
	MOVQ y+0(FP), DI
	MOVQ res+8(FP), BX
	MOVQ rows+24(FP), R9
addrowsrow:
	MOVQ b+16(FP), DX
	MOVQ n+32(FP), CX
	ADDVECS
	SHLQ $2, CX // CX ≤ 0: step back over the tail's padding
	ADDQ CX, DI
	ADDQ CX, BX
	DECQ R9
	JNZ addrowsrow
	VZEROUPPER
	RET

// func sumRowsAVX512(db, dy *float32, ld, rows, n int)
TEXT ·sumRowsAVX512(SB), NOSPLIT, $0-40
	MOVQ db+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $2, R8
	MOVQ n+32(FP), R10
sumrowsblock: // 64 columns at a time: K1–K4 their lanes, Z0–Z3 their sums
	MOVQ R10, CX
	SUBQ $48, CX
	JGE 2(PC)
	XORQ CX, CX
	LANEMASK
	KMOVW K1, K4
	MOVQ R10, CX
	SUBQ $32, CX
	JGE 2(PC)
	XORQ CX, CX
	LANEMASK
	KMOVW K1, K3
	MOVQ R10, CX
	SUBQ $16, CX
	JGE 2(PC)
	XORQ CX, CX
	LANEMASK
	KMOVW K1, K2
	MOVQ R10, CX
	LANEMASK
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z 64(DI), K2, Z1
	VMOVUPS.Z 128(DI), K3, Z2
	VMOVUPS.Z 192(DI), K4, Z3
	MOVQ SI, BX
	MOVQ rows+24(FP), CX
sumrowsloop:
	VMOVUPS.Z (BX), K1, Z4
	VMOVUPS.Z 64(BX), K2, Z5
	VMOVUPS.Z 128(BX), K3, Z6
	VMOVUPS.Z 192(BX), K4, Z7
	VADDPS Z4, Z0, Z0
	VADDPS Z5, Z1, Z1
	VADDPS Z6, Z2, Z2
	VADDPS Z7, Z3, Z3
	ADDQ R8, BX
	DECQ CX
	JNZ sumrowsloop
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	VMOVUPS Z3, K4, 192(DI)
	ADDQ $256, DI
	ADDQ $256, SI
	SUBQ $64, R10
	JG sumrowsblock
	VZEROUPPER
	RET

// ACCUMPD adds the float32 lanes of Z2 as float64 into Z10 (lanes 0–7) and Z11 (lanes 8–15)
// under the lane masks K1 (low half) and K3 (high half). Z3, Z4 are scratch.
#define ACCUMPD \
	VCVTPS2PD Y2, Z3 \
	VEXTRACTF64X4 $1, Z2, Y4 \
	VCVTPS2PD Y4, Z4 \
	VADDPD Z3, Z10, K1, Z10 \
	VADDPD Z4, Z11, K3, Z11

// REDUCEPD sets X10[0] to the sum of the 16 float64 lanes of Z10, Z11 in the tree of
// reduce16f64 (Y11 is scratch).
#define REDUCEPD \
	VADDPD Z11, Z10, Z10 \
	VEXTRACTF64X4 $1, Z10, Y11 \
	VADDPD Y11, Y10, Y10 \
	VEXTRACTF128 $1, Y10, X11 \
	VADDPD X11, X10, X10 \
	VPERMILPD $1, X10, X11 \
	VADDSD X11, X10, X10

// LANEMASK2 is LANEMASK plus K3 = the high 8 of its 16 lanes.
#define LANEMASK2 \
	LANEMASK \
	KSHIFTRW $8, K1, K3

// func layerNormRowAVX512(y, x, gain, b *float32, n int, eps float64) (mean, rstd float32)
TEXT ·layerNormRowAVX512(SB), NOSPLIT, $0-56
	MOVQ x+8(FP), R8
	MOVQ n+32(FP), R9
	VCVTSI2SDQ R9, X13, X13 // float64(n)
	// Pass 1: s = Σ float64(x).
	MOVQ R8, BX
	MOVQ R9, CX
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
lnsumloop:
	LANEMASK2
	VMOVUPS.Z (BX), K1, Z2
	ACCUMPD
	ADDQ $64, BX
	SUBQ $16, CX
	JG lnsumloop
	REDUCEPD
	VDIVSD X13, X10, X12 // m = s/n (float64)
	VBROADCASTSD X12, Z12
	// Pass 2: v2 = Σ (float64(x) − m)².
	MOVQ R8, BX
	MOVQ R9, CX
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
lnvarloop:
	LANEMASK2
	VMOVUPS.Z (BX), K1, Z2
	VCVTPS2PD Y2, Z3
	VEXTRACTF64X4 $1, Z2, Y4
	VCVTPS2PD Y4, Z4
	VSUBPD Z12, Z3, Z3
	VSUBPD Z12, Z4, Z4
	VMULPD Z3, Z3, Z3
	VMULPD Z4, Z4, Z4
	VADDPD Z3, Z10, K1, Z10
	VADDPD Z4, Z11, K3, Z11
	ADDQ $64, BX
	SUBQ $16, CX
	JG lnvarloop
	REDUCEPD
	VDIVSD X13, X10, X10 // rs = 1/√(v2/n + eps)
	VADDSD eps+40(FP), X10, X10
	VSQRTSD X10, X10, X10
	MOVQ $0x3ff0000000000000, AX
	VMOVQ AX, X14
	VDIVSD X10, X14, X10
	VCVTSD2SS X12, X12, X12 // mf, rf
	VCVTSD2SS X10, X10, X10
	VMOVSS X12, mean+48(FP)
	VMOVSS X10, rstd+52(FP)
	VBROADCASTSS X12, Z12
	VBROADCASTSS X10, Z10
	// Pass 3: y = (x − mf)·rf·g + b.
	MOVQ y+0(FP), DI
	MOVQ gain+16(FP), DX
	MOVQ b+24(FP), SI
	MOVQ R8, BX
	MOVQ R9, CX
lnyloop:
	LANEMASK
	VMOVUPS.Z (BX), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VMOVUPS.Z (SI), K1, Z2
	VSUBPS Z12, Z0, Z0
	VMULPS Z10, Z0, Z0
	VMULPS Z1, Z0, Z0
	VADDPS Z2, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	ADDQ $64, DX
	ADDQ $64, SI
	ADDQ $64, BX
	SUBQ $16, CX
	JG lnyloop
	VZEROUPPER
	RET

// func layerNormBackwardRowAVX512(dx, dy, x, gain *float32, n int, mean, rstd float32)
TEXT ·layerNormBackwardRowAVX512(SB), NOSPLIT, $0-48
	MOVQ dy+8(FP), R10
	MOVQ x+16(FP), R8
	MOVQ gain+24(FP), R11
	MOVQ n+32(FP), R9
	VCVTSI2SDQ R9, X13, X13
	VBROADCASTSS mean+40(FP), Z12
	VBROADCASTSS rstd+44(FP), Z14
	// Pass 1: sd = Σ float64(dy·g), sdx = Σ float64(dy·g)·float64((x − m)·rs).
	MOVQ R10, DX
	MOVQ R8, BX
	MOVQ R11, SI
	MOVQ R9, CX
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
	VPXORQ Z20, Z20, Z20
	VPXORQ Z21, Z21, Z21
lnbsumloop:
	LANEMASK2
	VMOVUPS.Z (DX), K1, Z0
	VMOVUPS.Z (SI), K1, Z1
	VMOVUPS.Z (BX), K1, Z5
	VMULPS Z1, Z0, Z2     // dn = dy·g
	VSUBPS Z12, Z5, Z5    // x̂ = (x − m)·rs
	VMULPS Z14, Z5, Z5
	VCVTPS2PD Y2, Z3
	VEXTRACTF64X4 $1, Z2, Y4
	VCVTPS2PD Y4, Z4
	VADDPD Z3, Z10, K1, Z10
	VADDPD Z4, Z11, K3, Z11
	VCVTPS2PD Y5, Z6
	VEXTRACTF64X4 $1, Z5, Y7
	VCVTPS2PD Y7, Z7
	VMULPD Z6, Z3, Z3
	VMULPD Z7, Z4, Z4
	VADDPD Z3, Z20, K1, Z20
	VADDPD Z4, Z21, K3, Z21
	ADDQ $64, DX
	ADDQ $64, BX
	ADDQ $64, SI
	SUBQ $16, CX
	JG lnbsumloop
	REDUCEPD
	VDIVSD X13, X10, X10
	VCVTSD2SS X10, X10, X10
	VBROADCASTSS X10, Z15 // md
	VMOVAPD Z20, Z10
	VMOVAPD Z21, Z11
	REDUCEPD
	VDIVSD X13, X10, X10
	VCVTSD2SS X10, X10, X10
	VBROADCASTSS X10, Z16 // mdx
	// Pass 2: dx += rs·((dy·g − md) − x̂·mdx).
	MOVQ dx+0(FP), DI
	MOVQ R10, DX
	MOVQ R8, BX
	MOVQ R11, SI
	MOVQ R9, CX
lnbloop:
	LANEMASK
	VMOVUPS.Z (DX), K1, Z0
	VMOVUPS.Z (SI), K1, Z1
	VMOVUPS.Z (BX), K1, Z5
	VMOVUPS.Z (DI), K1, Z6
	VMULPS Z1, Z0, Z2
	VSUBPS Z15, Z2, Z2
	VSUBPS Z12, Z5, Z5
	VMULPS Z14, Z5, Z5
	VMULPS Z16, Z5, Z5
	VSUBPS Z5, Z2, Z2
	VMULPS Z2, Z14, Z2
	VADDPS Z2, Z6, Z6
	VMOVUPS Z6, K1, (DI)
	ADDQ $64, DI
	ADDQ $64, DX
	ADDQ $64, BX
	ADDQ $64, SI
	SUBQ $16, CX
	JG lnbloop
	VZEROUPPER
	RET

// func layerNormParamGradsAVX512(dg, db, dy, x, mean, rstd *float32, ld, rows, n int)
//
// 32 columns at a time (lanes K1, K2), their dg and db held in Z2, Z5 and Z3, Z6 across the
// rows.
TEXT ·layerNormParamGradsAVX512(SB), NOSPLIT, $0-72
	MOVQ dg+0(FP), DI
	MOVQ db+8(FP), R10
	MOVQ dy+16(FP), R11
	MOVQ x+24(FP), R12
	MOVQ ld+48(FP), R13
	SHLQ $2, R13
	MOVQ n+64(FP), R9
lnpgblock:
	MOVQ R9, CX
	SUBQ $16, CX
	JGE 2(PC)
	XORQ CX, CX
	LANEMASK
	KMOVW K1, K2
	MOVQ R9, CX
	LANEMASK
	VMOVUPS.Z (DI), K1, Z2
	VMOVUPS.Z 64(DI), K2, Z5
	VMOVUPS.Z (R10), K1, Z3
	VMOVUPS.Z 64(R10), K2, Z6
	MOVQ R11, DX
	MOVQ R12, BX
	MOVQ mean+32(FP), R8
	MOVQ rstd+40(FP), SI
	MOVQ rows+56(FP), CX
lnpgrow:
	VBROADCASTSS (R8), Z12
	VBROADCASTSS (SI), Z14
	VMOVUPS.Z (DX), K1, Z0
	VMOVUPS.Z (BX), K1, Z1
	VSUBPS Z12, Z1, Z1 // dg += (dy·(x − m))·rs
	VMULPS Z1, Z0, Z1
	VMULPS Z14, Z1, Z1
	VADDPS Z1, Z2, Z2
	VADDPS Z0, Z3, Z3  // db += dy
	VMOVUPS.Z 64(DX), K2, Z0
	VMOVUPS.Z 64(BX), K2, Z1
	VSUBPS Z12, Z1, Z1
	VMULPS Z1, Z0, Z1
	VMULPS Z14, Z1, Z1
	VADDPS Z1, Z5, Z5
	VADDPS Z0, Z6, Z6
	ADDQ R13, DX
	ADDQ R13, BX
	ADDQ $4, R8
	ADDQ $4, SI
	DECQ CX
	JNZ lnpgrow
	VMOVUPS Z2, K1, (DI)
	VMOVUPS Z5, K2, 64(DI)
	VMOVUPS Z3, K1, (R10)
	VMOVUPS Z6, K2, 64(R10)
	ADDQ $128, DI
	ADDQ $128, R10
	ADDQ $128, R11
	ADDQ $128, R12
	SUBQ $32, R9
	JG lnpgblock
	VZEROUPPER
	RET

// ROWMAX sets X5 (lane 0) and every lane of Z5 to the maximum of the CX ≥ 1 floats at DI
// (the order of Go's max over the row). DI, CX, AX, K1 and Z6 are scratch.
#define ROWMAX \
	VBROADCASTSS (DI), Z5 \
	LANEMASK \
	VMOVUPS.Z (DI), K1, Z6 \
	VMAXPS Z6, Z5, K1, Z5 \
	ADDQ $64, DI \
	SUBQ $16, CX \
	JG -11(PC) \
	VEXTRACTF64X4 $1, Z5, Y6 \
	VMAXPS Y6, Y5, Y5 \
	VEXTRACTF128 $1, Y5, X6 \
	VMAXPS X6, X5, X5 \
	VPERMILPS $0x4e, X5, X6 \
	VMAXPS X6, X5, X5 \
	VPERMILPS $0xb1, X5, X6 \
	VMAXPS X6, X5, X5 \
	VBROADCASTSS X5, Z5

// SCALEROW multiplies the CX ≥ 1 floats at DI by Z9. DI, CX, AX, K1 and Z0 are scratch.
#define SCALEROW \
	LANEMASK \
	VMOVUPS.Z (DI), K1, Z0 \
	VMULPS Z9, Z0, Z0 \
	VMOVUPS Z0, K1, (DI) \
	ADDQ $64, DI \
	SUBQ $16, CX \
	JG -12(PC)

// func softmaxRowAVX512(x *float32, n int, c *[18]float32) (mx float32, sum float64)
TEXT ·softmaxRowAVX512(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), R8
	MOVQ n+8(FP), R9
	MOVQ c+16(FP), SI
	LOADEXP
	// Pass 1: the row maximum.
	MOVQ R8, DI
	MOVQ R9, CX
	ROWMAX
	// Pass 2: e = exp(x − max), stored, summed per lane in float64.
	MOVQ R8, DI
	MOVQ R9, CX
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
sexploop:
	LANEMASK2
	VMOVUPS.Z (DI), K1, Z0
	VSUBPS Z5, Z0, Z0
	EXP
	VMOVUPS Z0, K1, (DI)
	VMOVAPS Z0, Z2
	ACCUMPD
	ADDQ $64, DI
	SUBQ $16, CX
	JG sexploop
	REDUCEPD
	VMOVSS X5, mx+24(FP)
	VMOVSD X10, sum+32(FP)
	MOVQ $0x3ff0000000000000, AX // float32(1/sum)
	VMOVQ AX, X9
	VDIVSD X10, X9, X9
	VCVTSD2SS X9, X9, X9
	VBROADCASTSS X9, Z9
	// Pass 3: scale by 1/sum.
	MOVQ R8, DI
	MOVQ R9, CX
	SCALEROW
	VZEROUPPER
	RET

// The kernels of CausalSelfAttention (attention_kernels.go). tileMul's sums use fused
// multiply-adds, which its Go twin computes through math.FMA in float64 and rounds to float32:
// the same bits except when that double rounding lands on a tie (rare; the tests allow 1 ulp of
// the sum's magnitude per step). transposeAVX512 and the causal softmax blocks (below) give the
// same bits as their twins.

// ROW2 adds a·B to one row of a 32-wide tile by fused multiply-adds: a = the float32 at addr
// broadcast, B in Z16, Z17, the row's accumulators acc0, acc1.
#define ROW2(addr, acc0, acc1) \
	VFMADD231PS.BCST addr, Z16, acc0 \
	VFMADD231PS.BCST addr, Z17, acc1

// ROW1 is ROW2 for a 16-wide tile (B in Z16).
#define ROW1(addr, acc0) \
	VFMADD231PS.BCST addr, Z16, acc0

// STORE2 writes one row of a 32-wide tile at CX: c = old + alpha·acc, where old is what is
// there under the masks K3, K4 (zero when they are empty, that is when not accumulating); the
// columns under K1, K2 are written. CX moves on to the next row (R14 = ldc·4).
#define STORE2(acc0, acc1) \
	VMULPS Z31, acc0, acc0 \
	VMULPS Z31, acc1, acc1 \
	VMOVUPS.Z (CX), K3, Z18 \
	VMOVUPS.Z 64(CX), K4, Z19 \
	VADDPS acc0, Z18, acc0 \
	VADDPS acc1, Z19, acc1 \
	VMOVUPS acc0, K1, (CX) \
	VMOVUPS acc1, K2, 64(CX) \
	ADDQ R14, CX

// SET2 is STORE2 when not accumulating: c = alpha·acc, nothing read back.
#define SET2(acc0, acc1) \
	VMULPS Z31, acc0, acc0 \
	VMULPS Z31, acc1, acc1 \
	VMOVUPS acc0, K1, (CX) \
	VMOVUPS acc1, K2, 64(CX) \
	ADDQ R14, CX

// SET1 is SET2 for a 16-wide tile.
#define SET1(acc0) \
	VMULPS Z31, acc0, acc0 \
	VMOVUPS acc0, K1, (CX) \
	ADDQ R14, CX

// STORE1 is STORE2 for a 16-wide tile.
#define STORE1(acc0) \
	VMULPS Z31, acc0, acc0 \
	VMOVUPS.Z (CX), K3, Z18 \
	VADDPS acc0, Z18, acc0 \
	VMOVUPS acc0, K1, (CX) \
	ADDQ R14, CX

// ZEROACC8 zeroes the accumulators Z0–Z7, ZEROACC8HI Z8–Z15.
#define ZEROACC8 \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1 \
	VPXORD Z2, Z2, Z2 \
	VPXORD Z3, Z3, Z3 \
	VPXORD Z4, Z4, Z4 \
	VPXORD Z5, Z5, Z5 \
	VPXORD Z6, Z6, Z6 \
	VPXORD Z7, Z7, Z7

#define ZEROACC8HI \
	VPXORD Z8, Z8, Z8 \
	VPXORD Z9, Z9, Z9 \
	VPXORD Z10, Z10, Z10 \
	VPXORD Z11, Z11, Z11 \
	VPXORD Z12, Z12, Z12 \
	VPXORD Z13, Z13, Z13 \
	VPXORD Z14, Z14, Z14 \
	VPXORD Z15, Z15, Z15

// func tileStepsAVX512(c *float32, ldc int, a *float32, rsa, csa int, b *float32, ldb int, m, n, k int, alpha float32, add int, nFirst, nStep, kFirst, kStep, pStep int)
//
// tileMulSteps: row tile g (rows 8g to 8g+7, or the single rows past the last whole tile, g
// counted the same way) covers columns [0, min(n, nFirst + g·nStep)) and sums p over
// [g·pStep, min(k, kFirst + g·kStep)); its A rows start g·pStep·csa on and its B rows
// g·pStep·ldb on. Register tiles of 8×32, 8×16, 1×32 and 1×16 accumulate by fused
// multiply-adds with embedded broadcasts of A, row tile outer (its A rows stay in L1 across the
// column blocks), column block inner.
//
// Register use: R9 the column block j0, R10 the tile's first row r0, SI the tile's depth; per
// block AX (rows 0–3) and R8 (rows 4–7) walk A, BX walks B, CX counts p, DI is the block's C
// corner, DX is scratch. R11 = rsa·4, R12 = csa·4, R13 = ldb·4, R14 = ldc·4,
// R15 = 3·rsa·4. Z0–Z15 accumulate, Z16–Z19 are scratch, Z31 is alpha; K1, K2 (and K3, K4
// when adding) mask the block's columns.
TEXT ·tileStepsAVX512(SB), NOSPLIT, $32-136
	MOVQ ldc+8(FP), R14
	SHLQ $2, R14
	MOVQ rsa+24(FP), R11
	SHLQ $2, R11
	MOVQ csa+32(FP), R12
	SHLQ $2, R12
	MOVQ ldb+48(FP), R13
	SHLQ $2, R13
	LEAQ (R11)(R11*2), R15
	VBROADCASTSS alpha+80(FP), Z31
	XORQ R10, R10

tsrow:
	// A row tile at r0 (g = r0/8): its columns nT = min(n, nFirst + g·nStep) kept at 24(SP),
	// its depth (SI) from p0 = g·pStep to min(k, kFirst + g·kStep), and the corners of its A
	// (a + r0·rsa + p0·csa), B (b + p0·ldb) and C (c + r0·ldc) kept at 0, 8 and 16(SP).
	MOVQ R10, DX
	SHRQ $3, DX
	MOVQ nStep+104(FP), AX
	IMULQ DX, AX
	ADDQ nFirst+96(FP), AX
	MOVQ n+64(FP), CX
	CMPQ AX, CX
	CMOVQGT CX, AX
	MOVQ AX, 24(SP)
	MOVQ kStep+120(FP), SI
	IMULQ DX, SI
	ADDQ kFirst+112(FP), SI
	MOVQ k+72(FP), CX
	CMPQ SI, CX
	CMOVQGT CX, SI
	IMULQ pStep+128(FP), DX
	SUBQ DX, SI
	MOVQ DX, BX
	IMULQ R13, BX
	ADDQ b+40(FP), BX
	MOVQ BX, 8(SP)
	IMULQ R12, DX
	MOVQ R10, AX
	IMULQ R11, AX
	ADDQ DX, AX
	ADDQ a+16(FP), AX
	MOVQ AX, 0(SP)
	MOVQ R10, DI
	IMULQ R14, DI
	ADDQ c+0(FP), DI
	MOVQ DI, 16(SP)
	XORQ R9, R9

tsblock:
	// The block's columns: cols = nT − j0, at most 32 (K1, K2; K3, K4 when adding); none
	// left: the next row tile.
	MOVQ 24(SP), CX
	SUBQ R9, CX
	JLE tsnextrow
	CMPQ CX, $32
	JLT tspartial
	KXNORW K1, K1, K1
	KXNORW K2, K2, K2
	JMP tsmasked

tspartial:
	MOVQ CX, DX // LANEMASK uses AX and CX
	SUBQ $16, CX
	JGE 2(PC)
	XORQ CX, CX
	LANEMASK
	KMOVW K1, K2
	MOVQ DX, CX
	LANEMASK

tsmasked:
	KMOVW K1, K3
	KMOVW K2, K4
	MOVQ 0(SP), AX
	MOVQ 8(SP), BX
	LEAQ (BX)(R9*4), BX
	MOVQ 16(SP), DI
	LEAQ (DI)(R9*4), DI
	MOVQ m+56(FP), DX
	SUBQ R10, DX
	CMPQ DX, $8
	JLT tsone
	LEAQ (AX)(R11*4), R8
	KORTESTW K2, K2
	JZ tsnarrow8

	ZEROACC8
	ZEROACC8HI
	MOVQ SI, CX
	TESTQ CX, CX
	JLE tswide8store

tswide8loop:
	VMOVUPS.Z (BX), K1, Z16
	VMOVUPS.Z 64(BX), K2, Z17
	ROW2((AX), Z0, Z1)
	ROW2((AX)(R11*1), Z2, Z3)
	ROW2((AX)(R11*2), Z4, Z5)
	ROW2((AX)(R15*1), Z6, Z7)
	ROW2((R8), Z8, Z9)
	ROW2((R8)(R11*1), Z10, Z11)
	ROW2((R8)(R11*2), Z12, Z13)
	ROW2((R8)(R15*1), Z14, Z15)
	ADDQ R12, AX
	ADDQ R12, R8
	ADDQ R13, BX
	DECQ CX
	JNZ tswide8loop

tswide8store:
	MOVQ DI, CX
	MOVQ add+88(FP), DX
	TESTQ DX, DX
	JNZ tswide8add
	SET2(Z0, Z1)
	SET2(Z2, Z3)
	SET2(Z4, Z5)
	SET2(Z6, Z7)
	SET2(Z8, Z9)
	SET2(Z10, Z11)
	SET2(Z12, Z13)
	SET2(Z14, Z15)
	JMP tsnext8

tswide8add:
	STORE2(Z0, Z1)
	STORE2(Z2, Z3)
	STORE2(Z4, Z5)
	STORE2(Z6, Z7)
	STORE2(Z8, Z9)
	STORE2(Z10, Z11)
	STORE2(Z12, Z13)
	STORE2(Z14, Z15)

tsnext8:
	ADDQ $32, R9
	JMP tsblock

tsnarrow8:
	ZEROACC8
	MOVQ SI, CX
	TESTQ CX, CX
	JLE tsnarrow8store

tsnarrow8loop:
	VMOVUPS.Z (BX), K1, Z16
	ROW1((AX), Z0)
	ROW1((AX)(R11*1), Z1)
	ROW1((AX)(R11*2), Z2)
	ROW1((AX)(R15*1), Z3)
	ROW1((R8), Z4)
	ROW1((R8)(R11*1), Z5)
	ROW1((R8)(R11*2), Z6)
	ROW1((R8)(R15*1), Z7)
	ADDQ R12, AX
	ADDQ R12, R8
	ADDQ R13, BX
	DECQ CX
	JNZ tsnarrow8loop

tsnarrow8store:
	MOVQ DI, CX
	MOVQ add+88(FP), DX
	TESTQ DX, DX
	JNZ tsnarrow8add
	SET1(Z0)
	SET1(Z1)
	SET1(Z2)
	SET1(Z3)
	SET1(Z4)
	SET1(Z5)
	SET1(Z6)
	SET1(Z7)
	JMP tsnext8

tsnarrow8add:
	STORE1(Z0)
	STORE1(Z1)
	STORE1(Z2)
	STORE1(Z3)
	STORE1(Z4)
	STORE1(Z5)
	STORE1(Z6)
	STORE1(Z7)
	JMP tsnext8

tsone: // a single row past the last whole tile
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	MOVQ SI, CX
	TESTQ CX, CX
	JLE tsonestore

tsoneloop:
	VMOVUPS.Z (BX), K1, Z16
	VMOVUPS.Z 64(BX), K2, Z17
	ROW2((AX), Z0, Z1)
	ADDQ R12, AX
	ADDQ R13, BX
	DECQ CX
	JNZ tsoneloop

tsonestore:
	MOVQ DI, CX
	MOVQ add+88(FP), DX
	TESTQ DX, DX
	JNZ tsoneadd
	SET2(Z0, Z1)
	JMP tsnext8

tsoneadd:
	STORE2(Z0, Z1)
	JMP tsnext8

tsnextrow: // the tile's columns are done: the next tile (8 rows on, or 1 past the last whole one)
	MOVQ m+56(FP), DX
	SUBQ R10, DX
	CMPQ DX, $8
	JLT 3(PC)
	ADDQ $8, R10
	JMP 2(PC)
	INCQ R10
	CMPQ R10, m+56(FP)
	JLT tsrow
	VZEROUPPER
	RET

// func transposeAVX512(dst, src *float32, ld, t, hs int)
//
// dst[d·t+j] = src[j·ld+d] for d < hs, j < t, sixteen j at a time by a gather; ld·t < 2³¹.
TEXT ·transposeAVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	MOVQ t+24(FP), R9
	MOVQ hs+32(FP), R10
	MOVQ R8, R11 // R11 = 16·ld·4: the gather base moves on by 16 rows
	SHLQ $6, R11
	VPBROADCASTD R8, Z4 // Z4 = (0, 1, …, 15)·ld as int32
	MOVL $0, AX
	VPBROADCASTD AX, Z5
	MOVL $1, AX
	VPBROADCASTD AX, Z6
	VMOVDQA32 Z5, Z7 // Z7 = 0, 1, …, 15: build by repeated add under lane masks
	MOVL $0xfffe, AX
	KMOVW AX, K2
	MOVQ $15, CX
iotaloop:
	VPADDD Z6, Z7, K2, Z7
	KSHIFTLW $1, K2, K2
	DECQ CX
	JNZ iotaloop
	VPMULLD Z4, Z7, Z4
trowloop:
	MOVQ SI, BX
	MOVQ R9, DX
tcolloop:
	MOVQ DX, CX
	LANEMASK
	KMOVW K1, K3
	VPXORD Z0, Z0, Z0
	VGATHERDPS (BX)(Z4*4), K3, Z0
	VMOVUPS Z0, K1, (DI)
	ADDQ R11, BX
	ADDQ $64, DI
	SUBQ $16, DX
	JG tcolloop
	// DI went past the row by the tail's padding: step back to d·t.
	MOVQ R9, AX
	ADDQ $15, AX
	ANDQ $-16, AX
	SUBQ R9, AX
	SHLQ $2, AX
	SUBQ AX, DI
	ADDQ $4, SI
	DECQ R10
	JNZ trowloop
	VZEROUPPER
	RET

// HSUMPS sets X10[0] to the sum of the 16 float32 lanes of Z10 in the tree of reduce16f32
// (Z11 is scratch).
#define HSUMPS \
	VEXTRACTF64X4 $1, Z10, Y11 \
	VADDPS Y11, Y10, Y10 \
	VEXTRACTF128 $1, Y10, X11 \
	VADDPS X11, X10, X10 \
	VPERMILPS $0x4e, X10, X11 \
	VADDPS X11, X10, X10 \
	VPERMILPS $0xb1, X10, X11 \
	VADDPS X11, X10, X10

// CLEARTAIL zeroes the CX floats at DX (CX may be ≤ 0: nothing). AX, K1 are scratch; Z7 must
// be zero.
#define CLEARTAIL \
	TESTQ CX, CX \
	JLE 12(PC) \
	LANEMASK \
	VMOVUPS Z7, K1, (DX) \
	ADDQ $64, DX \
	SUBQ $16, CX \
	JG -10(PC)

// func softmaxBlockAVX512(p *float32, ld, m, l0, inc, w int, stats *float32, c *[18]float32)
//
// Row r of the m rows at p (stride ld): l = l0 + r·inc scores become probabilities, columns
// [l, w) become 0, and stats[2r], stats[2r+1] get the row maximum and 1/sum.
TEXT ·softmaxBlockAVX512(SB), NOSPLIT, $0-64
	MOVQ p+0(FP), R12
	MOVQ ld+8(FP), R11
	SHLQ $2, R11
	MOVQ m+16(FP), R8
	MOVQ l0+24(FP), R9 // l of the first row
	MOVQ inc+32(FP), R10
	MOVQ stats+48(FP), BX
	MOVQ c+56(FP), SI
	LOADEXP
	VPXORD Z7, Z7, Z7
csbrow:
	// Pass 1: the maximum of the l scores.
	MOVQ R12, DI
	MOVQ R9, CX
	ROWMAX
	VMOVSS X5, (BX)
	// Pass 2: e = exp(s − max), stored and summed in 16 float32 lanes.
	MOVQ R12, DI
	MOVQ R9, CX
	VPXORD Z10, Z10, Z10
csbexp:
	LANEMASK
	VMOVUPS.Z (DI), K1, Z0
	VSUBPS Z5, Z0, Z0
	EXP
	VMOVUPS Z0, K1, (DI)
	VADDPS Z0, Z10, K1, Z10
	ADDQ $64, DI
	SUBQ $16, CX
	JG csbexp
	HSUMPS
	VDIVSS X10, X23, X9 // inv = 1/sum (Z23 is 1)
	VMOVSS X9, 4(BX)
	VBROADCASTSS X9, Z9
	// Pass 3: scale by inv, then zero columns [l, n).
	MOVQ R12, DI
	MOVQ R9, CX
	SCALEROW
	LEAQ (R12)(R9*4), DX
	MOVQ w+40(FP), CX
	SUBQ R9, CX
	CLEARTAIL
	ADDQ R11, R12
	ADDQ $8, BX
	ADDQ R10, R9
	DECQ R8
	JNZ csbrow
	VZEROUPPER
	RET

// RECOMPUTEP sets, for the lanes of K1 (LANEMASK) at DI, the probabilities Z0 =
// exp(s − Z30)·Z31 from the scores s there, stores them back, and loads Z1 from DX.
#define RECOMPUTEP \
	LANEMASK \
	VMOVUPS.Z (DI), K1, Z0 \
	VSUBPS Z30, Z0, Z0 \
	EXP \
	VMULPS Z31, Z0, Z0 \
	VMOVUPS Z0, K1, (DI) \
	VMOVUPS.Z (DX), K1, Z1

// func softmaxGradBlockAVX512(p, ds *float32, ld, m, l0, inc, w int, stats, dots *float32, c *[18]float32)
//
// Row r of the m rows at p and ds (stride ld), l = l0 + r·inc: if stats is not nil, p's l
// scores become the probabilities exp(s − stats[2r])·stats[2r+1] and its columns [l, w) 0;
// dot is dots[r] if dots is not nil, else Σ p·ds over the l columns (16 float32 lanes); then
// ds = p·(ds − dot), its columns [l, w) 0. With both stats and dots the row is one pass.
TEXT ·softmaxGradBlockAVX512(SB), NOSPLIT, $0-80
	MOVQ p+0(FP), R12
	MOVQ ds+8(FP), R13
	MOVQ ld+16(FP), R11
	SHLQ $2, R11
	MOVQ m+24(FP), R8
	MOVQ l0+32(FP), R9
	MOVQ inc+40(FP), R14
	MOVQ stats+56(FP), BX
	MOVQ dots+64(FP), R10
	MOVQ c+72(FP), SI
	LOADEXP
	VPXORD Z7, Z7, Z7
csgrow:
	VPXORD Z10, Z10, Z10
	TESTQ BX, BX
	JZ csgnostats
	VBROADCASTSS (BX), Z30
	VBROADCASTSS 4(BX), Z31
	ADDQ $8, BX
	MOVQ R12, DI
	MOVQ R13, DX
	MOVQ R9, CX
	TESTQ R10, R10
	JZ csgrec
	// The dot product is given: recompute p and set ds = p·(ds − dot) in one pass.
	VBROADCASTSS (R10), Z10
	ADDQ $4, R10
csgone:
	RECOMPUTEP
	VSUBPS Z10, Z1, Z1
	VMULPS Z1, Z0, Z1
	VMOVUPS Z1, K1, (DX)
	ADDQ $64, DI
	ADDQ $64, DX
	SUBQ $16, CX
	JG csgone
	JMP csgptail
csgrec:
	// Recompute the probabilities and, in the same pass, dot = Σ p·ds over the l columns.
	RECOMPUTEP
	VMULPS Z1, Z0, Z0
	VADDPS Z0, Z10, K1, Z10
	ADDQ $64, DI
	ADDQ $64, DX
	SUBQ $16, CX
	JG csgrec
csgptail:
	// Zero p's columns [l, w); the row is done but for ds's tail if its dot product was
	// given (R10 is then not nil).
	LEAQ (R12)(R9*4), DX
	MOVQ w+48(FP), CX
	SUBQ R9, CX
	CLEARTAIL
	TESTQ R10, R10
	JNZ csgtail
	JMP csgsum
csgnostats:
	TESTQ R10, R10
	JZ csgdot
	VBROADCASTSS (R10), Z10
	ADDQ $4, R10
	JMP csgapply
csgdot:
	// dot = Σ p·ds over the l columns.
	MOVQ R12, DI
	MOVQ R13, DX
	MOVQ R9, CX
csgdotloop:
	LANEMASK
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VMULPS Z1, Z0, Z0
	VADDPS Z0, Z10, K1, Z10
	ADDQ $64, DI
	ADDQ $64, DX
	SUBQ $16, CX
	JG csgdotloop
csgsum:
	HSUMPS
	VBROADCASTSS X10, Z10
csgapply:
	// ds = p·(ds − dot), then zero columns [l, n).
	MOVQ R12, DI
	MOVQ R13, DX
	MOVQ R9, CX
csgds:
	LANEMASK
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VSUBPS Z10, Z1, Z1
	VMULPS Z1, Z0, Z1
	VMOVUPS Z1, K1, (DX)
	ADDQ $64, DI
	ADDQ $64, DX
	SUBQ $16, CX
	JG csgds
csgtail:
	LEAQ (R13)(R9*4), DX
	MOVQ w+48(FP), CX
	SUBQ R9, CX
	CLEARTAIL
	ADDQ R11, R12
	ADDQ R11, R13
	ADDQ R14, R9
	DECQ R8
	JNZ csgrow
	VZEROUPPER
	RET

// func rowDotsAVX512(d, a *float32, lda int, b *float32, ldb, m, n int)
//
// d[r] = Σ_i a[r·lda+i]·b[r·ldb+i] over i < n for the m rows: fused multiply-adds into 16
// lanes, summed by HSUMPS (the tree of reduce16f32).
TEXT ·rowDotsAVX512(SB), NOSPLIT, $0-56
	MOVQ d+0(FP), R8
	MOVQ a+8(FP), R12
	MOVQ lda+16(FP), R11
	SHLQ $2, R11
	MOVQ b+24(FP), R13
	MOVQ ldb+32(FP), R14
	SHLQ $2, R14
	MOVQ m+40(FP), R9
	MOVQ n+48(FP), R10
rdrow:
	VPXORD Z10, Z10, Z10
	MOVQ R12, DI
	MOVQ R13, DX
	MOVQ R10, CX
rdloop:
	LANEMASK
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VFMADD231PS Z1, Z0, K1, Z10
	ADDQ $64, DI
	ADDQ $64, DX
	SUBQ $16, CX
	JG rdloop
	HSUMPS
	VMOVSS X10, (R8)
	ADDQ $4, R8
	ADDQ R11, R12
	ADDQ R14, R13
	DECQ R9
	JNZ rdrow
	VZEROUPPER
	RET

// func transpose16AVX512(dst, src *float32, ld, t, hs int)
//
// transposeHead for t and hs multiples of 16: each 16×16 block is loaded as 16 rows, transposed
// in registers (unpack pairs of floats, then of float pairs, then two shuffles of 128-bit
// blocks) and stored as 16 rows of dst. Registers: SI, DI the blocks' corners, R8 = ld·4,
// R9 = 3·ld·4, R10 = t·4, R11 = 3·t·4, R12–R15 and AX the row pointers, BX, CX, DX counters.
TEXT ·transpose16AVX512(SB), NOSPLIT, $0-40
	MOVQ ld+16(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	MOVQ t+24(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*2), R11
	MOVQ hs+32(FP), DX
	MOVQ src+8(FP), SI
	MOVQ dst+0(FP), DI
t16dloop: // SI = src + d0, DI = dst + d0·t
	MOVQ t+24(FP), CX
	MOVQ SI, BX
	MOVQ DI, AX
t16jloop: // BX = src + j0·ld + d0, AX = dst + d0·t + j0
	MOVQ BX, R12
	LEAQ (BX)(R8*4), R13
	LEAQ (R13)(R8*4), R14
	LEAQ (R14)(R8*4), R15
	VMOVUPS (R12), Z0
	VMOVUPS (R12)(R8*1), Z1
	VMOVUPS (R12)(R8*2), Z2
	VMOVUPS (R12)(R9*1), Z3
	VMOVUPS (R13), Z4
	VMOVUPS (R13)(R8*1), Z5
	VMOVUPS (R13)(R8*2), Z6
	VMOVUPS (R13)(R9*1), Z7
	VMOVUPS (R14), Z8
	VMOVUPS (R14)(R8*1), Z9
	VMOVUPS (R14)(R8*2), Z10
	VMOVUPS (R14)(R9*1), Z11
	VMOVUPS (R15), Z12
	VMOVUPS (R15)(R8*1), Z13
	VMOVUPS (R15)(R8*2), Z14
	VMOVUPS (R15)(R9*1), Z15
	VUNPCKLPS Z1, Z0, Z16
	VUNPCKHPS Z1, Z0, Z17
	VUNPCKLPS Z3, Z2, Z18
	VUNPCKHPS Z3, Z2, Z19
	VUNPCKLPS Z5, Z4, Z20
	VUNPCKHPS Z5, Z4, Z21
	VUNPCKLPS Z7, Z6, Z22
	VUNPCKHPS Z7, Z6, Z23
	VUNPCKLPS Z9, Z8, Z24
	VUNPCKHPS Z9, Z8, Z25
	VUNPCKLPS Z11, Z10, Z26
	VUNPCKHPS Z11, Z10, Z27
	VUNPCKLPS Z13, Z12, Z28
	VUNPCKHPS Z13, Z12, Z29
	VUNPCKLPS Z15, Z14, Z30
	VUNPCKHPS Z15, Z14, Z31
	VUNPCKLPD Z18, Z16, Z0
	VUNPCKHPD Z18, Z16, Z1
	VUNPCKLPD Z19, Z17, Z2
	VUNPCKHPD Z19, Z17, Z3
	VUNPCKLPD Z22, Z20, Z4
	VUNPCKHPD Z22, Z20, Z5
	VUNPCKLPD Z23, Z21, Z6
	VUNPCKHPD Z23, Z21, Z7
	VUNPCKLPD Z26, Z24, Z8
	VUNPCKHPD Z26, Z24, Z9
	VUNPCKLPD Z27, Z25, Z10
	VUNPCKHPD Z27, Z25, Z11
	VUNPCKLPD Z30, Z28, Z12
	VUNPCKHPD Z30, Z28, Z13
	VUNPCKLPD Z31, Z29, Z14
	VUNPCKHPD Z31, Z29, Z15
	VSHUFF32X4 $0x88, Z4, Z0, Z16
	VSHUFF32X4 $0xdd, Z4, Z0, Z20
	VSHUFF32X4 $0x88, Z5, Z1, Z17
	VSHUFF32X4 $0xdd, Z5, Z1, Z21
	VSHUFF32X4 $0x88, Z6, Z2, Z18
	VSHUFF32X4 $0xdd, Z6, Z2, Z22
	VSHUFF32X4 $0x88, Z7, Z3, Z19
	VSHUFF32X4 $0xdd, Z7, Z3, Z23
	VSHUFF32X4 $0x88, Z12, Z8, Z24
	VSHUFF32X4 $0xdd, Z12, Z8, Z28
	VSHUFF32X4 $0x88, Z13, Z9, Z25
	VSHUFF32X4 $0xdd, Z13, Z9, Z29
	VSHUFF32X4 $0x88, Z14, Z10, Z26
	VSHUFF32X4 $0xdd, Z14, Z10, Z30
	VSHUFF32X4 $0x88, Z15, Z11, Z27
	VSHUFF32X4 $0xdd, Z15, Z11, Z31
	VSHUFF32X4 $0x88, Z24, Z16, Z0
	VSHUFF32X4 $0xdd, Z24, Z16, Z8
	VSHUFF32X4 $0x88, Z25, Z17, Z1
	VSHUFF32X4 $0xdd, Z25, Z17, Z9
	VSHUFF32X4 $0x88, Z26, Z18, Z2
	VSHUFF32X4 $0xdd, Z26, Z18, Z10
	VSHUFF32X4 $0x88, Z27, Z19, Z3
	VSHUFF32X4 $0xdd, Z27, Z19, Z11
	VSHUFF32X4 $0x88, Z28, Z20, Z4
	VSHUFF32X4 $0xdd, Z28, Z20, Z12
	VSHUFF32X4 $0x88, Z29, Z21, Z5
	VSHUFF32X4 $0xdd, Z29, Z21, Z13
	VSHUFF32X4 $0x88, Z30, Z22, Z6
	VSHUFF32X4 $0xdd, Z30, Z22, Z14
	VSHUFF32X4 $0x88, Z31, Z23, Z7
	VSHUFF32X4 $0xdd, Z31, Z23, Z15
	MOVQ AX, R12
	LEAQ (AX)(R10*4), R13
	LEAQ (R13)(R10*4), R14
	LEAQ (R14)(R10*4), R15
	VMOVUPS Z0, (R12)
	VMOVUPS Z1, (R12)(R10*1)
	VMOVUPS Z2, (R12)(R10*2)
	VMOVUPS Z3, (R12)(R11*1)
	VMOVUPS Z4, (R13)
	VMOVUPS Z5, (R13)(R10*1)
	VMOVUPS Z6, (R13)(R10*2)
	VMOVUPS Z7, (R13)(R11*1)
	VMOVUPS Z8, (R14)
	VMOVUPS Z9, (R14)(R10*1)
	VMOVUPS Z10, (R14)(R10*2)
	VMOVUPS Z11, (R14)(R11*1)
	VMOVUPS Z12, (R15)
	VMOVUPS Z13, (R15)(R10*1)
	VMOVUPS Z14, (R15)(R10*2)
	VMOVUPS Z15, (R15)(R11*1)
	LEAQ (BX)(R8*8), BX // 16 rows on
	LEAQ (BX)(R8*8), BX
	ADDQ $64, AX
	SUBQ $16, CX
	JG t16jloop
	ADDQ $64, SI
	LEAQ (DI)(R10*8), DI // 16 columns on
	LEAQ (DI)(R10*8), DI
	SUBQ $16, DX
	JG t16dloop
	VZEROUPPER
	RET
