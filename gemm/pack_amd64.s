//go:build amd64 && !purego

#include "textflag.h"

// Lane numbers 0..15, to build gather indices.
DATA iota32<>+0(SB)/8, $0x0000000100000000
DATA iota32<>+8(SB)/8, $0x0000000300000002
DATA iota32<>+16(SB)/8, $0x0000000500000004
DATA iota32<>+24(SB)/8, $0x0000000700000006
DATA iota32<>+32(SB)/8, $0x0000000900000008
DATA iota32<>+40(SB)/8, $0x0000000b0000000a
DATA iota32<>+48(SB)/8, $0x0000000d0000000c
DATA iota32<>+56(SB)/8, $0x0000000f0000000e
GLOBL iota32<>(SB), RODATA|NOPTR, $64

// setMasks loads K1/K2 with the low rows bits (split 16+16) for loads and K3/K4 with the low
// w bits for stores. Uses AX, BX, CX (rows in R8, w in R9).
#define SETMASKS \
	MOVQ R8, CX \
	MOVL $1, AX \
	SHLQ CX, AX \
	DECQ AX \
	KMOVW AX, K1 \
	SHRQ $16, AX \
	KMOVW AX, K2 \
	MOVQ R9, CX \
	MOVL $1, AX \
	SHLQ CX, AX \
	DECQ AX \
	KMOVW AX, K3 \
	SHRQ $16, AX \
	KMOVW AX, K4

// func packContigAVX512(dst, src *float32, kb, ps, rows, w int)
// For p < kb: dst[p*w+r] = src[p*ps+r] for r < rows, 0 for rows ≤ r < w (w, rows ≤ 32).
TEXT ·packContigAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ kb+16(FP), DX
	MOVQ ps+24(FP), R10
	SHLQ $2, R10
	MOVQ rows+32(FP), R8
	MOVQ w+40(FP), R9
	SETMASKS
	MOVQ R9, R11
	SHLQ $2, R11
	TESTQ DX, DX
	JZ contig_done
contig_loop:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS Z0, K3, (DI)
	VMOVUPS Z1, K4, 64(DI)
	ADDQ R10, SI
	ADDQ R11, DI
	DECQ DX
	JNZ contig_loop
contig_done:
	VZEROUPPER
	RET

// func packGatherAVX512(dst, src *float32, kb, ps, rs, rows, w int)
// For p < kb: dst[p*w+r] = src[p*ps+r*rs] for r < rows, 0 for rows ≤ r < w (w, rows ≤ 32,
// 31*rs < 2^31).
TEXT ·packGatherAVX512(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ kb+16(FP), DX
	MOVQ ps+24(FP), R10
	SHLQ $2, R10
	MOVQ rs+32(FP), AX
	MOVQ rows+40(FP), R8
	MOVQ w+48(FP), R9
	VPBROADCASTD AX, Z4
	VMOVDQU32 iota32<>(SB), Z5
	VPMULLD Z5, Z4, Z2
	SHLQ $4, AX
	VPBROADCASTD AX, Z6
	VPADDD Z6, Z2, Z3
	SETMASKS
	MOVQ R9, R11
	SHLQ $2, R11
	TESTQ DX, DX
	JZ gather_done
gather_loop:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	KMOVW K1, K5
	VGATHERDPS (SI)(Z2*4), K5, Z0
	KMOVW K2, K6
	VGATHERDPS (SI)(Z3*4), K6, Z1
	VMOVUPS Z0, K3, (DI)
	VMOVUPS Z1, K4, 64(DI)
	ADDQ R10, SI
	ADDQ R11, DI
	DECQ DX
	JNZ gather_loop
gather_done:
	VZEROUPPER
	RET

// func packRows12AVX512(dst, src *float32, kb, lda, panels, ps int)
// For p < kb, j < panels, r < 12: dst[j*ps+p*12+r] = src[p*lda+j*12+r]. Four source rows
// at a time, so each panel receives 192 contiguous bytes (three whole cache lines) per step.
TEXT ·packRows12AVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ kb+16(FP), DX
	MOVQ lda+24(FP), R10
	SHLQ $2, R10
	MOVQ panels+32(FP), R8
	MOVQ ps+40(FP), R11
	SHLQ $2, R11
	TESTQ R8, R8
	JZ rows12_done
	CMPQ DX, $4
	JLT rows12_tail
rows12_quad:
	MOVQ SI, AX
	LEAQ (SI)(R10*2), R13
	ADDQ R10, R13
	MOVQ DI, BX
	MOVQ R8, CX
rows12_quad_panel:
	VMOVUPS (AX), Y0
	VMOVUPS 32(AX), X1
	VMOVUPS (AX)(R10*1), Y2
	VMOVUPS 32(AX)(R10*1), X3
	VMOVUPS (AX)(R10*2), Y4
	VMOVUPS 32(AX)(R10*2), X5
	VMOVUPS (R13), Y6
	VMOVUPS 32(R13), X7
	VMOVUPS Y0, (BX)
	VMOVUPS X1, 32(BX)
	VMOVUPS Y2, 48(BX)
	VMOVUPS X3, 80(BX)
	VMOVUPS Y4, 96(BX)
	VMOVUPS X5, 128(BX)
	VMOVUPS Y6, 144(BX)
	VMOVUPS X7, 176(BX)
	ADDQ $48, AX
	ADDQ $48, R13
	ADDQ R11, BX
	DECQ CX
	JNZ rows12_quad_panel
	LEAQ (SI)(R10*4), SI
	ADDQ $192, DI
	SUBQ $4, DX
	CMPQ DX, $4
	JGE rows12_quad
rows12_tail:
	TESTQ DX, DX
	JZ rows12_done
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R8, CX
rows12_tail_panel:
	VMOVUPS (AX), Y0
	VMOVUPS 32(AX), X1
	VMOVUPS Y0, (BX)
	VMOVUPS X1, 32(BX)
	ADDQ $48, AX
	ADDQ R11, BX
	DECQ CX
	JNZ rows12_tail_panel
	ADDQ R10, SI
	ADDQ $48, DI
	DECQ DX
	JMP rows12_tail
rows12_done:
	VZEROUPPER
	RET

// func packRows32AVX512(dst, src *float32, kb, ldb, panels int)
// For p < kb, j < panels, r < 32: dst[j*kb*32+p*32+r] = src[p*ldb+j*32+r], reading each row of
// src once, sequentially.
TEXT ·packRows32AVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ kb+16(FP), DX
	MOVQ ldb+24(FP), R10
	SHLQ $2, R10
	MOVQ panels+32(FP), R8
	MOVQ DX, R11
	SHLQ $7, R11
	TESTQ R8, R8
	JZ rows32_done
	TESTQ DX, DX
	JZ rows32_done
rows32_row:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R8, CX
rows32_panel:
	VMOVUPS (AX), Z0
	VMOVUPS 64(AX), Z1
	VMOVUPS Z0, (BX)
	VMOVUPS Z1, 64(BX)
	ADDQ $128, AX
	ADDQ R11, BX
	DECQ CX
	JNZ rows32_panel
	ADDQ R10, SI
	ADDQ $128, DI
	DECQ DX
	JNZ rows32_row
rows32_done:
	VZEROUPPER
	RET
