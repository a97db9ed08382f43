//go:build amd64 && !purego

#include "textflag.h"

// func prefetchRowsAsm(p *float32, ld, rows, n int)
//
// Prefetches into L2 the cache lines that hold the first n ≥ 1 floats of rows rows at p, row
// stride ld floats.
TEXT ·prefetchRowsAsm(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), SI
	MOVQ ld+8(FP), R8
	SHLQ $2, R8
	MOVQ rows+16(FP), R9
	MOVQ n+24(FP), R10
	SHLQ $2, R10
	TESTQ R9, R9
	JLE pfdone
pfrow:
	MOVQ SI, AX // AX the first line of the row, DX its last
	ANDQ $-64, AX
	LEAQ -1(SI)(R10*1), DX
	ANDQ $-64, DX
pfline:
	PREFETCHT1 (AX)
	ADDQ $64, AX
	CMPQ AX, DX
	JLE pfline
	ADDQ R8, SI
	DECQ R9
	JNZ pfrow
pfdone:
	RET
