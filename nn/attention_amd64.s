//go:build amd64 && !purego

#include "textflag.h"

// func prefetchRowsAsm(p *float32, ld, rows, n int)
//
// Prefetches into L2 the cache lines of the first n ≥ 1 floats of rows rows at p, row stride
// ld floats: the line of each row's first float and every 64 bytes on to its last float. (A
// line fetched for reading is held exclusively when no other core has it, so rows about to be
// written gain as well.)
TEXT ·prefetchRowsAsm(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), SI
	MOVQ ld+8(FP), R8
	SHLQ $2, R8
	MOVQ rows+16(FP), R9
	MOVQ n+24(FP), R10
	SHLQ $2, R10
	SUBQ $4, R10 // offset of the row's last float
	TESTQ R9, R9
	JLE pfdone
pfrow:
	XORQ AX, AX
pfline:
	PREFETCHT1 (SI)(AX*1)
	ADDQ $64, AX
	CMPQ AX, R10
	JLE pfline
	PREFETCHT1 (SI)(R10*1)
	ADDQ R8, SI
	DECQ R9
	JNZ pfrow
pfdone:
	RET
