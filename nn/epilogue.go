package nn

import "sync/atomic"

// Element-wise work after a linear layer's product can run in the product's epilogue (see
// gemm.Epilogue): on each block of the output as soon as the block is final, while it is still
// in L1/L2, instead of in a pass of its own that reads the whole output back from memory. An
// epilogue here must be element-wise, or sum over blocks of rows fixed in the output's own
// coordinates, so that its bits do not depend on where the product is cut, hence not on
// GOMAXPROCS. Measured on the GPT's shapes (docs/speed.md, "Fused epilogues"), GELU's backward
// pays this way; the bias and residual adds of the forward and GELU's forward did not, and run
// in passes of their own.

// geluGradEpilogue finishes g = dy·W (in dx) with dx = g·gelu′(pre + b), given the forward's
// pre, b (nil: gelu′(pre)) and sig, and, if db is set, sums the columns of dx over each block of
// GELUBiasRowBlock rows that lies whole inside an epilogue block into partial. done counts, per
// row block, the columns summed that way; finish sums the rest and adds the partial sums to db
// in row-block order, which gives the bits of GELU.BackwardSetBias whatever the cut.
type geluGradEpilogue struct {
	dx, pre, b, sig []float32
	n, rows         int
	partial         []float32      // [row blocks, n]
	done            []atomic.Int32 // per row block, the columns of partial set
}

// reset prepares e for a product of rows×n, with partial sums when sums is set.
func (e *geluGradEpilogue) reset(dx, pre, b, sig []float32, n, rows int, sums bool) {
	partial, done := e.partial, e.done
	*e = geluGradEpilogue{dx: dx, pre: pre, b: b, sig: sig, n: n, rows: rows}
	if !sums {
		return
	}
	blocks := (rows + GELUBiasRowBlock - 1) / GELUBiasRowBlock
	if len(partial) < blocks*n {
		partial = make([]float32, blocks*n)
	}
	if len(done) < blocks {
		done = make([]atomic.Int32, blocks)
	}
	e.partial, e.done = partial[:blocks*n], done[:blocks]
	for k := range e.done {
		e.done[k].Store(0)
	}
}

// Block turns rows i0:i1, columns j0:j1 of dx into the pre-activation gradient and sums the
// 32-row blocks that lie whole inside it into partial.
func (e *geluGradEpilogue) Block(_, i0, i1, j0, j1 int) {
	e.blockScratch(i0, i1, j0, j1, nil)
}

// blockScratch is Block, recomputing σ into scratch (2·(j1−j0) floats at least, owned by
// the calling goroutine) when e keeps no sig: the forward's kernel on the same pre and b, so σ
// gets the bits the forward gave it.
func (e *geluGradEpilogue) blockScratch(i0, i1, j0, j1 int, scratch []float32) {
	for i := i0; i < i1; i++ {
		lo, hi := i*e.n+j0, i*e.n+j1
		dx, pre := e.dx[lo:hi], e.pre[lo:hi]
		var sig []float32
		if e.sig != nil {
			sig = e.sig[lo:hi]
		} else {
			w := hi - lo
			sig = scratch[w : 2*w]
			if e.b == nil {
				geluForwardRow(scratch[:w], sig, pre)
			} else {
				geluBiasForwardRow(scratch[:w], sig, pre, e.b[j0:j1])
			}
		}
		switch {
		case e.b == nil:
			if !geluBackwardArch(dx, dx, pre, sig, false) {
				geluBackwardGeneric(dx, dx, pre, sig, false)
			}
		case !geluBiasBackwardArch(dx, dx, pre, e.b[j0:j1], sig):
			geluBiasBackwardGeneric(dx, dx, pre, e.b[j0:j1], sig)
		}
	}
	if e.partial == nil {
		return
	}
	for k := (i0 + GELUBiasRowBlock - 1) / GELUBiasRowBlock; ; k++ {
		r0, r1 := k*GELUBiasRowBlock, min((k+1)*GELUBiasRowBlock, e.rows)
		if r0 >= i1 || r1 > i1 {
			return
		}
		e.sumBlock(k, j0, j1)
		e.done[k].Add(int32(j1 - j0))
	}
}

// sumBlock sets columns j0:j1 of partial row block k to the sums of dx over its rows, in row
// order.
func (e *geluGradEpilogue) sumBlock(k, j0, j1 int) {
	r0, r1 := k*GELUBiasRowBlock, min((k+1)*GELUBiasRowBlock, e.rows)
	p := e.partial[k*e.n+j0 : k*e.n+j1]
	copy(p, e.dx[r0*e.n+j0:])
	if r1-r0 > 1 {
		sumRows(p, e.dx[(r0+1)*e.n+j0:], e.n, r1-r0-1)
	}
}

// finish sums the row blocks no epilogue block held whole, then adds every block's sums to db
// in order.
func (e *geluGradEpilogue) finish(db []float32) {
	for k := range e.done {
		if int(e.done[k].Load()) != e.n {
			e.sumBlock(k, 0, e.n)
		}
		ResidualAdd(db, db, e.partial[k*e.n:(k+1)*e.n])
	}
}
