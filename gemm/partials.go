package gemm

import "fmt"

// SgemmPartials computes, on the calling goroutine, the product of every depth block (see
// DepthBlock) of op(A)·op(B) on its own: for block b, which covers depth [d₀, d₁) =
// [b·DepthBlock, min((b+1)·DepthBlock, k)), parts[b·m·n:(b+1)·m·n] is set to
// alpha·op(A)[:, d₀:d₁]·op(B)[d₀:d₁, :] (row stride n), with the bits Fast gives that block's
// sum inside a whole product (+0 everywhere for alpha = 0, as in Sgemm); NaN in parts does not
// survive. It computes the later part of a product split along its depth (see DepthBlock) in
// one call, so that each block's operands are prefetched while the block before is computed.
// kern must be Fast; op(A) is m×k and op(B) k×n as in Sgemm. It panics on the arguments Sgemm
// rejects, on another kernel, or when parts is shorter than the blocks' products.
func SgemmPartials(kern Kernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, parts []float32) {
	f, ok := asFast(kern)
	if !ok {
		panic(fmt.Sprintf("gemm: SgemmPartials needs Fast, not %s", Name(kern)))
	}
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	nblocks := (k + blocks.kc - 1) / blocks.kc
	if len(parts) < nblocks*m*n {
		panic(fmt.Sprintf("gemm: parts has %d elements, %d blocks of %d×%d need %d", len(parts), nblocks, m, n, nblocks*m*n))
	}
	if m == 0 || n == 0 || k == 0 {
		return
	}
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, parts[:m*n], n)
	if alpha == 0 {
		clear(parts[:nblocks*m*n])
		return
	}
	// The blocked loop for every size: inside a whole product a block never takes the
	// unblocked path for tiny products, however small it is.
	t := taskPool.Get().(*task)
	*t = task{mk: f.kernel(), transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, c: parts, ldc: n,
		parts: parts}
	t.split(1)
	t.run(1)
}
