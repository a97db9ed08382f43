package gemm

// Epilogue is work a product runs on C as it finishes, block by block, while each block is
// still in cache: a bias add, an activation, a residual add, a per-block reduction. Fusing such
// a pass into the product saves reading C back from memory afterwards.
//
// The contract, for a call of SgemmEpilogue or SgemmBatchedEpilogue with m, n > 0:
//   - Block(item, i0, i1, j0, j1) covers rows i0 ≤ i < i1 and columns j0 ≤ j < j1 of the C of
//     batch item item (0 for SgemmEpilogue), in C's own coordinates: element (i, j) is
//     c[i*ldc+j] (c[offC[item]+i*ldc+j] in a batch). Every block is non-empty.
//   - The blocks of an item are disjoint and together cover its C: every element is in exactly
//     one call, and that call comes after the element's final value alpha·op(A)·op(B) + beta·C
//     has been stored and before the product returns. Elements outside the block may still be
//     unfinished (or being written by another goroutine), so Block must touch no element of C
//     outside its block.
//   - The order of the calls is unspecified, and they may run on any goroutine, several at a
//     time: Block must be safe for concurrent calls on disjoint blocks, and must not panic (on
//     one of gemm's worker goroutines a panic ends the program).
//   - Where C is cut depends on the kernel, its cache blocking, the shapes and GOMAXPROCS. An
//     element-wise epilogue gives the same bits however C is cut; one whose result depends on
//     the cut (a sum over rows, say) must not rely on any particular block boundaries.
//
// Fast calls Block once per cache block of C (at most its row block mc × its column block nc
// elements) right after the last depth block has been accumulated into it; other kernels call
// it once for the whole C after the product. An Epilogue that is a pointer (or a func) passes
// through the interface without allocating.
type Epilogue interface {
	Block(item, i0, i1, j0, j1 int)
}

// EpilogueFunc adapts a function to Epilogue.
type EpilogueFunc func(item, i0, i1, j0, j1 int)

// Block calls f(item, i0, i1, j0, j1).
func (f EpilogueFunc) Block(item, i0, i1, j0, j1 int) { f(item, i0, i1, j0, j1) }

// SgemmEpilogue computes C = alpha·op(A)·op(B) + beta·C with kern, like kern.Sgemm, and runs ep
// (nil: none) on every block of C as it becomes final (see Epilogue). With Fast, the product
// is split over GOMAXPROCS goroutines as in Sgemm and each goroutine runs the epilogue of its
// own blocks; any other kernel runs the whole product, then ep.Block(0, 0, m, 0, n). It
// panics, like Sgemm, on bad dimensions or slices.
func SgemmEpilogue(kern Kernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ep Epilogue) {
	f, ok := asFast(kern)
	if !ok {
		kern.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		if ep != nil && m > 0 && n > 0 {
			ep.Block(0, 0, m, 0, n)
		}
		return
	}
	if ep == nil || m == 0 || n == 0 || k == 0 || alpha == 0 || 2*m*n*k <= naiveMaxFlops {
		// No blocked loop: the product, then the epilogue over all of C.
		f.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		if ep != nil && m > 0 && n > 0 {
			ep.Block(0, 0, m, 0, n)
		}
		return
	}
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	t := taskPool.Get().(*task)
	*t = task{mk: f.kernel(), transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, ep: ep}
	nw := 1
	if 2*m*n*k >= parallelMinFlops {
		nw = runtimeProcs()
	}
	t.split(nw)
	t.run(nw)
}

// SgemmBatchedEpilogue is SgemmBatched with ep (nil: none) run on every block of each C_i as it
// becomes final, with item = i (see Epilogue). With Fast an item's blocks run on the goroutine
// that computes the item; other kernels call ep.Block(i, 0, m, 0, n) after item i. A batch of
// one item with Fast is a product on the calling goroutine alone, with its epilogue.
func SgemmBatchedEpilogue(kern Kernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, offA []int, b []float32, ldb int, offB []int, beta float32, c []float32, ldc int, offC []int, ep Epilogue) {
	sgemmBatched(kern, transA, transB, m, n, k, alpha, a, lda, offA, b, ldb, offB, beta, c, ldc, offC, ep)
}

// finish runs t's epilogue, if any, on a finished block of C.
func (t *task) finish(item, i0, i1, j0, j1 int) {
	if t.ep != nil {
		t.ep.Block(item, i0, i1, j0, j1)
	}
}

// asFast returns kern as a Fast, if it is one (or a pointer to one).
func asFast(kern Kernel) (Fast, bool) {
	switch kk := kern.(type) {
	case Fast:
		return kk, true
	case *Fast:
		return *kk, true
	}
	return Fast{}, false
}
