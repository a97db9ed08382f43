package nn

import (
	"math"
)

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
)

// Forward sets y = gelu(x) element-wise; y and x have the same length and may be the same slice.
func (g *GELU) Forward(y, x []float32) {
	g.job = geluJob{y: y, x: x}
	runChunks(&g.job, len(x), geluMinElems, &g.split)
}

// Backward adds dy·gelu′(x) to dx.
func (g *GELU) Backward(dx, dy, x []float32) {
	g.job = geluJob{backward: true, y: dx, dy: dy, x: x}
	runChunks(&g.job, len(x), geluMinElems, &g.split)
}

type geluJob struct {
	backward bool
	y, dy, x []float32
}

// runChunk uses ½(1 + tanh u) = σ(2u) = 1/(1 + e^{−2u}): one math.Exp (assembly on amd64)
// is cheaper than math.Tanh, and e^{−2u} = +Inf for very negative u gives σ = 0, not NaN.
func (j *geluJob) runChunk(lo, hi int) {
	x := j.x[lo:hi]
	if !j.backward {
		y := j.y[lo:hi]
		for i, v := range x {
			xf := float64(v)
			u := geluScale * (xf + geluCubic*xf*xf*xf)
			y[i] = float32(xf / (1 + math.Exp(-2*u)))
		}
		return
	}
	dx, dy := j.y[lo:hi], j.dy[lo:hi]
	for i, v := range x {
		xf := float64(v)
		u := geluScale * (xf + geluCubic*xf*xf*xf)
		s := 1 / (1 + math.Exp(-2*u))
		// d/dx x·σ(2u) = σ + x·σ(1−σ)·2u′
		d := s + xf*s*(1-s)*2*geluScale*(1+3*geluCubic*xf*xf)
		dx[i] += dy[i] * float32(d)
	}
}
