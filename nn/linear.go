package nn

import "github.com/fadam-go/fadam"

// Linear is the affine map y = x·Wᵀ + b applied to each row of x. W has shape [Out, In] (the
// PyTorch layout) and B shape [Out]; B is nil for a layer without bias.
type Linear struct {
	In, Out int
	W, B    *fadam.Param

	bias   linearBiasJob
	mm     matmulJob
	split  chunkSplitter
	gradEp geluGradEpilogue   // BackwardSetGELU's epilogue
	packed packedWeights      // W packed for the Rows methods (rows.go)
	rowEps []geluRowsEpilogue // BackwardRowsSetGELU's epilogues, one per block of GELUBiasRowBlock rows
}

// linearBiasMinElems is the least bias work (elements of y or dy) worth a second goroutine.
const linearBiasMinElems = 1 << 14

// NewLinear returns a Linear layer with zero parameters named name+".w" and name+".b".
func NewLinear(name string, in, out int, bias bool) *Linear {
	l := &Linear{In: in, Out: out, W: NewParam(name+".w", out, in)}
	if bias {
		l.B = NewParam(name+".b", out)
	}
	return l
}

// Params returns the layer's trainable tensors (W, then B if present).
func (l *Linear) Params() []*fadam.Param {
	if l.B == nil {
		return []*fadam.Param{l.W}
	}
	return []*fadam.Param{l.W, l.B}
}

// Forward computes y[rows, Out] = x[rows, In]·Wᵀ + b, overwriting y.
func (l *Linear) Forward(y, x []float32, rows int) {
	l.forward(y, nil, x, rows)
}

// ForwardResidual computes y[rows, Out] = res + x·Wᵀ + b: a residual branch's projection added
// to the stream res in one pass over y rather than a Forward and a ResidualAdd. y may be res.
func (l *Linear) ForwardResidual(y, res, x []float32, rows int) {
	l.forward(y, res[:rows*l.Out], x, rows)
}

// ForwardNoBias computes y[rows, Out] = x·Wᵀ without the bias, for a caller that adds B in a
// pass of its own (GELU.ForwardBias adds it on the way into the activation).
func (l *Linear) ForwardNoBias(y, x []float32, rows int) {
	if rows*l.Out == 0 {
		return
	}
	matmul(&l.mm, &l.split, false, true, rows, l.Out, l.In, 1, x, l.In, l.W.Value, l.In, 0, y, l.Out)
}

// forward starts y as res + b (either may be absent) and lets the product accumulate into it.
// Adding b and res in the product's epilogue instead (y = x·Wᵀ with beta 0, then y += b + res
// on each finished block) measured slower on the GPT's shapes: the product reads the
// pre-pass's y back into its accumulators at no cost, and the pre-pass is a parallel stream
// (see docs/speed.md, "Fused epilogues").
func (l *Linear) forward(y, res, x []float32, rows int) {
	y = y[:rows*l.Out]
	if len(y) == 0 {
		return
	}
	beta := float32(1)
	switch {
	case l.B != nil:
		l.bias = linearBiasJob{l: l, y: y, res: res}
		runChunks(&l.bias, rows, minChunk(linearBiasMinElems/l.Out), &l.split)
	case res == nil:
		beta = 0
	case &res[0] != &y[0]:
		copy(y, res)
	}
	matmul(&l.mm, &l.split, false, true, rows, l.Out, l.In, 1, x, l.In, l.W.Value, l.In, beta, y, l.Out)
}

// Backward accumulates the gradients of W and b from dy[rows, Out] and the forward input x, and
// adds dy·W to dx[rows, In] unless dx is nil.
func (l *Linear) Backward(dx, dy, x []float32, rows int) {
	l.backward(dx, dy, x, rows, 1, true)
}

// BackwardSet is Backward with dx set to dy·W rather than added to, which spares the caller a
// pass that zeroes dx first. The parameter gradients still accumulate.
func (l *Linear) BackwardSet(dx, dy, x []float32, rows int) {
	l.backward(dx, dy, x, rows, 0, true)
}

// BackwardSetNoBias is BackwardSet without the bias gradient, for a caller that accumulates
// B.Grad in a pass of its own (GELU.BackwardSetBias sums it while it writes dy).
func (l *Linear) BackwardSetNoBias(dx, dy, x []float32, rows int) {
	l.backward(dx, dy, x, rows, 0, false)
}

// BackwardSetGELU is BackwardSet for a layer whose input x is act = gelu(pre + b), from
// ForwardNoBias of the layer before it (pre) and GELU.ForwardBias (act and sig): dx is set to the
// gradient of pre, (dy·W)·gelu′(pre + b), computed on each block of dy·W as the product
// finishes it, while the block is in cache (see gemm.Epilogue), and the column sums of dx (the
// gradient of that layer's bias) are added to db unless db is nil. b is nil for a GELU without
// bias (act = gelu(pre), sig from GELU.Forward). dx and db get the bits BackwardSet into a
// separate buffer and then GELU.BackwardSetBias give (GELU.BackwardSet without b), whatever
// GOMAXPROCS is, without that buffer and the second pass over it. l's own parameter gradients
// accumulate as in BackwardSet.
func (l *Linear) BackwardSetGELU(dx, dy, x []float32, rows int, pre, b, sig, db []float32) {
	l.backward(nil, dy, x, rows, 0, true)
	n := rows * l.In
	if n == 0 {
		return
	}
	// Slice everything here, so that a short slice panics on the caller's goroutine rather
	// than in the epilogue on a worker.
	if b != nil {
		b = b[:l.In]
	}
	if db != nil {
		db = db[:l.In]
	}
	l.gradEp.reset(dx[:n], pre[:n], b, sig[:n], l.In, rows, db != nil)
	matmulEpilogue(&l.mm, &l.split, false, false, rows, l.In, l.Out, 1, dy, l.Out, l.W.Value, l.In, 0, dx, l.In, &l.gradEp)
	if db != nil {
		l.gradEp.finish(db)
	}
}

// backward is Backward with dx = dy·W + beta·dx, and the bias gradient if bias.
func (l *Linear) backward(dx, dy, x []float32, rows int, beta float32, bias bool) {
	// dW += dyᵀ·x
	matmul(&l.mm, &l.split, true, false, l.Out, l.In, rows, 1, dy, l.Out, x, l.In, 1, l.W.Grad, l.In)
	if l.B != nil && bias {
		l.bias = linearBiasJob{l: l, backward: true, dy: dy[:rows*l.Out], rows: rows}
		runChunks(&l.bias, l.Out, minChunk(max(16, linearBiasMinElems/max(rows, 1))), &l.split)
	}
	if dx != nil {
		matmul(&l.mm, &l.split, false, false, rows, l.In, l.Out, 1, dy, l.Out, l.W.Value, l.In, beta, dx, l.In)
	}
}

// linearBiasJob is the bias work of a Linear: in the forward pass y[r] = res[r] + b (res nil:
// y[r] = b) over rows; in the backward pass db += Σ_r dy[r] over columns, every column summed
// in row order whatever the split, so the gradient does not depend on GOMAXPROCS.
type linearBiasJob struct {
	l          *Linear
	backward   bool
	y, res, dy []float32
	rows       int
}

func (j *linearBiasJob) runChunk(lo, hi int) {
	out := j.l.Out
	if !j.backward {
		b := j.l.B.Value[:out]
		if j.res == nil {
			for r := lo; r < hi; r++ {
				copy(j.y[r*out:(r+1)*out], b)
			}
			return
		}
		addRows(j.y[lo*out:hi*out], j.res[lo*out:hi*out], b)
		return
	}
	sumRows(j.l.B.Grad[lo:hi], j.dy[lo:], out, j.rows)
}
