package gemm

import (
	"fmt"
	"runtime"
)

// SgemmBatched computes C_i = alpha·op(A_i)·op(B_i) + beta·C_i for every i < len(offA), where
// A_i is the matrix starting at a[offA[i]] (likewise B_i and C_i) and all items share shapes
// and strides. It suits attention's many small per-head products, e.g. one item per (sequence,
// head) with offsets into the [batch, ctx, heads·dhead] activations.
//
// With Fast, items run in parallel, each on one goroutine, which uses all cores even when every
// item is too small to split; each item's result is identical to a Sgemm call. Other kernels
// run the items in turn. The C_i must not overlap. It panics, like Sgemm, when the offset
// slices differ in length or an item does not fit its slice.
func SgemmBatched(kern Kernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, offA []int, b []float32, ldb int, offB []int, beta float32, c []float32, ldc int, offC []int) {
	sgemmBatched(kern, transA, transB, m, n, k, alpha, a, lda, offA, b, ldb, offB, beta, c, ldc, offC, nil)
}

// sgemmBatched is SgemmBatched with an optional epilogue (see SgemmBatchedEpilogue).
func sgemmBatched(kern Kernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, offA []int, b []float32, ldb int, offB []int, beta float32, c []float32, ldc int, offC []int, ep Epilogue) {
	if len(offA) != len(offB) || len(offA) != len(offC) {
		panic(fmt.Sprintf("gemm: batch offsets have lengths %d, %d and %d, want equal", len(offA), len(offB), len(offC)))
	}
	for i := range offA {
		for _, o := range [][2]int{{offA[i], len(a)}, {offB[i], len(b)}, {offC[i], len(c)}} {
			if o[0] < 0 || o[0] > o[1] {
				panic(fmt.Sprintf("gemm: batch item %d has offset %d outside a slice of %d", i, o[0], o[1]))
			}
		}
		checkArgs(transA, transB, m, n, k, a[offA[i]:], lda, b[offB[i]:], ldb, c[offC[i]:], ldc)
	}
	f, ok := asFast(kern)
	if !ok {
		for i := range offA {
			kern.Sgemm(transA, transB, m, n, k, alpha, a[offA[i]:], lda, b[offB[i]:], ldb, beta, c[offC[i]:], ldc)
			if ep != nil && m > 0 && n > 0 {
				ep.Block(i, 0, m, 0, n)
			}
		}
		return
	}
	if len(offA) == 0 || m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		for i, o := range offC {
			scaleC(m, n, beta, c[o:], ldc)
			if ep != nil {
				ep.Block(i, 0, m, 0, n)
			}
		}
		return
	}
	mk := f.kernel()
	t := taskPool.Get().(*task)
	*t = task{mk: mk, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
		offA: offA, offB: offB, offC: offC, nblocks: len(offA), ep: ep}
	nw := 1
	if 2*m*n*k*len(offA) >= parallelMinFlops {
		nw = runtime.GOMAXPROCS(0)
	}
	t.run(nw)
}
