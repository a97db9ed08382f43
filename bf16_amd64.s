//go:build amd64 && !purego

#include "textflag.h"

// AVX versions (four elements per iteration) and AVX-512 versions (eight) of fisherLanesBF16,
// updateLanesBF16 and updateFactoredLanesBF16 (bf16_passes.go): float64 arithmetic in the same order as the Go code (no FMA),
// bfloat16 loads widened exactly, stores rounded stochastically by BF16_ROUND, so that the
// results are bit-identical to the portable loops.

DATA bf16Mix1<>+0(SB)/4, $0x7feb352d
DATA bf16Mix1<>+4(SB)/4, $0x7feb352d
DATA bf16Mix1<>+8(SB)/4, $0x7feb352d
DATA bf16Mix1<>+12(SB)/4, $0x7feb352d
DATA bf16Mix1<>+16(SB)/4, $0x7feb352d
DATA bf16Mix1<>+20(SB)/4, $0x7feb352d
DATA bf16Mix1<>+24(SB)/4, $0x7feb352d
DATA bf16Mix1<>+28(SB)/4, $0x7feb352d
GLOBL bf16Mix1<>(SB), RODATA|NOPTR, $32
DATA bf16Mix2<>+0(SB)/4, $0x846ca68b
DATA bf16Mix2<>+4(SB)/4, $0x846ca68b
DATA bf16Mix2<>+8(SB)/4, $0x846ca68b
DATA bf16Mix2<>+12(SB)/4, $0x846ca68b
DATA bf16Mix2<>+16(SB)/4, $0x846ca68b
DATA bf16Mix2<>+20(SB)/4, $0x846ca68b
DATA bf16Mix2<>+24(SB)/4, $0x846ca68b
DATA bf16Mix2<>+28(SB)/4, $0x846ca68b
GLOBL bf16Mix2<>(SB), RODATA|NOPTR, $32
DATA bf16MagMask<>+0(SB)/4, $0x7fffffff
DATA bf16MagMask<>+4(SB)/4, $0x7fffffff
DATA bf16MagMask<>+8(SB)/4, $0x7fffffff
DATA bf16MagMask<>+12(SB)/4, $0x7fffffff
DATA bf16MagMask<>+16(SB)/4, $0x7fffffff
DATA bf16MagMask<>+20(SB)/4, $0x7fffffff
DATA bf16MagMask<>+24(SB)/4, $0x7fffffff
DATA bf16MagMask<>+28(SB)/4, $0x7fffffff
GLOBL bf16MagMask<>(SB), RODATA|NOPTR, $32
DATA bf16Ceiling<>+0(SB)/4, $0x7f7fffff
DATA bf16Ceiling<>+4(SB)/4, $0x7f7fffff
DATA bf16Ceiling<>+8(SB)/4, $0x7f7fffff
DATA bf16Ceiling<>+12(SB)/4, $0x7f7fffff
DATA bf16Ceiling<>+16(SB)/4, $0x7f7fffff
DATA bf16Ceiling<>+20(SB)/4, $0x7f7fffff
DATA bf16Ceiling<>+24(SB)/4, $0x7f7fffff
DATA bf16Ceiling<>+28(SB)/4, $0x7f7fffff
GLOBL bf16Ceiling<>(SB), RODATA|NOPTR, $32
DATA bf16SignMask<>+0(SB)/4, $0x80000000
DATA bf16SignMask<>+4(SB)/4, $0x80000000
DATA bf16SignMask<>+8(SB)/4, $0x80000000
DATA bf16SignMask<>+12(SB)/4, $0x80000000
DATA bf16SignMask<>+16(SB)/4, $0x80000000
DATA bf16SignMask<>+20(SB)/4, $0x80000000
DATA bf16SignMask<>+24(SB)/4, $0x80000000
DATA bf16SignMask<>+28(SB)/4, $0x80000000
GLOBL bf16SignMask<>(SB), RODATA|NOPTR, $32
DATA bf16HighMask<>+0(SB)/4, $0xffff0000
DATA bf16HighMask<>+4(SB)/4, $0xffff0000
DATA bf16HighMask<>+8(SB)/4, $0xffff0000
DATA bf16HighMask<>+12(SB)/4, $0xffff0000
DATA bf16HighMask<>+16(SB)/4, $0xffff0000
DATA bf16HighMask<>+20(SB)/4, $0xffff0000
DATA bf16HighMask<>+24(SB)/4, $0xffff0000
DATA bf16HighMask<>+28(SB)/4, $0xffff0000
GLOBL bf16HighMask<>(SB), RODATA|NOPTR, $32
DATA bf16Zero<>+0(SB)/8, $0
DATA bf16Zero<>+8(SB)/8, $0
DATA bf16Zero<>+16(SB)/8, $0
DATA bf16Zero<>+24(SB)/8, $0
GLOBL bf16Zero<>(SB), RODATA|NOPTR, $32
DATA bf16One<>+0(SB)/8, $0x3ff0000000000000
GLOBL bf16One<>(SB), RODATA|NOPTR, $8
DATA bf16MinDen<>+0(SB)/8, $0x2b2bff2ee48e0530
DATA bf16MinDen<>+8(SB)/8, $0x2b2bff2ee48e0530
DATA bf16MinDen<>+16(SB)/8, $0x2b2bff2ee48e0530
DATA bf16MinDen<>+24(SB)/8, $0x2b2bff2ee48e0530
GLOBL bf16MinDen<>(SB), RODATA|NOPTR, $32
DATA bf16Max<>+0(SB)/8, $0x47efffffe0000000
DATA bf16Max<>+8(SB)/8, $0x47efffffe0000000
DATA bf16Max<>+16(SB)/8, $0x47efffffe0000000
DATA bf16Max<>+24(SB)/8, $0x47efffffe0000000
GLOBL bf16Max<>(SB), RODATA|NOPTR, $32
DATA bf16NegMax<>+0(SB)/8, $0xc7efffffe0000000
DATA bf16NegMax<>+8(SB)/8, $0xc7efffffe0000000
DATA bf16NegMax<>+16(SB)/8, $0xc7efffffe0000000
DATA bf16NegMax<>+24(SB)/8, $0xc7efffffe0000000
GLOBL bf16NegMax<>(SB), RODATA|NOPTR, $32

// BF16_LOAD widens the four bfloat16 at SRC to float64 in Y (X is its lower half).
#define BF16_LOAD(SRC, X, Y) \
	VPMOVZXWD SRC, X; \
	VPSLLD    $16, X, X; \
	VCVTPS2PD X, Y

// BF16_ROUND is storeBF16 for four lanes: F holds four float32; CTR the counters of their
// elements, advanced by STEP; T1 and T2 are scratch. It stores the four bfloat16 at DST and
// leaves their float32 values in F.
//   r   = lowbias32's first two rounds of CTR, upper 16 bits   (randomBits)
//   mag = min(|F| bits + r, 0x7f7fffff)                       (roundBF16; saturates)
//   F   = (sign | mag) with the low 16 bits cleared
#define BF16_ROUND(F, CTR, STEP, T1, T2, DST) \
	VPSRLD    $16, CTR, T1; \
	VPXOR     CTR, T1, T1; \
	VPMULLD   bf16Mix1<>(SB), T1, T1; \
	VPSRLD    $15, T1, T2; \
	VPXOR     T2, T1, T1; \
	VPMULLD   bf16Mix2<>(SB), T1, T1; \
	VPSRLD    $16, T1, T1; \
	VPADDD    STEP, CTR, CTR; \
	VPAND     bf16MagMask<>(SB), F, T2; \
	VPADDD    T1, T2, T2; \
	VPMINUD   bf16Ceiling<>(SB), T2, T2; \
	VPAND     bf16SignMask<>(SB), F, T1; \
	VPOR      T1, T2, T2; \
	VPAND     bf16HighMask<>(SB), T2, F; \
	VPSRLD    $16, T2, T2; \
	VPACKUSDW T2, T2, T2; \
	VMOVQ     T2, DST

// INVERSE sets INV = 1/D with the zero-denominator rule (1/max(D, MinDenominator), 0 where
// D = 0); MASK is scratch.
#define INVERSE(D, INV, ONE, MASK) \
	VMAXPD  bf16MinDen<>(SB), D, INV; \
	VDIVPD  INV, ONE, INV; \
	VCMPPD  $0, bf16Zero<>(SB), D, MASK; \
	VANDNPD INV, MASK, INV

// MOMENTUM is line 11 with bfloat16 m: M ← β₁·m + gScale·(G·INV), clamped to float32's range,
// rounded and stored at DST; M is left holding the stored value as float64.
#define MOMENTUM(G, INV, B1, GSCALE, SRC, M, XM, CTR, STEP, T1, T2) \
	VMULPD     INV, G, G; \
	VMULPD     G, GSCALE, G; \
	BF16_LOAD(SRC, XM, M); \
	VMULPD     B1, M, M; \
	VADDPD     G, M, M; \
	VMINPD     bf16Max<>(SB), M, M; \
	VMAXPD     bf16NegMax<>(SB), M, M; \
	VCVTPD2PSY M, XM; \
	BF16_ROUND(XM, CTR, STEP, T1, T2, SRC); \
	VCVTPS2PD  XM, M

// THETA is line 14: θ ← θ − η(m + wScale·θ·INV), clamped to float32's range, at DST.
#define THETA(DST, M, INV, WSCALE, LR, T, U, XT) \
	VCVTPS2PD  DST, T; \
	VMULPD     INV, T, U; \
	VMULPD     U, WSCALE, U; \
	VADDPD     U, M, U; \
	VMULPD     U, LR, U; \
	VSUBPD     U, T, T; \
	VMINPD     bf16Max<>(SB), T, T; \
	VMAXPD     bf16NegMax<>(SB), T, T; \
	VCVTPD2PSY T, XT; \
	VMOVUPS    XT, DST

// func fisherLanesBF16AVX(grad *float32, sf *uint16, theta *float32, n int, b2, c2, eps float64, seq *[8]uint32, lanes *[8]float64)
TEXT ·fisherLanesBF16AVX(SB), NOSPLIT, $0-72
	MOVQ grad+0(FP), AX
	MOVQ sf+8(FP), BX
	MOVQ theta+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSD b2+32(FP), Y10
	VBROADCASTSD c2+40(FP), Y11
	VBROADCASTSD eps+48(FP), Y12
	MOVQ seq+56(FP), DI
	VMOVDQU (DI), X14                // counters
	VMOVDQU 16(DI), X15              // their increment
	VBROADCASTSD bf16One<>(SB), Y13
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	XORQ SI, SI
bfloop:
	CMPQ SI, CX
	JGE  bfdone
	VCVTPS2PD (AX)(SI*4), Y0         // g
	BF16_LOAD((BX)(SI*2), X1, Y1)    // √f
	VMULPD    Y10, Y1, Y2            // β̂₂·s
	VMULPD    Y1, Y2, Y2             // β̂₂·s·s
	VMULPD    Y11, Y0, Y3            // (1−β̂₂)·g
	VMULPD    Y0, Y3, Y3             // (1−β̂₂)·g·g
	VADDPD    Y3, Y2, Y2             // line 7: f
	VSQRTPD   Y2, Y2
	VMINPD    bf16Max<>(SB), Y2, Y2  // clamp (√ ≥ 0: the lower bound cannot bind)
	VCVTPD2PSY Y2, X2
	BF16_ROUND(X2, X14, X15, X3, X5, (BX)(SI*2))
	VCVTPS2PD X2, Y2                 // stored √f
	VADDPD    Y12, Y2, Y2            // d = √f + ε̂
	INVERSE(Y2, Y4, Y13, Y5)
	VMULPD    Y4, Y0, Y6             // ḡ = g/d
	VMULPD    Y6, Y6, Y6
	VADDPD    Y6, Y8, Y8
	VCVTPS2PD (DX)(SI*4), Y7         // θ
	VMULPD    Y4, Y7, Y7             // ḡ_w = θ/d
	VMULPD    Y7, Y7, Y7
	VADDPD    Y7, Y9, Y9
	ADDQ      $4, SI
	JMP       bfloop
bfdone:
	MOVQ    lanes+64(FP), DI
	VMOVUPD Y8, (DI)
	VMOVUPD Y9, 32(DI)
	VZEROUPPER
	RET

// func updateLanesBF16AVX(grad *float32, sf, m *uint16, theta *float32, n int, b1, gScale, wScale, lr, eps float64, seq *[8]uint32)
TEXT ·updateLanesBF16AVX(SB), NOSPLIT, $0-88
	MOVQ grad+0(FP), AX
	MOVQ sf+8(FP), BX
	MOVQ m+16(FP), R8
	MOVQ theta+24(FP), DX
	MOVQ n+32(FP), CX
	VBROADCASTSD b1+40(FP), Y9
	VBROADCASTSD gScale+48(FP), Y10
	VBROADCASTSD wScale+56(FP), Y11
	VBROADCASTSD lr+64(FP), Y12
	VBROADCASTSD eps+72(FP), Y14
	MOVQ seq+80(FP), DI
	VMOVDQU (DI), X8
	VMOVDQU 16(DI), X15
	VBROADCASTSD bf16One<>(SB), Y13
	XORQ SI, SI
buloop:
	CMPQ SI, CX
	JGE  budone
	BF16_LOAD((BX)(SI*2), X1, Y1)    // √f
	VADDPD    Y14, Y1, Y2            // d
	INVERSE(Y2, Y4, Y13, Y5)
	VCVTPS2PD (AX)(SI*4), Y0         // g
	MOMENTUM(Y0, Y4, Y9, Y10, (R8)(SI*2), Y5, X5, X8, X15, X0, X1)
	THETA((DX)(SI*4), Y5, Y4, Y11, Y12, Y6, Y7, X6)
	ADDQ      $4, SI
	JMP       buloop
budone:
	VZEROUPPER
	RET

// func updateFactoredLanesBF16AVX(grad *float32, m *uint16, theta *float32, colF *float64, n int, rowF, b1, gScale, wScale, lr, eps float64, seq *[8]uint32)
TEXT ·updateFactoredLanesBF16AVX(SB), NOSPLIT, $0-96
	MOVQ grad+0(FP), AX
	MOVQ m+8(FP), R8
	MOVQ theta+16(FP), DX
	MOVQ colF+24(FP), BX
	MOVQ n+32(FP), CX
	VBROADCASTSD rowF+40(FP), Y3
	VBROADCASTSD b1+48(FP), Y9
	VBROADCASTSD gScale+56(FP), Y10
	VBROADCASTSD wScale+64(FP), Y11
	VBROADCASTSD lr+72(FP), Y12
	VBROADCASTSD eps+80(FP), Y14
	MOVQ seq+88(FP), DI
	VMOVDQU (DI), X8
	VMOVDQU 16(DI), X15
	VBROADCASTSD bf16One<>(SB), Y13
	XORQ SI, SI
bfuloop:
	CMPQ SI, CX
	JGE  bfudone
	VMOVUPD   (BX)(SI*8), Y1         // √C_j
	VMULPD    Y1, Y3, Y2             // √f = √R_i/√ΣR · √C_j
	VADDPD    Y14, Y2, Y2            // d
	INVERSE(Y2, Y4, Y13, Y5)
	VCVTPS2PD (AX)(SI*4), Y0         // g
	MOMENTUM(Y0, Y4, Y9, Y10, (R8)(SI*2), Y5, X5, X8, X15, X0, X1)
	THETA((DX)(SI*4), Y5, Y4, Y11, Y12, Y6, Y7, X6)
	ADDQ      $4, SI
	JMP       bfuloop
bfudone:
	VZEROUPPER
	RET

// The AVX-512 loops: eight elements per iteration, float64 arithmetic in ZMM registers, the
// integer rounding in YMM (AVX2). The sums keep the four-lane order of the Go loops: each
// iteration adds elements i..i+3 to the four accumulators, then i+4..i+7.

// BF16_LOAD8 widens the eight bfloat16 at SRC to float64 in Z (Y is its lower half).
#define BF16_LOAD8(SRC, Y, Z) \
	VPMOVZXWD SRC, Y; \
	VPSLLD    $16, Y, Y; \
	VCVTPS2PD Y, Z

// BF16_ROUND8 is BF16_ROUND for eight lanes in YMM registers; XT2 is T2's lower half. (The
// pack is VPACKUSDW and VPERMQ: VPMOVDW to memory is slow on some CPUs.)
#define BF16_ROUND8(F, CTR, STEP, T1, T2, XT2, DST) \
	VPSRLD    $16, CTR, T1; \
	VPXOR     CTR, T1, T1; \
	VPMULLD   bf16Mix1<>(SB), T1, T1; \
	VPSRLD    $15, T1, T2; \
	VPXOR     T2, T1, T1; \
	VPMULLD   bf16Mix2<>(SB), T1, T1; \
	VPSRLD    $16, T1, T1; \
	VPADDD    STEP, CTR, CTR; \
	VPAND     bf16MagMask<>(SB), F, T2; \
	VPADDD    T1, T2, T2; \
	VPMINUD   bf16Ceiling<>(SB), T2, T2; \
	VPAND     bf16SignMask<>(SB), F, T1; \
	VPOR      T1, T2, T2; \
	VPAND     bf16HighMask<>(SB), T2, F; \
	VPSRLD    $16, T2, T2; \
	VPACKUSDW T2, T2, T2; \
	VPERMQ    $0x08, T2, T2; \
	VMOVDQU   XT2, DST

// INVERSE8 is INVERSE for eight lanes: Z16 holds 0, Z18 MinDenominator, Z13 1.
#define INVERSE8(D, INV) \
	VMAXPD  Z18, D, INV; \
	VDIVPD  INV, Z13, INV; \
	VCMPPD  $0, Z16, D, K1; \
	VXORPD  INV, INV, K1, INV

// ADD4X2 adds the lower and then the upper four float64 of X into the accumulator ACC (YMM);
// T is scratch.
#define ADD4X2(X, XY, ACC, T) \
	VEXTRACTF64X4 $1, X, T; \
	VADDPD        XY, ACC, ACC; \
	VADDPD        T, ACC, ACC

// CONSTS8 loads the constants the AVX-512 loops share: Z13 1, Z16 0, Z17 MaxFloat32,
// Z18 MinDenominator, Z20 −MaxFloat32.
#define CONSTS8 \
	VBROADCASTSD bf16One<>(SB), Z13; \
	VPXORQ       Z16, Z16, Z16; \
	VBROADCASTSD bf16Max<>(SB), Z17; \
	VBROADCASTSD bf16MinDen<>(SB), Z18; \
	VBROADCASTSD bf16NegMax<>(SB), Z20

// MOMENTUM8 and THETA8 are MOMENTUM and THETA for eight lanes.
#define MOMENTUM8(G, INV, B1, GSCALE, SRC, M, YM, CTR, STEP, T1, T2, XT2) \
	VMULPD     INV, G, G; \
	VMULPD     G, GSCALE, G; \
	BF16_LOAD8(SRC, YM, M); \
	VMULPD     B1, M, M; \
	VADDPD     G, M, M; \
	VMINPD     Z17, M, M; \
	VMAXPD     Z20, M, M; \
	VCVTPD2PS  M, YM; \
	BF16_ROUND8(YM, CTR, STEP, T1, T2, XT2, SRC); \
	VCVTPS2PD  YM, M

#define THETA8(DST, M, INV, WSCALE, LR, T, U, YT) \
	VCVTPS2PD  DST, T; \
	VMULPD     INV, T, U; \
	VMULPD     U, WSCALE, U; \
	VADDPD     U, M, U; \
	VMULPD     U, LR, U; \
	VSUBPD     U, T, T; \
	VMINPD     Z17, T, T; \
	VMAXPD     Z20, T, T; \
	VCVTPD2PS  T, YT; \
	VMOVUPS    YT, DST

// func fisherLanesBF16AVX512(grad *float32, sf *uint16, theta *float32, n int, b2, c2, eps float64, seq *[16]uint32, lanes *[8]float64)
TEXT ·fisherLanesBF16AVX512(SB), NOSPLIT, $0-72
	MOVQ grad+0(FP), AX
	MOVQ sf+8(FP), BX
	MOVQ theta+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSD b2+32(FP), Z10
	VBROADCASTSD c2+40(FP), Z11
	VBROADCASTSD eps+48(FP), Z12
	MOVQ seq+56(FP), DI
	VMOVDQU (DI), Y14                // counters
	VMOVDQU 32(DI), Y15              // their increment
	CONSTS8
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	XORQ SI, SI
f8loop:
	CMPQ SI, CX
	JGE  f8done
	VCVTPS2PD (AX)(SI*4), Z0         // g
	BF16_LOAD8((BX)(SI*2), Y1, Z1)   // √f
	VMULPD    Z10, Z1, Z2            // β̂₂·s
	VMULPD    Z1, Z2, Z2             // β̂₂·s·s
	VMULPD    Z11, Z0, Z3            // (1−β̂₂)·g
	VMULPD    Z0, Z3, Z3             // (1−β̂₂)·g·g
	VADDPD    Z3, Z2, Z2             // line 7: f
	VSQRTPD   Z2, Z2
	VMINPD    Z17, Z2, Z2            // clamp (√ ≥ 0: the lower bound cannot bind)
	VCVTPD2PS Z2, Y2
	BF16_ROUND8(Y2, Y14, Y15, Y3, Y5, X5, (BX)(SI*2))
	VCVTPS2PD Y2, Z2                 // stored √f
	VADDPD    Z12, Z2, Z2            // d = √f + ε̂
	INVERSE8(Z2, Z4)
	VMULPD    Z4, Z0, Z6             // ḡ = g/d
	VMULPD    Z6, Z6, Z6
	ADD4X2(Z6, Y6, Y8, Y7)
	VCVTPS2PD (DX)(SI*4), Z7         // θ
	VMULPD    Z4, Z7, Z7             // ḡ_w = θ/d
	VMULPD    Z7, Z7, Z7
	ADD4X2(Z7, Y7, Y9, Y6)
	ADDQ      $8, SI
	JMP       f8loop
f8done:
	MOVQ    lanes+64(FP), DI
	VMOVUPD Y8, (DI)
	VMOVUPD Y9, 32(DI)
	VZEROUPPER
	RET

// func updateLanesBF16AVX512(grad *float32, sf, m *uint16, theta *float32, n int, b1, gScale, wScale, lr, eps float64, seq *[16]uint32)
TEXT ·updateLanesBF16AVX512(SB), NOSPLIT, $0-88
	MOVQ grad+0(FP), AX
	MOVQ sf+8(FP), BX
	MOVQ m+16(FP), R8
	MOVQ theta+24(FP), DX
	MOVQ n+32(FP), CX
	VBROADCASTSD b1+40(FP), Z9
	VBROADCASTSD gScale+48(FP), Z10
	VBROADCASTSD wScale+56(FP), Z11
	VBROADCASTSD lr+64(FP), Z12
	VBROADCASTSD eps+72(FP), Z14
	MOVQ seq+80(FP), DI
	VMOVDQU (DI), Y8
	VMOVDQU 32(DI), Y15
	CONSTS8
	XORQ SI, SI
u8loop:
	CMPQ SI, CX
	JGE  u8done
	BF16_LOAD8((BX)(SI*2), Y1, Z1)   // √f
	VADDPD    Z14, Z1, Z2            // d
	INVERSE8(Z2, Z4)
	VCVTPS2PD (AX)(SI*4), Z0         // g
	MOMENTUM8(Z0, Z4, Z9, Z10, (R8)(SI*2), Z5, Y5, Y8, Y15, Y0, Y1, X1)
	THETA8((DX)(SI*4), Z5, Z4, Z11, Z12, Z6, Z7, Y6)
	ADDQ      $8, SI
	JMP       u8loop
u8done:
	VZEROUPPER
	RET

// func updateFactoredLanesBF16AVX512(grad *float32, m *uint16, theta *float32, colF *float64, n int, rowF, b1, gScale, wScale, lr, eps float64, seq *[16]uint32)
TEXT ·updateFactoredLanesBF16AVX512(SB), NOSPLIT, $0-96
	MOVQ grad+0(FP), AX
	MOVQ m+8(FP), R8
	MOVQ theta+16(FP), DX
	MOVQ colF+24(FP), BX
	MOVQ n+32(FP), CX
	VBROADCASTSD rowF+40(FP), Z3
	VBROADCASTSD b1+48(FP), Z9
	VBROADCASTSD gScale+56(FP), Z10
	VBROADCASTSD wScale+64(FP), Z11
	VBROADCASTSD lr+72(FP), Z12
	VBROADCASTSD eps+80(FP), Z14
	MOVQ seq+88(FP), DI
	VMOVDQU (DI), Y8
	VMOVDQU 32(DI), Y15
	CONSTS8
	XORQ SI, SI
fu8loop:
	CMPQ SI, CX
	JGE  fu8done
	VMOVUPD   (BX)(SI*8), Z1         // √C_j
	VMULPD    Z1, Z3, Z2             // √f = √R_i/√ΣR · √C_j
	VADDPD    Z14, Z2, Z2            // d
	INVERSE8(Z2, Z4)
	VCVTPS2PD (AX)(SI*4), Z0         // g
	MOMENTUM8(Z0, Z4, Z9, Z10, (R8)(SI*2), Z5, Y5, Y8, Y15, Y0, Y1, X1)
	THETA8((DX)(SI*4), Z5, Z4, Z11, Z12, Z6, Z7, Y6)
	ADDQ      $8, SI
	JMP       fu8loop
fu8done:
	VZEROUPPER
	RET

// Adam's loops take *adamConsts: b1 0, c1 8, b2 16, c2 24, sign 32, invBC1 40, invSqrtBC2 48,
// eps 56, scale 64, lr 72, wd 80 (byte offsets).
#define ADAM_CONSTS(P) \
	VBROADCASTSD 0(P), Z21; \
	VBROADCASTSD 8(P), Z22; \
	VBROADCASTSD 16(P), Z23; \
	VBROADCASTSD 24(P), Z24; \
	VBROADCASTSD 32(P), Z25; \
	VBROADCASTSD 40(P), Z26; \
	VBROADCASTSD 48(P), Z27; \
	VBROADCASTSD 56(P), Z28; \
	VBROADCASTSD 64(P), Z29; \
	VBROADCASTSD 72(P), Z30; \
	VBROADCASTSD 80(P), Z31

// func adamMomentLanesBF16AVX512(grad *float32, m, sv *uint16, n int, c *adamConsts, seqM, seqV *[16]uint32, lanes *[4]float64)
TEXT ·adamMomentLanesBF16AVX512(SB), NOSPLIT, $0-64
	MOVQ grad+0(FP), AX
	MOVQ m+8(FP), R8
	MOVQ sv+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), DI
	ADAM_CONSTS(DI)
	MOVQ seqM+40(FP), DI
	VMOVDQU (DI), Y8
	VMOVDQU 32(DI), Y9
	MOVQ seqV+48(FP), DI
	VMOVDQU (DI), Y10
	VMOVDQU 32(DI), Y11
	CONSTS8
	VXORPD Y12, Y12, Y12             // Σu² lanes
	XORQ SI, SI
am8loop:
	CMPQ SI, CX
	JGE  am8done
	VCVTPS2PD (AX)(SI*4), Z0         // g
	VMULPD    Z0, Z25, Z0            // gi = sign·g
	BF16_LOAD8((R8)(SI*2), Y1, Z1)   // m
	VMULPD    Z21, Z1, Z1            // β₁m
	VMULPD    Z0, Z22, Z2            // (1−β₁)gi
	VADDPD    Z2, Z1, Z1
	VMINPD    Z17, Z1, Z1
	VMAXPD    Z20, Z1, Z1
	VCVTPD2PS Z1, Y1
	BF16_ROUND8(Y1, Y8, Y9, Y14, Y15, X15, (R8)(SI*2))
	VCVTPS2PD Y1, Z1                 // stored m
	BF16_LOAD8((BX)(SI*2), Y2, Z2)   // √v
	VMULPD    Z23, Z2, Z3            // β₂·s
	VMULPD    Z2, Z3, Z3             // β₂·s·s
	VMULPD    Z24, Z0, Z4            // (1−β₂)·gi
	VMULPD    Z0, Z4, Z4             // (1−β₂)·gi·gi
	VADDPD    Z4, Z3, Z3
	VSQRTPD   Z3, Z3
	VMINPD    Z17, Z3, Z3
	VCVTPD2PS Z3, Y3
	BF16_ROUND8(Y3, Y10, Y11, Y14, Y15, X15, (BX)(SI*2))
	VCVTPS2PD Y3, Z3                 // stored √v
	VMULPD    Z27, Z3, Z3            // √v̂
	VADDPD    Z28, Z3, Z3            // d = √v̂ + ε
	INVERSE8(Z3, Z4)
	VMULPD    Z26, Z1, Z1            // m̂ = m/(1−β₁^t)
	VMULPD    Z4, Z1, Z1             // u
	VMULPD    Z1, Z1, Z1
	ADD4X2(Z1, Y1, Y12, Y5)
	ADDQ      $8, SI
	JMP       am8loop
am8done:
	MOVQ    lanes+56(FP), DI
	VMOVUPD Y12, (DI)
	VZEROUPPER
	RET

// func adamUpdateLanesBF16AVX512(m, sv *uint16, theta *float32, n int, c *adamConsts)
TEXT ·adamUpdateLanesBF16AVX512(SB), NOSPLIT, $0-40
	MOVQ m+0(FP), R8
	MOVQ sv+8(FP), BX
	MOVQ theta+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), DI
	ADAM_CONSTS(DI)
	CONSTS8
	XORQ SI, SI
au8loop:
	CMPQ SI, CX
	JGE  au8done
	BF16_LOAD8((BX)(SI*2), Y3, Z3)   // √v
	VMULPD    Z27, Z3, Z3
	VADDPD    Z28, Z3, Z3            // d
	INVERSE8(Z3, Z4)
	BF16_LOAD8((R8)(SI*2), Y1, Z1)   // m
	VMULPD    Z26, Z1, Z1
	VMULPD    Z4, Z1, Z1             // u
	VMULPD    Z29, Z1, Z1            // u·scale
	VCVTPS2PD (DX)(SI*4), Z6         // θ
	VMULPD    Z6, Z31, Z7            // λθ
	VADDPD    Z7, Z1, Z1
	VMULPD    Z1, Z30, Z1            // η(u·scale + λθ)
	VSUBPD    Z1, Z6, Z6
	VMINPD    Z17, Z6, Z6
	VMAXPD    Z20, Z6, Z6
	VCVTPD2PS Z6, Y6
	VMOVUPS   Y6, (DX)(SI*4)
	ADDQ      $8, SI
	JMP       au8loop
au8done:
	VZEROUPPER
	RET

DATA bf16MaxInv<>+0(SB)/8, $0x54b249ad2594c37d
GLOBL bf16MaxInv<>(SB), RODATA|NOPTR, $8

// func adafactorUpdateLanesBF16AVX512(grad *float32, m *uint16, theta *float32, invCol *float64, n int, invRow, b1, gScale, wd float64, seq *[16]uint32)
TEXT ·adafactorUpdateLanesBF16AVX512(SB), NOSPLIT, $0-80
	MOVQ grad+0(FP), AX
	MOVQ m+8(FP), R8
	MOVQ theta+16(FP), DX
	MOVQ invCol+24(FP), BX
	MOVQ n+32(FP), CX
	VBROADCASTSD invRow+40(FP), Z3
	VBROADCASTSD b1+48(FP), Z9
	VBROADCASTSD gScale+56(FP), Z10
	VBROADCASTSD wd+64(FP), Z11
	VBROADCASTSD bf16MaxInv<>(SB), Z19
	MOVQ seq+72(FP), DI
	VMOVDQU (DI), Y8
	VMOVDQU 32(DI), Y15
	CONSTS8
	XORQ SI, SI
af8loop:
	CMPQ SI, CX
	JGE  af8done
	VMOVUPD   (BX)(SI*8), Z1         // 1/√C_j
	VMULPD    Z1, Z3, Z4             // 1/√f = invRow·invCol
	VMINPD    Z19, Z4, Z4            // at most 1/MinDenominator
	VCVTPS2PD (AX)(SI*4), Z0         // g
	MOMENTUM8(Z0, Z4, Z9, Z10, (R8)(SI*2), Z5, Y5, Y8, Y15, Y0, Y1, X1)
	VCVTPS2PD (DX)(SI*4), Z6         // θ
	VMULPD    Z6, Z11, Z7            // λθ
	VADDPD    Z7, Z5, Z7             // m + λθ
	VSUBPD    Z7, Z6, Z6             // line 13
	VMINPD    Z17, Z6, Z6
	VMAXPD    Z20, Z6, Z6
	VCVTPD2PS Z6, Y6
	VMOVUPS   Y6, (DX)(SI*4)
	ADDQ      $8, SI
	JMP       af8loop
af8done:
	VZEROUPPER
	RET
