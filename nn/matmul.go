package nn

import "github.com/fadam-go/fadam/gemm"

// matmulJob is one product C = alpha·op(A)·op(B) + beta·C (gemm.Kernel's Sgemm convention)
// split over the package's worker pool into blocks of C's rows, or of its columns when C is
// wider than tall. Each block is an independent single-goroutine product through
// gemm.SgemmBatched with one item, which gives each element the bits a single Sgemm call
// gives it (every element is one accumulator summed in increasing depth, however C is cut), so
// the result does not depend on GOMAXPROCS.
//
// Splitting here rather than inside gemm lets the products share the pool's workers with the
// layers' other work: a worker that has just finished one layer's chunk is still awake for the
// next product, where a hand-off to a sleeping goroutine costs tens of microseconds on a
// virtual machine, as long as a small product itself.
type matmulJob struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	splitM         bool
	ep             gemm.Epilogue   // run on each finished block of C, or nil (see matmulEpilogue)
	chunkEps       []chunkEpilogue // per unit: ep shifted to the chunk starting there
}

// Blocks of a split product: multiples of every micro-kernel's tile (12×32, 6×16, 4×4) so that
// the blocks cut C where the kernel's own tiles do.
const (
	matmulRowUnit = 48
	// matmulEpilogueRowUnit is the row block of a product with an epilogue: also a multiple of
	// GELUBiasRowBlock, so that with gemm's row cache block (96 rows) every epilogue block
	// holds whole blocks of the bias gradient's row sums (see geluGradEpilogue).
	matmulEpilogueRowUnit = 96
	matmulColUnit         = 32
	// matmulMinFlops is the smallest product worth splitting.
	matmulMinFlops = 1 << 20
)

// splitsExactly reports whether kern gives a block of a product the bits the whole product
// gives it: gemm.Fast does; others (gonum's blocking depends on where a block starts) run
// whole.
func splitsExactly(kern gemm.Kernel) bool {
	switch kern.(type) {
	case gemm.Fast, *gemm.Fast:
		return true
	}
	return false
}

// oneItem is the offset list of a batch of one product.
var oneItem = []int{0}

// matmul computes C = alpha·op(A)·op(B) + beta·C for row-major A, B, C with leading dimensions
// lda, ldb, ldc, spread over the worker pool when it is large enough; job and s are the
// caller's (a layer runs one job at a time).
func matmul(job *matmulJob, s *chunkSplitter, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	matmulEpilogue(job, s, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// matmulEpilogue is matmul with ep (nil: none) run on every block of C as it is finished (see
// gemm.Epilogue), in the coordinates of the whole C however the product is split; item is
// always 0.
func matmulEpilogue(job *matmulJob, s *chunkSplitter, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ep gemm.Epilogue) {
	if !splitsExactly(gemm.Default) {
		gemm.SgemmEpilogue(gemm.Default, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep)
		return
	}
	*job = matmulJob{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, beta: beta, splitM: m >= n,
		ep: ep, chunkEps: job.chunkEps}
	if u := job.units(); ep != nil && len(job.chunkEps) < u {
		job.chunkEps = make([]chunkEpilogue, u)
	}
	if u := job.units(); u > 1 {
		runChunks(job, u, 1, s)
	} else {
		job.runChunk(0, 1)
	}
}

func (j *matmulJob) runChunk(lo, hi int) {
	m, n := j.m, j.n
	a, b, c := j.a, j.b, j.c
	i0, j0 := 0, 0
	switch {
	case hi-lo == j.units():
		// The whole product.
	case j.splitM:
		i0 = lo * j.rowUnit()
		m = min(hi*j.rowUnit(), j.m) - i0
		if j.transA { // A is stored k×m
			a = a[i0:]
		} else {
			a = a[i0*j.lda:]
		}
		c = c[i0*j.ldc:]
	default:
		j0 = lo * matmulColUnit
		n = min(hi*matmulColUnit, j.n) - j0
		if j.transB { // B is stored n×k
			b = b[j0*j.ldb:]
		} else {
			b = b[j0:]
		}
		c = c[j0:]
	}
	var ep gemm.Epilogue
	if j.ep != nil {
		ce := &j.chunkEps[lo]
		*ce = chunkEpilogue{ep: j.ep, i0: i0, j0: j0}
		ep = ce
	}
	gemm.SgemmBatchedEpilogue(gemm.Default, j.transA, j.transB, m, n, j.k, j.alpha, a, j.lda, oneItem, b, j.ldb, oneItem, j.beta, c, j.ldc, oneItem, ep)
}

// rowUnit is the row block of j's split (see matmulEpilogueRowUnit).
func (j *matmulJob) rowUnit() int {
	if j.ep != nil {
		return matmulEpilogueRowUnit
	}
	return matmulRowUnit
}

// chunkEpilogue passes the blocks of a chunk of a split product, which starts at row i0 and
// column j0 of C, on to ep in the coordinates of the whole C.
type chunkEpilogue struct {
	ep     gemm.Epilogue
	i0, j0 int
}

func (e *chunkEpilogue) Block(item, i0, i1, j0, j1 int) {
	e.ep.Block(item, e.i0+i0, e.i0+i1, e.j0+j0, e.j0+j1)
}

// units is the number of blocks the product is cut into: 1 below matmulMinFlops, and 1 where
// a block would be so thin (other side × depth ≤ 8) that gemm would take its unblocked path
// for it, which could round differently from the whole product.
func (j *matmulJob) units() int {
	if 2*j.m*j.n*j.k < matmulMinFlops {
		return 1
	}
	if j.splitM {
		if j.n*j.k <= 8 {
			return 1
		}
		return (j.m + j.rowUnit() - 1) / j.rowUnit()
	}
	if j.m*j.k <= 8 {
		return 1
	}
	return (j.n + matmulColUnit - 1) / matmulColUnit
}
