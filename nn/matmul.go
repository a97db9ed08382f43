package nn

import (
	"sync"

	"github.com/fadam-go/fadam/gemm"
)

// matmulJob is one product C = alpha·op(A)·op(B) + beta·C (gemm.Kernel's Sgemm convention)
// split over the package's worker pool into blocks of C's rows, or of its columns when C is
// wider than tall. Each block is an independent single-goroutine product through
// gemm.SgemmBatched with one item, which gives each element the bits a single Sgemm call
// gives it (every element is one accumulator summed in increasing depth, however C is cut), so
// the result does not depend on GOMAXPROCS. A product with a long depth and a small C (the
// weight gradients dW += dyᵀ·x, whose depth is the token count) may instead be cut along its
// depth at multiples of gemm's depth block, with the later blocks' partial products added to C
// in increasing depth afterwards: that too gives the bits of one Sgemm call (see planDepth).
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
	splitM         bool            // cut C's rows (else its columns)
	unit           int             // rows or columns per unit of the split
	nunits         int             // units of the split, 1 when the product runs whole
	ep             gemm.Epilogue   // run on each finished block of C, or nil (see matmulEpilogue)
	chunkEps       []chunkEpilogue // per unit: ep shifted to the chunk starting there

	// A depth split (see planDepth): the depth cut into kblocks blocks of kb (gemm's depth
	// block) and those into kparts chunks of whole blocks; the first kfirst blocks are computed
	// straight into C, every later one into its own m×n slot of partials, which the fold phase
	// then adds to C in increasing depth.
	splitK                      bool
	kb, kblocks, kparts, kfirst int
	partials                    []float32 // from partialPool while the product runs
	folding                     bool      // runChunk adds partials to rows of C
}

// The micro-tile the split counts in: every micro-kernel's tile (12×32, 6×16, 4×4) divides it,
// so a column split at a multiple of matmulColUnit cuts C where every kernel's panels do.
// matmulRowUnits are the row units plan tries, in order of preference: multiples of 32 rows
// first, so that chunks start where 32-row blocks of a per-row pass do, when that makes the
// largest chunk no larger.
var matmulRowUnits = []int{96, 32, 12}

// matmulEpilogueRowUnits are the row units of a product with an epilogue: multiples of
// GELUBiasRowBlock only, so that with gemm's row cache block (96 rows) every epilogue block
// holds whole blocks of the bias gradient's row sums (see geluGradEpilogue).
var matmulEpilogueRowUnits = []int{96}

// rowUnits are the row units plan tries for j.
func (j *matmulJob) rowUnits() []int {
	if j.ep != nil {
		return matmulEpilogueRowUnits
	}
	return matmulRowUnits
}

const (
	matmulTileM   = 12
	matmulColUnit = 32
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
	*job = matmulJob{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, beta: beta,
		ep: ep, chunkEps: job.chunkEps}
	job.plan(maxChunks())
	if job.splitK {
		job.runDepthSplit(s)
		return
	}
	if ep != nil && len(job.chunkEps) < job.nunits {
		job.chunkEps = make([]chunkEpilogue, job.nunits)
	}
	if job.nunits > 1 {
		runChunks(job, job.nunits, 1, s)
	} else {
		job.runChunk(0, 1)
	}
}

func (j *matmulJob) runChunk(lo, hi int) {
	if j.splitK {
		if j.folding {
			j.foldRows(lo, hi)
			return
		}
		for i := lo; i < hi; i++ {
			j.runDepthChunk(i)
		}
		return
	}
	m, n := j.m, j.n
	a, b, c := j.a, j.b, j.c
	i0, j0 := 0, 0
	switch {
	case hi-lo == j.nunits:
		// The whole product.
	case j.splitM:
		i0 = lo * j.unit
		m = min(hi*j.unit, j.m) - i0
		if j.transA { // A is stored k×m
			a = a[i0:]
		} else {
			a = a[i0*j.lda:]
		}
		c = c[i0*j.ldc:]
	default:
		j0 = lo * j.unit
		n = min(hi*j.unit, j.n) - j0
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

// chunkEpilogue passes the blocks of a chunk of a split product, which starts at row i0 and
// column j0 of C, on to ep in the coordinates of the whole C.
type chunkEpilogue struct {
	ep     gemm.Epilogue
	i0, j0 int
}

// Block passes a block of the chunk on to e.ep, shifted by the chunk's origin.
func (e *chunkEpilogue) Block(item, i0, i1, j0, j1 int) {
	e.ep.Block(item, e.i0+i0, e.i0+i1, e.j0+j0, e.j0+j1)
}

// plan chooses how runChunks cuts the product for parts goroutines: C's rows or its columns,
// and the unit, so that the largest chunk costs least. A chunk's cost counts its micro-tiles
// and what it reads around them: every chunk of a row split packs all of op(B), and every
// chunk of a column split reads all of op(A), so a weight gradient dyᵀ·x (depth = tokens,
// both sides small) is cut along the side whose duplicate costs less (see matmulChunkCost),
// unless cutting its depth instead, which duplicates neither, costs less still (planDepth).
// The product runs whole below matmulMinFlops, and where a block would be so thin (other side
// × depth ≤ 8) that gemm would take its unblocked path for it, which could round differently
// from the whole product.
func (j *matmulJob) plan(parts int) {
	j.splitM, j.unit, j.nunits = j.m >= j.n, 1, 1
	j.splitK, j.kb, j.kblocks, j.kparts, j.kfirst = false, 0, 0, 0, 0
	if parts < 2 || 2*j.m*j.n*j.k < matmulMinFlops || j.n*j.k <= 8 || j.m*j.k <= 8 {
		return
	}
	best := -1
	try := func(splitM bool, unit int) {
		dim := j.n
		if splitM {
			dim = j.m
		}
		units := (dim + unit - 1) / unit
		p := min(parts, units)
		if p < 2 {
			return
		}
		largest := 0 // cost of the largest chunk, as runChunks cuts the units
		for i := range p {
			lo, hi := i*units/p*unit, min((i+1)*units/p*unit, dim)
			if splitM {
				largest = max(largest, matmulChunkCost(hi-lo, j.n))
			} else {
				largest = max(largest, matmulChunkCost(j.m, hi-lo))
			}
		}
		if best < 0 || largest < best {
			best, j.splitM, j.unit, j.nunits = largest, splitM, unit, units
		}
	}
	// Candidates in order of preference (a later one wins only if cheaper): the longer side
	// first, and row units that are multiples of 32 before the 12-row micro-tile.
	if j.m >= j.n {
		for _, u := range j.rowUnits() {
			try(true, u)
		}
		try(false, matmulColUnit)
	} else {
		try(false, matmulColUnit)
		for _, u := range j.rowUnits() {
			try(true, u)
		}
	}
	mn := -1
	if best >= 0 {
		mn = best * j.k
	}
	j.planDepth(parts, mn)
}

// planDepth considers cutting the product along its depth into parts chunks of whole depth
// blocks instead, and chooses it if its largest chunk, with its share of the fold, costs less
// than mn, the cost of the plan's best cut of C (negative when there is none). Each chunk of a
// depth split computes all of C over its blocks, so nothing is packed or read twice and no
// chunk ends in partial micro-tiles the whole product does not have; the price is the fold,
// which adds every block after the first chunk's to C, and a buffer of one m×n product per
// such block. That suits the weight gradients dW += dyᵀ·x, whose depth is the token count
// and whose C is small. The bits are those of the whole product (see gemm.DepthBlock), which
// needs alpha = 1, no epilogue (C is final only after the fold), and blocks large enough
// that gemm never takes its unblocked path for one.
func (j *matmulJob) planDepth(parts, mn int) {
	kb := gemm.DepthBlock(gemm.Default)
	if kb <= 0 || j.alpha != 1 || j.ep != nil || 2*j.m*j.n <= matmulMinBlockFlops {
		return
	}
	kblocks := (j.k + kb - 1) / kb
	p := min(parts, kblocks)
	if p < 2 {
		return
	}
	kfirst := kblocks / p
	folded := (kblocks - kfirst) * j.m * j.n
	if folded > matmulMaxPartials {
		return
	}
	largest := 0 // depth of the largest chunk
	for i := range p {
		largest = max(largest, min((i+1)*kblocks/p*kb, j.k)-i*kblocks/p*kb)
	}
	cost := largest*matmulChunkCost(j.m, j.n) + matmulFoldCost*folded/p
	if mn >= 0 && cost >= mn {
		return
	}
	j.splitK, j.kb, j.kblocks, j.kparts, j.kfirst = true, kb, kblocks, p, kfirst
	j.splitM, j.unit, j.nunits = true, 1, 1
}

const (
	// matmulMinBlockFlops bounds the FLOPs of one depth step of a product split along its
	// depth: gemm computes products of at most 256 FLOPs without blocking, which must never
	// happen to a block of the split (the last one may be one step deep).
	matmulMinBlockFlops = 256
	// matmulMaxPartials bounds the partial products of a depth split, in floats: 1 MiB, which
	// stays in a Zen 4 core's L2 between the chunks and the fold. The GPT's weight gradients
	// at d=512, whose partials are 2–8 MiB, measured 1–3% slower split along the depth than
	// cut into blocks of C; the one with 1 MiB (the head's) 3% faster.
	matmulMaxPartials = 1 << 18
	// matmulFoldCost is the cost (in matmulChunkCost's units) of adding one element of a
	// partial product to C: about 0.2 ns (pprof of the GPT's weight gradients at d=128).
	matmulFoldCost = 7
	// matmulFoldRows is the fewest rows of C worth folding on another goroutine.
	matmulFoldRows = 16
)

// runDepthSplit runs a depth split planned by planDepth: the chunks, then the fold.
func (j *matmulJob) runDepthSplit(s *chunkSplitter) {
	j.partials = getPartials((j.kblocks - j.kfirst) * j.m * j.n)
	j.folding = false
	runChunks(j, j.kparts, 1, s)
	j.folding = true
	runChunks(j, j.m, matmulFoldRows, s)
	putPartials(j.partials)
	j.partials = nil
}

// runDepthChunk computes chunk i of a depth split: blocks [b0, b1) of the depth, the first
// chunk's straight into C with the caller's beta, every other block into its own slot (one
// gemm.SgemmPartials call).
func (j *matmulJob) runDepthChunk(i int) {
	b0, b1 := i*j.kblocks/j.kparts, (i+1)*j.kblocks/j.kparts
	if b0 == 0 { // C = op(A)·op(B) + beta·C over the first chunk's depth
		gemm.SgemmBatched(gemm.Default, j.transA, j.transB, j.m, j.n, min(b1*j.kb, j.k), 1, j.a, j.lda, oneItem, j.b, j.ldb, oneItem, j.beta, j.c, j.ldc, oneItem)
		return
	}
	p0, mn := b0*j.kb, j.m*j.n
	a, b := j.depthOperands(p0)
	gemm.SgemmPartials(gemm.Default, j.transA, j.transB, j.m, j.n, min(b1*j.kb, j.k)-p0, 1, a, j.lda, b, j.ldb, j.partials[(b0-j.kfirst)*mn:(b1-j.kfirst)*mn])
}

// depthOperands returns A and B from depth p0 on.
func (j *matmulJob) depthOperands(p0 int) (a, b []float32) {
	a, b = j.a[p0:], j.b[p0:] // op(A) = A, op(B) = Bᵀ: the depth runs along their rows
	if j.transA {             // A is stored k×m
		a = j.a[p0*j.lda:]
	}
	if !j.transB { // B is stored k×n
		b = j.b[p0*j.ldb:]
	}
	return a, b
}

// foldRows adds the partial products to rows [lo, hi) of C in increasing depth.
func (j *matmulJob) foldRows(lo, hi int) {
	n, mn := j.n, j.m*j.n
	for r := lo; r < hi; r++ {
		row := j.c[r*j.ldc : r*j.ldc+n]
		for s := 0; s < j.kblocks-j.kfirst; s++ {
			ResidualAdd(row, row, j.partials[s*mn+r*n:s*mn+r*n+n])
		}
	}
}

// partialPool keeps the buffers of depth splits' partial products between products, so that a
// steady state allocates nothing; it holds one buffer per product running at once.
var partialPool struct {
	sync.Mutex
	free [][]float32
}

// getPartials returns a buffer of n floats from partialPool, allocating one when the pool's
// last is too short (which it then drops).
func getPartials(n int) []float32 {
	partialPool.Lock()
	defer partialPool.Unlock()
	if k := len(partialPool.free); k > 0 {
		buf := partialPool.free[k-1]
		partialPool.free = partialPool.free[:k-1]
		if cap(buf) >= n {
			return buf[:n]
		}
	}
	return make([]float32, n)
}

// putPartials returns a buffer of getPartials to the pool.
func putPartials(buf []float32) {
	partialPool.Lock()
	partialPool.free = append(partialPool.free, buf)
	partialPool.Unlock()
}

// matmulChunkCost estimates the time of a chunk computing m rows and n columns of C, per unit
// of depth: 24 cycles per 12×32 micro-tile (one 16-lane fused multiply-add per cycle), about
// 1.7 cycles per value of op(B) packed (the n columns, whole panels) and 1 per value of op(A)
// read, as measured on the GPT's weight-gradient products with operands coming from memory.
func matmulChunkCost(m, n int) int {
	tiles := (m + matmulTileM - 1) / matmulTileM * ((n + matmulColUnit - 1) / matmulColUnit)
	return 240*tiles + 17*roundUp(n, matmulColUnit) + 10*m
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }
