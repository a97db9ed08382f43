package nn

// GELU is the tanh approximation of the Gaussian error linear unit used by GPT-2:
// gelu(x) = x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³))). It has no parameters; the struct only
// carries the state that lets it split work across goroutines without allocating.
type GELU struct {
	job   geluJob
	split chunkSplitter
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

type geluJob struct {
	backward, add bool
	y, dy, x, sig []float32
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
