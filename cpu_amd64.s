//go:build amd64 && !purego

#include "textflag.h"

// func cpuFeatures() (avx, avx512 bool)
TEXT ·cpuFeatures(SB), NOSPLIT, $0-2
	MOVB $0, avx+0(FP)
	MOVB $0, avx512+1(FP)
	MOVL $1, AX
	XORL CX, CX
	CPUID
	// ECX bit 27 OSXSAVE and bit 28 AVX.
	ANDL $0x18000000, CX
	CMPL CX, $0x18000000
	JNE  done
	// The OS must save the XMM and YMM state: XCR0 bits 1 and 2.
	XORL CX, CX
	XGETBV
	MOVL AX, R8 // XCR0, for the AVX-512 check below
	ANDL $6, AX
	CMPL AX, $6
	JNE  done
	MOVB $1, avx+0(FP)
	// Leaf 7: EBX bit 5 AVX2, bit 16 AVX512F, bit 31 AVX512VL.
	MOVL $7, AX
	XORL CX, CX
	CPUID
	ANDL $0x80010020, BX
	CMPL BX, $0x80010020
	JNE  done
	// The OS must also save the opmask and ZMM state: XCR0 bits 5–7.
	ANDL $0xe6, R8
	CMPL R8, $0xe6
	JNE  done
	MOVB $1, avx512+1(FP)
done:
	RET
