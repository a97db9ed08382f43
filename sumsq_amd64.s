//go:build amd64 && !purego

#include "textflag.h"

// func sumSquaresAVX(x *float32, n int, lanes *[4]float64)
// lanes[k] = Σ x[i]² over i ≡ k (mod 4), in increasing i, as sumSquaresGo's accumulators.
TEXT ·sumSquaresAVX(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), AX
	MOVQ n+8(FP), CX
	VXORPD Y1, Y1, Y1
	XORQ SI, SI
loop:
	CMPQ SI, CX
	JGE  done
	VCVTPS2PD (AX)(SI*4), Y0
	VMULPD    Y0, Y0, Y0
	VADDPD    Y0, Y1, Y1
	ADDQ      $4, SI
	JMP       loop
done:
	MOVQ    lanes+16(FP), DI
	VMOVUPD Y1, (DI)
	VZEROUPPER
	RET


// func statsRowLanesAVX(x *float32, col *float64, n int, lanes *[4]float64)
// col[j] += x[j]², lanes[k] += x[j]² for j ≡ k (mod 4): one row of Factored.Stats.
TEXT ·statsRowLanesAVX(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), AX
	MOVQ col+8(FP), BX
	MOVQ n+16(FP), CX
	VXORPD Y8, Y8, Y8
	XORQ SI, SI
rloop:
	CMPQ SI, CX
	JGE  rdone
	VCVTPS2PD (AX)(SI*4), Y0
	VMULPD    Y0, Y0, Y0
	VADDPD    (BX)(SI*8), Y0, Y1
	VMOVUPD   Y1, (BX)(SI*8)
	VADDPD    Y0, Y8, Y8
	ADDQ      $4, SI
	JMP       rloop
rdone:
	MOVQ    lanes+24(FP), DI
	VMOVUPD Y8, (DI)
	VZEROUPPER
	RET
