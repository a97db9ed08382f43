package nn

// GELU is the tanh approximation of the Gaussian error linear unit used by GPT-2:
// gelu(x) = x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³))). It has no parameters; the struct only
// carries the state that lets it split work across goroutines without allocating.
type GELU struct {
	job     geluJob
	bias    geluBiasJob
	partial []float32 // BackwardSetBias's per-block bias sums
	split   chunkSplitter
}

const (
	geluScale = 0.7978845608028654 // √(2/π)
	geluCubic = 0.044715
	// geluMinElems is the least number of elements worth a second goroutine.
	geluMinElems = 1 << 14
	// Beyond ±geluLinear gelu(x) is max(x, 0) to float32 precision; the cut keeps v³ and v²
	// below overflow, so no Inf·0 = NaN reaches the derivative.
	geluLinear = 1e6
)

// Forward sets y = gelu(x) element-wise and keeps σ(2u(x)) = ½(1 + tanh u) in sig for
// Backward. y, sig and x have the same length; y may be x.
func (g *GELU) Forward(y, sig, x []float32) {
	g.job = geluJob{y: y, sig: sig, x: x}
	runChunks(&g.job, len(x), geluMinElems, &g.split)
}

// Backward adds dy·gelu′(x) to dx, given the forward's x and sig.
func (g *GELU) Backward(dx, dy, x, sig []float32) {
	g.job = geluJob{backward: true, add: true, y: dx, dy: dy, x: x, sig: sig}
	runChunks(&g.job, len(x), geluMinElems, &g.split)
}

// BackwardSet is Backward with dx set to dy·gelu′(x) rather than added to, which spares the
// caller a pass that zeroes dx first.
func (g *GELU) BackwardSet(dx, dy, x, sig []float32) {
	g.job = geluJob{backward: true, y: dx, dy: dy, x: x, sig: sig}
	runChunks(&g.job, len(x), geluMinElems, &g.split)
}

// ForwardBias sets y = gelu(x + b) for every row of x (rows of len(b) features; len(x) a
// multiple) and keeps σ in sig for BackwardSetBias: the bias of the preceding Linear (see
// Linear.ForwardNoBias) and the activation in one pass. x is left as it is (the product
// without its bias); the backward pass adds b again on the fly. y and sig are the bits Forward
// gives on x + b.
func (g *GELU) ForwardBias(y, sig, x, b []float32) {
	if len(b) == 0 {
		return
	}
	g.bias = geluBiasJob{y: y, sig: sig, x: x, b: b}
	runChunks(&g.bias, len(x)/len(b), minChunk(max(1, geluMinElems/len(b))), &g.split)
}

// BackwardSetBias sets dx = dy·gelu′(x + b), for the x, b and sig of ForwardBias, and adds the
// column sums of dx, Σ_rows dx, to db (len(db) = len(b) features): the bias gradient of the
// preceding Linear (see Linear.BackwardSetNoBias) without a second pass over dx. dx is the
// bits BackwardSet gives on x + b. The sums run over blocks of GELUBiasRowBlock rows in a fixed
// order, so they do not depend on GOMAXPROCS.
func (g *GELU) BackwardSetBias(dx, dy, x, b, sig, db []float32) {
	n := len(db)
	if n == 0 {
		return
	}
	rows := len(x) / n
	blocks := (rows + GELUBiasRowBlock - 1) / GELUBiasRowBlock
	if len(g.partial) < blocks*n {
		g.partial = make([]float32, blocks*n)
	}
	partial := g.partial[:blocks*n]
	g.bias = geluBiasJob{backward: true, y: dx, dy: dy, x: x, sig: sig, b: b, partial: partial, rows: rows}
	runChunks(&g.bias, blocks, minChunk(max(1, geluMinElems/(GELUBiasRowBlock*n))), &g.split)
	for k := range blocks {
		ResidualAdd(db, db, partial[k*n:(k+1)*n])
	}
}

// GELUBiasRowBlock is the number of rows whose gradient GELU.BackwardSetBias sums into one
// partial bias gradient while they are still in cache.
const GELUBiasRowBlock = 32

type geluJob struct {
	backward, add bool
	y, dy, x, sig []float32
}

// geluBiasJob is ForwardBias over rows, or BackwardSetBias over blocks of GELUBiasRowBlock rows.
type geluBiasJob struct {
	backward         bool
	y, dy, x, sig, b []float32
	partial          []float32 // per block of rows, its column sums of dx
	rows             int
	scratch          []float32 // ForwardBiasRowsNoSig: one row's σ, not kept
}

func (j *geluBiasJob) runChunk(lo, hi int) {
	n := len(j.b)
	if !j.backward {
		for r := lo; r < hi; r++ {
			sig := j.scratch // σ not kept: every row's goes to the same scratch
			if sig == nil {
				sig = j.sig[r*n : (r+1)*n]
			}
			geluBiasForwardRow(j.y[r*n:(r+1)*n], sig, j.x[r*n:(r+1)*n], j.b)
		}
		return
	}
	for k := lo; k < hi; k++ {
		r0, r1 := k*GELUBiasRowBlock, min((k+1)*GELUBiasRowBlock, j.rows)
		for r := r0; r < r1; r++ {
			dx, dy, x, sig := j.y[r*n:(r+1)*n], j.dy[r*n:(r+1)*n], j.x[r*n:(r+1)*n], j.sig[r*n:(r+1)*n]
			if !geluBiasBackwardArch(dx, dy, x, j.b, sig) {
				geluBiasBackwardGeneric(dx, dy, x, j.b, sig)
			}
		}
		p := j.partial[k*n : (k+1)*n]
		copy(p, j.y[r0*n:(r0+1)*n])
		sumRows(p, j.y[(r0+1)*n:], n, r1-r0-1)
	}
}

// geluBiasForwardGeneric sets y = gelu(x + b) and sig in Go, 16 elements at a time through
// the operations of geluForwardGeneric.
func geluBiasForwardGeneric(y, sig, x, b []float32) {
	var u [16]float32
	for i := 0; i < len(x); i += 16 {
		m := min(16, len(x)-i)
		addGeneric(u[:m], x[i:i+m], b[i:i+m])
		geluForwardGeneric(y[i:i+m], sig[i:i+m], u[:m])
	}
}

// geluBiasBackwardGeneric sets dx = dy·gelu′(x + b) in Go through the operations of
// geluBackwardGeneric.
func geluBiasBackwardGeneric(dx, dy, x, b, sig []float32) {
	var u [16]float32
	for i := 0; i < len(x); i += 16 {
		m := min(16, len(x)-i)
		addGeneric(u[:m], x[i:i+m], b[i:i+m])
		geluBackwardGeneric(dx[i:i+m], dy[i:i+m], u[:m], sig[i:i+m], false)
	}
}

// runChunk uses ½(1 + tanh u) = σ(2u) = 1/(1 + e^{−2u}): one exponential instead of a tanh,
// in float32 through expInPlace32 (this loop was a third of a training step with math.Tanh).
// The forward keeps σ, so the backward needs no exponential at all.
func (j *geluJob) runChunk(lo, hi int) {
	x, sig := j.x[lo:hi], j.sig[lo:hi]
	if !j.backward {
		if len(x) > 0 && geluForwardArch(j.y[lo:hi], sig, x) {
			return
		}
		geluForwardGeneric(j.y[lo:hi], sig, x)
		return
	}
	if len(x) > 0 && geluBackwardArch(j.y[lo:hi], j.dy[lo:hi], x, sig, j.add) {
		return
	}
	geluBackwardGeneric(j.y[lo:hi], j.dy[lo:hi], x, sig, j.add)
}

// geluForwardRow sets y = gelu(x) and sig over one run of elements (the bits of Forward).
func geluForwardRow(y, sig, x []float32) {
	if len(x) > 0 && geluForwardArch(y, sig, x) {
		return
	}
	geluForwardGeneric(y, sig, x)
}

// geluBiasForwardRow sets y = gelu(x + b) and sig over one row (the bits of ForwardBias).
func geluBiasForwardRow(y, sig, x, b []float32) {
	if !geluBiasForwardArch(y, sig, x, b) {
		geluBiasForwardGeneric(y, sig, x, b)
	}
}

// geluForwardGeneric sets y = x·σ and sig = σ = σ(2u(x)) in Go.
func geluForwardGeneric(y, sig, x []float32) {
	for i, v := range x {
		if v > geluLinear { // beyond ±geluLinear σ is 0 or 1 anyway
			v = geluLinear
		} else if v < -geluLinear {
			v = -geluLinear
		}
		sig[i] = -2 * geluScale * (v + geluCubic*v*v*v)
	}
	expInPlaceGeneric(sig)
	for i, v := range x {
		s := 1 / (1 + sig[i])
		if v < -geluLinear {
			s = 0 // not the tiny 1/(1+e^87), which times a huge |x| is not ≈ 0
		}
		sig[i] = s
		y[i] = v * s
	}
}

// geluBackwardGeneric adds dy·gelu′(x) to dx in Go, or sets dx to it if not add (as 0 +
// dy·gelu′(x), the assembly's order).
func geluBackwardGeneric(dx, dy, x, sig []float32, add bool) {
	for i, v := range x {
		s := sig[i]
		var old float32
		if add {
			old = dx[i]
		}
		if v > geluLinear || v < -geluLinear {
			dx[i] = old + dy[i]*s // σ is exactly 0 or 1 out there
			continue
		}
		// d/dx x·σ(2u) = σ + x·σ(1−σ)·2u′
		d := s + v*s*(1-s)*(2*geluScale)*(1+3*geluCubic*v*v)
		dx[i] = old + dy[i]*d
	}
}
