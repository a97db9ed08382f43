//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

//go:generate go run gen_asm.go

// kernelAVX512 computes a 12×32 tile of C from packed panels (see microKernel).
//
//go:noescape
func kernelAVX512(k int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)

// kernelAVX2 computes a 6×16 tile of C from packed panels (see microKernel).
//
//go:noescape
func kernelAVX2(k int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)

var (
	avx512Kernel = &microKernel{name: "avx512", mr: 12, nr: 32, fn: kernelAVX512, pack: packAVX512, packRows: packRows12AVX512, packRowsB: packRows32AVX512, directA: true, fmaLoop: fmaLoopAVX512, fmaLoopFlops: 768}
	avx2Kernel   = &microKernel{name: "avx2", mr: 6, nr: 16, fn: kernelAVX2, directA: true, fmaLoop: fmaLoopAVX2, fmaLoopFlops: 192}
)

// asmKernels lists the assembly micro-kernels this CPU can run, fastest first.
func asmKernels() []*microKernel {
	var ks []*microKernel
	// The kernel uses only AVX-512F; HasAVX512F also requires OS support for the ZMM state.
	if cpu.X86.HasAVX512F {
		ks = append(ks, avx512Kernel)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernel)
	}
	return ks
}

// packContigAVX512 packs rows ≤ 32 contiguous values per step: for p < kb,
// dst[p*w+r] = src[p*ps+r] for r < rows and 0 for rows ≤ r < w.
//
//go:noescape
func packContigAVX512(dst, src *float32, kb, ps, rows, w int)

// packGatherAVX512 is packContigAVX512 for values rs apart: dst[p*w+r] = src[p*ps+r*rs].
// It needs 31*rs < 2³¹ for its 32-bit gather indices.
//
//go:noescape
func packGatherAVX512(dst, src *float32, kb, ps, rs, rows, w int)

// packTransAVX512 packs a panel whose source rows run along p: dst[p*w+r] = src[p+r*rs] for
// r < rows and 0 for rows ≤ r < w, transposing 16×16 blocks in registers (w a multiple of 16).
//
//go:noescape
func packTransAVX512(dst, src *float32, kb, rs, rows, w int)

// packAVX512 implements microKernel.pack with masked loads, in-register transposes and
// gathers.
func packAVX512(dst, src *float32, kb, ps, rs, rows, w int) bool {
	switch {
	case rs == 1:
		packContigAVX512(dst, src, kb, ps, rows, w)
	case ps == 1 && w%16 == 0 && rows <= w:
		packTransAVX512(dst, src, kb, rs, rows, w)
	case rs < 1<<31/32:
		packGatherAVX512(dst, src, kb, ps, rs, rows, w)
	default:
		return false
	}
	return true
}

// packRows12AVX512 packs panels of op(A) = Aᵀ for the 12-row micro-kernel straight from rows of
// A: for p < kb, j < panels, r < 12, dst[j*ps+p*12+r] = src[p*lda+j*12+r]. It reads each
// row of A once, sequentially, where panel-by-panel packing reads it in 48-byte pieces.
//
//go:noescape
func packRows12AVX512(dst, src *float32, kb, lda, panels, ps int)

// packRows32AVX512 packs whole panels of a non-transposed op(B) for the 32-column micro-kernel
// straight from rows of B: for p < kb, j < panels, r < 32, dst[j*kb*32+p*32+r] =
// src[p*ldb+j*32+r]. It reads each row of B once, sequentially, where panel-by-panel packing
// reads it in 128-byte pieces a row apart.
//
//go:noescape
func packRows32AVX512(dst, src *float32, kb, ldb, panels int)

// fmaLoopAVX512 runs n iterations of 24 independent 16-lane FMAs.
//
//go:noescape
func fmaLoopAVX512(n int)

// fmaLoopAVX2 runs n iterations of 12 independent 8-lane FMAs.
//
//go:noescape
func fmaLoopAVX2(n int)
