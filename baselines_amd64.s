//go:build amd64 && !purego

#include "textflag.h"

// AVX versions of adamMomentLanesGo and adamUpdateLanesGo (adam.go): each lane performs the
// scalar code's IEEE operations in the same order (no FMA), lane k takes the elements i ≡ k
// (mod 4), so both give identical bits.

DATA adamOne<>+0(SB)/8, $0x3ff0000000000000
GLOBL adamOne<>(SB), RODATA|NOPTR, $8
DATA adamMinDen<>+0(SB)/8, $0x2b2bff2ee48e0530
DATA adamMinDen<>+8(SB)/8, $0x2b2bff2ee48e0530
DATA adamMinDen<>+16(SB)/8, $0x2b2bff2ee48e0530
DATA adamMinDen<>+24(SB)/8, $0x2b2bff2ee48e0530
GLOBL adamMinDen<>(SB), RODATA|NOPTR, $32
DATA adamMax<>+0(SB)/8, $0x47efffffe0000000
DATA adamMax<>+8(SB)/8, $0x47efffffe0000000
DATA adamMax<>+16(SB)/8, $0x47efffffe0000000
DATA adamMax<>+24(SB)/8, $0x47efffffe0000000
GLOBL adamMax<>(SB), RODATA|NOPTR, $32
DATA adamNegMax<>+0(SB)/8, $0xc7efffffe0000000
DATA adamNegMax<>+8(SB)/8, $0xc7efffffe0000000
DATA adamNegMax<>+16(SB)/8, $0xc7efffffe0000000
DATA adamNegMax<>+24(SB)/8, $0xc7efffffe0000000
GLOBL adamNegMax<>(SB), RODATA|NOPTR, $32


// func adamMomentLanesAVX(grad, m, sv *float32, n int, b1, c1, b2, c2, sign, invBC1, invSqrtBC2, eps float64, lanes *[4]float64)
TEXT ·adamMomentLanesAVX(SB), NOSPLIT, $0-104
	MOVQ grad+0(FP), AX
	MOVQ m+8(FP), R8
	MOVQ sv+16(FP), BX
	MOVQ n+24(FP), CX
	VBROADCASTSD b1+32(FP), Y6
	VBROADCASTSD c1+40(FP), Y7
	VBROADCASTSD b2+48(FP), Y8
	VBROADCASTSD c2+56(FP), Y9
	VBROADCASTSD sign+64(FP), Y10
	VBROADCASTSD invBC1+72(FP), Y11
	VBROADCASTSD invSqrtBC2+80(FP), Y12
	VBROADCASTSD eps+88(FP), Y13
	VXORPD Y14, Y14, Y14         // Σu² lanes
	VXORPD Y15, Y15, Y15         // zero
	XORQ SI, SI
aloop:
	CMPQ SI, CX
	JGE  adone
	VCVTPS2PD (AX)(SI*4), Y0     // g
	VMULPD    Y0, Y10, Y0        // gi = sign·g
	VCVTPS2PD (R8)(SI*4), Y1     // m
	VMULPD    Y6, Y1, Y1         // β₁m
	VMULPD    Y0, Y7, Y2         // (1−β₁)gi
	VADDPD    Y2, Y1, Y1
	VMINPD    adamMax<>(SB), Y1, Y1
	VMAXPD    adamNegMax<>(SB), Y1, Y1
	VCVTPD2PSY Y1, X1
	VMOVUPS   X1, (R8)(SI*4)     // store m
	VCVTPS2PD X1, Y1
	VCVTPS2PD (BX)(SI*4), Y2     // √v
	VMULPD    Y8, Y2, Y3         // β₂·s
	VMULPD    Y2, Y3, Y3         // β₂·s·s
	VMULPD    Y9, Y0, Y4         // (1−β₂)·gi
	VMULPD    Y0, Y4, Y4         // (1−β₂)·gi·gi
	VADDPD    Y4, Y3, Y3
	VSQRTPD   Y3, Y3
	VCVTPD2PSY Y3, X3
	VMOVUPS   X3, (BX)(SI*4)     // store √v
	VCVTPS2PD X3, Y3
	VMULPD    Y12, Y3, Y3        // √v̂
	VADDPD    Y13, Y3, Y3        // d = √v̂ + ε
	VMAXPD    adamMinDen<>(SB), Y3, Y4
	VBROADCASTSD adamOne<>(SB), Y5
	VDIVPD    Y4, Y5, Y4
	VCMPPD    $0, Y15, Y3, Y5
	VANDNPD   Y4, Y5, Y4         // 1/d, zero-denominator rule
	VMULPD    Y11, Y1, Y1        // m̂ = m/(1−β₁^t)
	VMULPD    Y4, Y1, Y1         // u
	VMULPD    Y1, Y1, Y1
	VADDPD    Y1, Y14, Y14
	ADDQ      $4, SI
	JMP       aloop
adone:
	MOVQ    lanes+96(FP), DI
	VMOVUPD Y14, (DI)
	VZEROUPPER
	RET

// func adamUpdateLanesAVX(m, sv, theta *float32, n int, invBC1, invSqrtBC2, eps, scale, lr, wd float64)
TEXT ·adamUpdateLanesAVX(SB), NOSPLIT, $0-80
	MOVQ m+0(FP), R8
	MOVQ sv+8(FP), BX
	MOVQ theta+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSD invBC1+32(FP), Y11
	VBROADCASTSD invSqrtBC2+40(FP), Y12
	VBROADCASTSD eps+48(FP), Y13
	VBROADCASTSD scale+56(FP), Y8
	VBROADCASTSD lr+64(FP), Y9
	VBROADCASTSD wd+72(FP), Y10
	VBROADCASTSD adamOne<>(SB), Y14
	VXORPD Y15, Y15, Y15
	XORQ SI, SI
uloop:
	CMPQ SI, CX
	JGE  udone
	VCVTPS2PD (BX)(SI*4), Y3     // √v
	VMULPD    Y12, Y3, Y3
	VADDPD    Y13, Y3, Y3        // d
	VMAXPD    adamMinDen<>(SB), Y3, Y4
	VDIVPD    Y4, Y14, Y4
	VCMPPD    $0, Y15, Y3, Y5
	VANDNPD   Y4, Y5, Y4         // 1/d
	VCVTPS2PD (R8)(SI*4), Y1     // m
	VMULPD    Y11, Y1, Y1
	VMULPD    Y4, Y1, Y1         // u
	VMULPD    Y8, Y1, Y1         // u·scale
	VCVTPS2PD (DX)(SI*4), Y6     // θ
	VMULPD    Y6, Y10, Y7        // λθ
	VADDPD    Y7, Y1, Y1
	VMULPD    Y1, Y9, Y1         // η(u·scale + λθ)
	VSUBPD    Y1, Y6, Y6
	VMINPD    adamMax<>(SB), Y6, Y6
	VMAXPD    adamNegMax<>(SB), Y6, Y6
	VCVTPD2PSY Y6, X6
	VMOVUPS   X6, (DX)(SI*4)
	ADDQ      $4, SI
	JMP       uloop
udone:
	VZEROUPPER
	RET

DATA adafMaxInv<>+0(SB)/8, $0x54b249ad2594c37d
DATA adafMaxInv<>+8(SB)/8, $0x54b249ad2594c37d
DATA adafMaxInv<>+16(SB)/8, $0x54b249ad2594c37d
DATA adafMaxInv<>+24(SB)/8, $0x54b249ad2594c37d
GLOBL adafMaxInv<>(SB), RODATA|NOPTR, $32

// func adafactorSumLanesAVX(grad *float32, invCol *float64, n int, invRow float64, lanes *[4]float64)
// lanes[k] = Σ (g·min(invRow·invCol, 1e100))² over i ≡ k (mod 4): Algorithm 4 line 10's ḡ.
TEXT ·adafactorSumLanesAVX(SB), NOSPLIT, $0-40
	MOVQ grad+0(FP), AX
	MOVQ invCol+8(FP), BX
	MOVQ n+16(FP), CX
	VBROADCASTSD invRow+24(FP), Y10
	VXORPD Y8, Y8, Y8
	XORQ SI, SI
sloop:
	CMPQ SI, CX
	JGE  sdone
	VMOVUPD   (BX)(SI*8), Y1
	VMULPD    Y1, Y10, Y1        // invRow·invCol
	VMINPD    adafMaxInv<>(SB), Y1, Y1
	VCVTPS2PD (AX)(SI*4), Y0
	VMULPD    Y1, Y0, Y0         // ḡ
	VMULPD    Y0, Y0, Y0
	VADDPD    Y0, Y8, Y8
	ADDQ      $4, SI
	JMP       sloop
sdone:
	MOVQ    lanes+32(FP), DI
	VMOVUPD Y8, (DI)
	VZEROUPPER
	RET

// func adafactorUpdateLanesAVX(grad, m, theta *float32, invCol *float64, n int, invRow, b1, gScale, wd float64)
// Algorithm 4 lines 12–13: m ← β₁m + gScale·ḡ, θ ← θ − (m + λθ), both saturated to float32.
TEXT ·adafactorUpdateLanesAVX(SB), NOSPLIT, $0-72
	MOVQ grad+0(FP), AX
	MOVQ m+8(FP), R8
	MOVQ theta+16(FP), DX
	MOVQ invCol+24(FP), BX
	MOVQ n+32(FP), CX
	VBROADCASTSD invRow+40(FP), Y10
	VBROADCASTSD b1+48(FP), Y9
	VBROADCASTSD gScale+56(FP), Y11
	VBROADCASTSD wd+64(FP), Y12
	XORQ SI, SI
uuloop:
	CMPQ SI, CX
	JGE  uudone
	VMOVUPD   (BX)(SI*8), Y1
	VMULPD    Y1, Y10, Y1
	VMINPD    adafMaxInv<>(SB), Y1, Y1   // 1/√f
	VCVTPS2PD (AX)(SI*4), Y0
	VMULPD    Y1, Y0, Y0         // ḡ
	VMULPD    Y0, Y11, Y0        // gScale·ḡ
	VCVTPS2PD (R8)(SI*4), Y5
	VMULPD    Y9, Y5, Y5         // β₁m
	VADDPD    Y0, Y5, Y5
	VMINPD    adamMax<>(SB), Y5, Y5
	VMAXPD    adamNegMax<>(SB), Y5, Y5
	VCVTPD2PSY Y5, X5
	VMOVUPS   X5, (R8)(SI*4)
	VCVTPS2PD X5, Y5
	VCVTPS2PD (DX)(SI*4), Y6     // θ
	VMULPD    Y6, Y12, Y7        // λθ
	VADDPD    Y7, Y5, Y7         // m + λθ
	VSUBPD    Y7, Y6, Y6
	VMINPD    adamMax<>(SB), Y6, Y6
	VMAXPD    adamNegMax<>(SB), Y6, Y6
	VCVTPD2PSY Y6, X6
	VMOVUPS   X6, (DX)(SI*4)
	ADDQ      $4, SI
	JMP       uuloop
uudone:
	VZEROUPPER
	RET
