//go:build amd64 && !purego

#include "textflag.h"

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func prefetchRowsTo(p *float32, rows, stride, lines int, l2 bool)
TEXT ·prefetchRowsTo(SB), NOSPLIT, $0-33
	MOVQ p+0(FP), SI
	MOVQ rows+8(FP), CX
	MOVQ stride+16(FP), DX
	SHLQ $2, DX
	MOVQ lines+24(FP), BX
	MOVBLZX l2+32(FP), R8
	TESTQ CX, CX
	JZ   done
	TESTQ BX, BX
	JZ   done
row:
	MOVQ SI, DI
	MOVQ BX, AX
line:
	TESTQ R8, R8
	JNZ  l2
	PREFETCHT0 (DI)
	JMP  next
l2:
	PREFETCHT1 (DI)
next:
	ADDQ $64, DI
	DECQ AX
	JNZ  line
	ADDQ DX, SI
	DECQ CX
	JNZ  row
done:
	RET
