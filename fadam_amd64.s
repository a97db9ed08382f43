//go:build amd64 && !purego

#include "textflag.h"

// AVX (ymm, 4 float64 lanes) versions of fisherLanes and updateLanes in kernel_fadam.go. Every
// lane performs exactly the scalar code's IEEE operations in the same order (no FMA), and lane k
// accumulates the elements i ≡ k (mod 4), as the pure-Go code does, so both give identical bits.

DATA fadamOne<>+0(SB)/8, $0x3ff0000000000000
GLOBL fadamOne<>(SB), RODATA|NOPTR, $8
DATA fadamMinDen<>+0(SB)/8, $0x2b2bff2ee48e0530
DATA fadamMinDen<>+8(SB)/8, $0x2b2bff2ee48e0530
DATA fadamMinDen<>+16(SB)/8, $0x2b2bff2ee48e0530
DATA fadamMinDen<>+24(SB)/8, $0x2b2bff2ee48e0530
GLOBL fadamMinDen<>(SB), RODATA|NOPTR, $32
DATA fadamMax<>+0(SB)/8, $0x47efffffe0000000
DATA fadamMax<>+8(SB)/8, $0x47efffffe0000000
DATA fadamMax<>+16(SB)/8, $0x47efffffe0000000
DATA fadamMax<>+24(SB)/8, $0x47efffffe0000000
GLOBL fadamMax<>(SB), RODATA|NOPTR, $32
DATA fadamNegMax<>+0(SB)/8, $0xc7efffffe0000000
DATA fadamNegMax<>+8(SB)/8, $0xc7efffffe0000000
DATA fadamNegMax<>+16(SB)/8, $0xc7efffffe0000000
DATA fadamNegMax<>+24(SB)/8, $0xc7efffffe0000000
GLOBL fadamNegMax<>(SB), RODATA|NOPTR, $32


// func fisherLanesAVX(grad, sf, theta *float32, n int, b2, c2, eps float64, lanes *[8]float64)
TEXT ·fisherLanesAVX(SB), NOSPLIT, $0-64
	MOVQ grad+0(FP), AX
	MOVQ sf+8(FP), BX
	MOVQ theta+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSD b2+32(FP), Y10
	VBROADCASTSD c2+40(FP), Y11
	VBROADCASTSD eps+48(FP), Y12
	VBROADCASTSD fadamOne<>(SB), Y13
	VXORPD Y15, Y15, Y15
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	XORQ SI, SI
floop:
	CMPQ SI, CX
	JGE  fdone
	VCVTPS2PD (AX)(SI*4), Y0         // g
	VCVTPS2PD (BX)(SI*4), Y1         // √f
	VMULPD    Y10, Y1, Y2            // β̂₂·s
	VMULPD    Y1, Y2, Y2             // β̂₂·s·s
	VMULPD    Y11, Y0, Y3            // (1−β̂₂)·g
	VMULPD    Y0, Y3, Y3             // (1−β̂₂)·g·g
	VADDPD    Y3, Y2, Y2             // line 7: f
	VSQRTPD   Y2, Y2
	VCVTPD2PSY Y2, X2
	VMOVUPS   X2, (BX)(SI*4)         // store √f as float32
	VCVTPS2PD X2, Y2
	VADDPD    Y12, Y2, Y2            // d = √f + ε̂
	VMAXPD    fadamMinDen<>(SB), Y2, Y4
	VDIVPD    Y4, Y13, Y4            // 1/max(d, MinDenominator)
	VCMPPD    $0, Y15, Y2, Y5        // d == 0
	VANDNPD   Y4, Y5, Y4             // zero-denominator rule
	VMULPD    Y4, Y0, Y6             // ḡ = g/d
	VMULPD    Y6, Y6, Y6
	VADDPD    Y6, Y8, Y8
	VCVTPS2PD (DX)(SI*4), Y7         // θ
	VMULPD    Y4, Y7, Y7             // ḡ_w = θ/d
	VMULPD    Y7, Y7, Y7
	VADDPD    Y7, Y9, Y9
	ADDQ      $4, SI
	JMP       floop
fdone:
	MOVQ    lanes+56(FP), DI
	VMOVUPD Y8, (DI)
	VMOVUPD Y9, 32(DI)
	VZEROUPPER
	RET

// func updateLanesAVX(grad, sf, m, theta *float32, n int, b1, gScale, wScale, lr, eps float64)
TEXT ·updateLanesAVX(SB), NOSPLIT, $0-80
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
	VBROADCASTSD fadamOne<>(SB), Y13
	VXORPD Y15, Y15, Y15
	XORQ SI, SI
uloop:
	CMPQ SI, CX
	JGE  udone
	VCVTPS2PD (BX)(SI*4), Y1         // √f
	VADDPD    Y14, Y1, Y2            // d
	VMAXPD    fadamMinDen<>(SB), Y2, Y4
	VDIVPD    Y4, Y13, Y4
	VCMPPD    $0, Y15, Y2, Y5
	VANDNPD   Y4, Y5, Y4             // 1/d, zero-denominator rule
	VCVTPS2PD (AX)(SI*4), Y0         // g
	VMULPD    Y4, Y0, Y0             // g/d
	VMULPD    Y0, Y10, Y0            // (1−β₁)·sign·clip·g/d
	VCVTPS2PD (R8)(SI*4), Y5         // m
	VMULPD    Y9, Y5, Y5             // β₁·m
	VADDPD    Y0, Y5, Y5             // line 11
	VMINPD    fadamMax<>(SB), Y5, Y5
	VMAXPD    fadamNegMax<>(SB), Y5, Y5
	VCVTPD2PSY Y5, X5
	VMOVUPS   X5, (R8)(SI*4)         // store m
	VCVTPS2PD X5, Y5
	VCVTPS2PD (DX)(SI*4), Y6         // θ
	VMULPD    Y4, Y6, Y7             // θ/d
	VMULPD    Y7, Y11, Y7            // λ·clip·θ/d
	VADDPD    Y7, Y5, Y7             // m + λḡ_w
	VMULPD    Y7, Y12, Y7            // η(m + λḡ_w)
	VSUBPD    Y7, Y6, Y6             // line 14
	VMINPD    fadamMax<>(SB), Y6, Y6
	VMAXPD    fadamNegMax<>(SB), Y6, Y6
	VCVTPD2PSY Y6, X6
	VMOVUPS   X6, (DX)(SI*4)
	ADDQ      $4, SI
	JMP       uloop
udone:
	VZEROUPPER
	RET

// func fisherFactoredLanesAVX(grad, theta *float32, colF *float64, n int, rowF, eps float64, lanes *[8]float64)
TEXT ·fisherFactoredLanesAVX(SB), NOSPLIT, $0-56
	MOVQ grad+0(FP), AX
	MOVQ theta+8(FP), DX
	MOVQ colF+16(FP), BX
	MOVQ n+24(FP), CX
	VBROADCASTSD rowF+32(FP), Y10
	VBROADCASTSD eps+40(FP), Y12
	VBROADCASTSD fadamOne<>(SB), Y13
	VXORPD Y15, Y15, Y15
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	XORQ SI, SI
ffloop:
	CMPQ SI, CX
	JGE  ffdone
	VMOVUPD   (BX)(SI*8), Y1         // √C_j
	VMULPD    Y1, Y10, Y2            // √f = √R_i/√ΣR · √C_j
	VADDPD    Y12, Y2, Y2            // d
	VMAXPD    fadamMinDen<>(SB), Y2, Y4
	VDIVPD    Y4, Y13, Y4
	VCMPPD    $0, Y15, Y2, Y5
	VANDNPD   Y4, Y5, Y4             // 1/d, zero-denominator rule
	VCVTPS2PD (AX)(SI*4), Y0         // g
	VMULPD    Y4, Y0, Y6
	VMULPD    Y6, Y6, Y6
	VADDPD    Y6, Y8, Y8
	VCVTPS2PD (DX)(SI*4), Y7         // θ
	VMULPD    Y4, Y7, Y7
	VMULPD    Y7, Y7, Y7
	VADDPD    Y7, Y9, Y9
	ADDQ      $4, SI
	JMP       ffloop
ffdone:
	MOVQ    lanes+48(FP), DI
	VMOVUPD Y8, (DI)
	VMOVUPD Y9, 32(DI)
	VZEROUPPER
	RET

// func updateFactoredLanesAVX(grad, m, theta *float32, colF *float64, n int, rowF, b1, gScale, wScale, lr, eps float64)
TEXT ·updateFactoredLanesAVX(SB), NOSPLIT, $0-88
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
	VBROADCASTSD fadamOne<>(SB), Y13
	VXORPD Y15, Y15, Y15
	XORQ SI, SI
fuloop:
	CMPQ SI, CX
	JGE  fudone
	VMOVUPD   (BX)(SI*8), Y1         // √C_j
	VMULPD    Y1, Y3, Y2             // √f
	VADDPD    Y14, Y2, Y2            // d
	VMAXPD    fadamMinDen<>(SB), Y2, Y4
	VDIVPD    Y4, Y13, Y4
	VCMPPD    $0, Y15, Y2, Y5
	VANDNPD   Y4, Y5, Y4             // 1/d, zero-denominator rule
	VCVTPS2PD (AX)(SI*4), Y0         // g
	VMULPD    Y4, Y0, Y0
	VMULPD    Y0, Y10, Y0
	VCVTPS2PD (R8)(SI*4), Y5         // m
	VMULPD    Y9, Y5, Y5
	VADDPD    Y0, Y5, Y5             // line 13
	VMINPD    fadamMax<>(SB), Y5, Y5
	VMAXPD    fadamNegMax<>(SB), Y5, Y5
	VCVTPD2PSY Y5, X5
	VMOVUPS   X5, (R8)(SI*4)
	VCVTPS2PD X5, Y5
	VCVTPS2PD (DX)(SI*4), Y6         // θ
	VMULPD    Y4, Y6, Y7
	VMULPD    Y7, Y11, Y7
	VADDPD    Y7, Y5, Y7
	VMULPD    Y7, Y12, Y7
	VSUBPD    Y7, Y6, Y6             // line 16
	VMINPD    fadamMax<>(SB), Y6, Y6
	VMAXPD    fadamNegMax<>(SB), Y6, Y6
	VCVTPD2PSY Y6, X6
	VMOVUPS   X6, (DX)(SI*4)
	ADDQ      $4, SI
	JMP       fuloop
fudone:
	VZEROUPPER
	RET
