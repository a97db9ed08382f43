package nn

import (
	"fmt"
	"sync/atomic"

	"github.com/fadam-go/fadam/gemm"
)

// Row-block execution. A chain of per-row layers (a LayerNorm, then a Linear, then GELU, then
// another Linear…) can run one block of rows at a time through the whole chain instead of one
// layer at a time over the whole batch: each layer then reads its input from L1/L2, where the
// layer before it has just written it, rather than from L3 or memory. The layers' Rows methods
// below do one block on the calling goroutine; RowBlocks hands the blocks of a RowJob out to
// the package's worker pool. Each Rows method gives every output element the bits the
// whole-batch method gives it (the products multiply by weights packed once per pass, which
// gemm.Fast's packed products do bit for bit; the parameter-gradient sums keep the whole-batch
// methods' fixed blocks of rows), so a model built this way computes exactly what its
// layer-by-layer version computes, whatever GOMAXPROCS is.
//
// What cannot run per block of rows are the weight gradients, dW += dyᵀ·x, which sum over every
// row: Linear.BackwardWeights runs them as whole products once a chain's blocks are done.

// RowJob is work over the rows of a batch that runs in independent blocks of rows: RunRows(lo,
// hi) must touch only rows [lo, hi) of its outputs (or per-block state), so blocks may run in
// any order and on any goroutine.
type RowJob interface {
	RunRows(lo, hi int)
}

// RowBlocks runs RowJobs over blocks of rows on the package's worker pool. Its zero value is
// ready; it allocates nothing after its first use. A RowBlocks runs one job at a time.
type RowBlocks struct {
	job                  RowJob
	rows, block, nblocks int
	next                 atomic.Int64
	split                chunkSplitter
	packer               linearPacker // PackLinears's job
}

// Run calls job.RunRows(lo, hi) once for every block [i·block, min((i+1)·block, rows)) of the
// rows and returns when all have returned. Blocks are handed out one at a time to whichever
// goroutine is free (the caller's among them), so a goroutine the machine slows down takes
// fewer. It panics if block is not positive.
func (r *RowBlocks) Run(job RowJob, rows, block int) {
	if block <= 0 {
		panic(fmt.Sprintf("nn: RowBlocks.Run with a block of %d rows", block))
	}
	if rows <= 0 {
		return
	}
	r.job, r.rows, r.block = job, rows, block
	r.nblocks = (rows + block - 1) / block
	r.next.Store(0)
	runChunks(r, min(maxChunks(), r.nblocks), 1, &r.split)
	r.job = nil
}

// runChunk claims blocks until none are left; [lo, hi) only counts the goroutines.
func (r *RowBlocks) runChunk(_, _ int) {
	for {
		i := int(r.next.Add(1) - 1)
		if i >= r.nblocks {
			return
		}
		r.job.RunRows(i*r.block, min((i+1)*r.block, r.rows))
	}
}

// packedWeights is a Linear's weight packed for gemm.Fast's packed products: op(B) = Wᵀ for
// the forward (x·Wᵀ) and op(B) = W for the input gradient (dy·W).
type packedWeights struct {
	fast    gemm.Fast
	ok      bool // packed for the current gemm.Default, which is Fast
	fwd, dx gemm.PackedB
}

// PackForward packs W for ForwardRows and ForwardRowsNoBias. Call it after W last changed
// (after every optimizer step) and before those calls, which read the packed copy; it runs on
// the calling goroutine. When gemm.Default is not gemm.Fast nothing is packed and the Rows
// methods multiply by W through gemm.Default instead.
func (l *Linear) PackForward() { l.pack(true) }

// PackBackward packs W for BackwardRowsSet and BackwardRowsSetGELU; see PackForward.
func (l *Linear) PackBackward() { l.pack(false) }

// pack packs op(B) = Wᵀ (forward) or W for the Rows products.
func (l *Linear) pack(forward bool) {
	l.packed.ok = false
	f, ok := defaultFast()
	if !ok {
		return
	}
	l.packed.fast, l.packed.ok = f, true
	if forward {
		f.PackB(&l.packed.fwd, true, l.In, l.Out, l.W.Value, l.In)
	} else {
		f.PackB(&l.packed.dx, false, l.Out, l.In, l.W.Value, l.In)
	}
}

// PackLinears runs PackForward (or, if !forward, PackBackward) of every layer in ls, the layers
// spread over the worker pool; s must not be running a job.
func PackLinears(ls []*Linear, forward bool, s *RowBlocks) {
	s.packer = linearPacker{ls: ls, forward: forward}
	s.Run(&s.packer, len(ls), 1)
	s.packer = linearPacker{}
}

// linearPacker packs one layer per row.
type linearPacker struct {
	ls      []*Linear
	forward bool
}

// RunRows packs layers [lo, hi).
func (p *linearPacker) RunRows(lo, hi int) {
	for _, l := range p.ls[lo:hi] {
		l.pack(p.forward)
	}
}

// PacksWeights reports whether PackForward and PackBackward keep packed copies of the weights,
// which they do when gemm.Default is gemm.Fast.
func PacksWeights() bool {
	_, ok := defaultFast()
	return ok
}

// defaultFast returns gemm.Default as a gemm.Fast, if it is one.
func defaultFast() (gemm.Fast, bool) {
	switch k := gemm.Default.(type) {
	case gemm.Fast:
		return k, true
	case *gemm.Fast:
		return *k, true
	}
	return gemm.Fast{}, false
}

// ForwardRows computes rows [lo, hi) of y = res + x·Wᵀ + b (res nil: no residual; y may be
// res), the rows Forward or ForwardResidual would give them, on the calling goroutine.
// PackForward must have run since W last changed.
func (l *Linear) ForwardRows(y, res, x []float32, lo, hi int) {
	if hi <= lo {
		return
	}
	out := l.Out
	ys := y[lo*out : hi*out]
	beta := float32(1)
	switch {
	case l.B != nil && res == nil:
		b := l.B.Value[:out]
		for r := 0; r < hi-lo; r++ {
			copy(ys[r*out:(r+1)*out], b)
		}
	case l.B != nil:
		addRows(ys, res[lo*out:hi*out], l.B.Value[:out])
	case res == nil:
		beta = 0
	case &res[lo*out] != &ys[0]:
		copy(ys, res[lo*out:hi*out])
	}
	l.rowsProduct(true, hi-lo, x[lo*l.In:hi*l.In], beta, ys, nil)
}

// ForwardRowsNoBias computes rows [lo, hi) of y = x·Wᵀ (ForwardNoBias's rows) on the calling
// goroutine. PackForward must have run since W last changed.
func (l *Linear) ForwardRowsNoBias(y, x []float32, lo, hi int) {
	if hi <= lo {
		return
	}
	l.rowsProduct(true, hi-lo, x[lo*l.In:hi*l.In], 0, y[lo*l.Out:hi*l.Out], nil)
}

// BackwardRowsSet sets rows [lo, hi) of dx to dy·W (BackwardSet's dx) on the calling
// goroutine; the parameter gradients are BackwardWeights's. PackBackward must have run since W
// last changed.
func (l *Linear) BackwardRowsSet(dx, dy []float32, lo, hi int) {
	if hi <= lo {
		return
	}
	l.rowsProduct(false, hi-lo, dy[lo*l.Out:hi*l.Out], 0, dx[lo*l.In:hi*l.In], nil)
}

// StartBackwardRowsGELU prepares BackwardRowsSetGELU calls over rows rows: dx is set to the
// gradient of pre, for a layer whose input was act = gelu(pre + b) (see BackwardSetGELU for
// pre, b and sig), and, if sums, the bias gradient of the layer before is summed for
// FinishBackwardRowsGELU. With sig nil (GELU.ForwardBiasRowsNoSig), σ is recomputed from pre
// and b, block by block, with the bits the forward gave it. PackBackward must have run since W
// last changed.
func (l *Linear) StartBackwardRowsGELU(dx, pre, b, sig []float32, rows int, sums bool) {
	n := rows * l.In
	if b != nil {
		b = b[:l.In]
	}
	if sig != nil {
		sig = sig[:n]
	}
	l.gradEp.reset(dx[:n], pre[:n], b, sig, l.In, rows, sums)
	if blocks := (rows + GELUBiasRowBlock - 1) / GELUBiasRowBlock; len(l.rowEps) < blocks {
		l.rowEps = make([]geluRowsEpilogue, blocks)
	}
}

// geluRowsEpilogue passes the blocks of one BackwardRowsSetGELU call, which starts at row i0,
// on to ep in the coordinates of the whole dx, with scratch (owned by the goroutine running the
// call, made by the first call starting at that row) for σ where ep recomputes it.
type geluRowsEpilogue struct {
	ep      *geluGradEpilogue
	i0      int
	scratch []float32
}

// Block passes a block of the call on to e.ep, shifted by the call's first row.
func (e *geluRowsEpilogue) Block(_, i0, i1, j0, j1 int) {
	e.ep.blockScratch(e.i0+i0, e.i0+i1, j0, j1, e.scratch)
}

// BackwardRowsSetGELU sets rows [lo, hi) of StartBackwardRowsGELU's dx to (dy·W)·gelu′(pre +
// b), the rows BackwardSetGELU gives, on the calling goroutine. lo must be a multiple of
// GELUBiasRowBlock.
func (l *Linear) BackwardRowsSetGELU(dy []float32, lo, hi int) {
	if hi <= lo {
		return
	}
	if lo%GELUBiasRowBlock != 0 {
		panic(fmt.Sprintf("nn: BackwardRowsSetGELU from row %d, not a multiple of %d", lo, GELUBiasRowBlock))
	}
	ce := &l.rowEps[lo/GELUBiasRowBlock]
	ce.ep, ce.i0 = &l.gradEp, lo
	if l.gradEp.sig == nil && len(ce.scratch) < 2*l.In { // σ recomputed: once per block start
		ce.scratch = make([]float32, 2*l.In)
	}
	l.rowsProduct(false, hi-lo, dy[lo*l.Out:hi*l.Out], 0, l.gradEp.dx[lo*l.In:hi*l.In], ce)
}

// FinishBackwardRowsGELU adds the bias gradient summed by the BackwardRowsSetGELU calls to db
// (db nil: nothing), in the order BackwardSetGELU adds it.
func (l *Linear) FinishBackwardRowsGELU(db []float32) {
	if db != nil && l.gradEp.partial != nil {
		l.gradEp.finish(db[:l.In])
	}
}

// BackwardWeights accumulates the gradient of W, dyᵀ·x over all rows, and, if bias and the
// layer has one, of B: the parameter half of BackwardSet, for a caller that computes dx by
// blocks of rows with BackwardRowsSet. It runs on the worker pool.
func (l *Linear) BackwardWeights(dy, x []float32, rows int, bias bool) {
	l.backward(nil, dy, x, rows, 0, bias)
}

// rowsProduct computes c (rows rows) = a·op(B) + beta·c on the calling goroutine, op(B) = Wᵀ
// (forward) or W, from the packed copy when there is one; ep (nil: none) runs on c's blocks.
func (l *Linear) rowsProduct(forward bool, rows int, a []float32, beta float32, c []float32, ep gemm.Epilogue) {
	k, n := l.Out, l.In
	pb := &l.packed.dx
	if forward {
		k, n, pb = l.In, l.Out, &l.packed.fwd
	}
	if l.packed.ok && pb.K() == k && pb.N() == n {
		l.packed.fast.SgemmPackedSerial(false, rows, n, k, 1, a, k, pb, 0, beta, c, n, ep)
		return
	}
	gemm.SgemmBatchedEpilogue(gemm.Default, false, forward, rows, n, k, 1, a, k, oneItem, l.W.Value, l.In, oneItem, beta, c, n, oneItem, ep)
}

// ForwardRows normalises rows [lo, hi) of x into y, mean and rstd (Forward's rows) on the
// calling goroutine.
func (ln *LayerNorm) ForwardRows(y, mean, rstd, x []float32, lo, hi int) {
	j := layerNormForward{ln: ln, y: y, mean: mean, rstd: rstd, x: x}
	j.runChunk(lo, hi)
}

// StartBackwardRows prepares BackwardRows calls over rows rows.
func (ln *LayerNorm) StartBackwardRows(rows int) {
	blocks := (rows + LayerNormRowBlock - 1) / LayerNormRowBlock
	if len(ln.partial) < blocks*2*ln.C {
		ln.partial = make([]float32, blocks*2*ln.C)
	}
}

// BackwardRows adds the input gradient of rows [lo, hi) to dx (Backward's rows) and sums their
// parameter gradients for FinishBackwardRows, on the calling goroutine. lo must be a multiple
// of LayerNormRowBlock and hi one too or the last row; StartBackwardRows(rows) must have run.
func (ln *LayerNorm) BackwardRows(dx, dy, x, mean, rstd []float32, lo, hi, rows int) {
	if hi <= lo {
		return
	}
	if lo%LayerNormRowBlock != 0 || hi%LayerNormRowBlock != 0 && hi != rows {
		panic(fmt.Sprintf("nn: LayerNorm.BackwardRows over rows [%d, %d) of %d, not whole blocks of %d", lo, hi, rows, LayerNormRowBlock))
	}
	j := layerNormBackward{ln: ln, dx: dx, dy: dy, x: x, mean: mean, rstd: rstd, rows: rows}
	j.runChunk(lo/LayerNormRowBlock, (hi+LayerNormRowBlock-1)/LayerNormRowBlock)
}

// FinishBackwardRows adds the parameter gradients summed by the BackwardRows calls over rows
// rows to G.Grad and B.Grad, in the order Backward adds them.
func (ln *LayerNorm) FinishBackwardRows(rows int) {
	c := ln.C
	dg, db := ln.G.Grad[:c], ln.B.Grad[:c]
	for k := range (rows + LayerNormRowBlock - 1) / LayerNormRowBlock {
		p := ln.partial[k*2*c : (k+1)*2*c]
		ResidualAdd(dg, dg, p[:c])
		ResidualAdd(db, db, p[c:])
	}
}

// ForwardBiasRows sets rows [lo, hi) of y = gelu(x + b) and sig (ForwardBias's rows; rows of
// len(b) features) on the calling goroutine.
func (g *GELU) ForwardBiasRows(y, sig, x, b []float32, lo, hi int) {
	j := geluBiasJob{y: y, sig: sig, x: x, b: b}
	j.runChunk(lo, hi)
}

// ForwardBiasRowsNoSig is ForwardBiasRows without keeping σ: scratch (len(b) floats, one
// scratch per goroutine calling at once) takes each row's in turn. A model that stores
// activations for its backward pass saves the memory (a fifth of the GPT's activations; its
// step measured no slower for the recomputation); StartBackwardRowsGELU with no sig has
// BackwardRowsSetGELU recompute σ, with the bits it had here.
func (g *GELU) ForwardBiasRowsNoSig(y, x, b, scratch []float32, lo, hi int) {
	j := geluBiasJob{y: y, x: x, b: b, scratch: scratch[:len(b)]}
	j.runChunk(lo, hi)
}
