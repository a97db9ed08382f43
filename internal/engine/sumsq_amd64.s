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

// func hasAVX() bool
TEXT ·hasAVX(SB), NOSPLIT, $0-1
	MOVL $1, AX
	XORL CX, CX
	CPUID
	MOVL CX, DX
	ANDL $0x18000000, DX
	CMPL DX, $0x18000000
	JNE  no
	XORL CX, CX
	XGETBV
	ANDL $6, AX
	CMPL AX, $6
	JNE  no
	MOVB $1, ret+0(FP)
	RET
no:
	MOVB $0, ret+0(FP)
	RET
