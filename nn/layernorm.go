package nn

import (
	"math"

	"github.com/fadam-go/fadam"
)

// LayerNorm normalises each row of C features to zero mean and unit variance, then scales by G
// and shifts by B (both of shape [C]).
type LayerNorm struct {
	C    int
	Eps  float32
	G, B *fadam.Param

	fwd   layerNormForward
	bwd   layerNormBackward
	split chunkSplitter
}

// NewLayerNorm returns a LayerNorm over c features with gain 1, shift 0 and ε = 1e-5, its
// parameters named name+".g" and name+".b".
func NewLayerNorm(name string, c int) *LayerNorm {
	ln := &LayerNorm{C: c, Eps: 1e-5, G: NewParam(name+".g", c), B: NewParam(name+".b", c)}
	Fill(ln.G.Value, 1)
	return ln
}

// Params returns G and B.
func (ln *LayerNorm) Params() []*fadam.Param { return []*fadam.Param{ln.G, ln.B} }

// layerNormMinRows is the least number of rows worth a second goroutine (measured: below a few
// hundred rows of 128 features the hand-off costs more than it saves).
const layerNormMinRows = 256

// Forward normalises x[rows, C] into y[rows, C] and stores each row's mean and 1/σ in mean[rows]
// and rstd[rows] for Backward.
func (ln *LayerNorm) Forward(y, mean, rstd, x []float32, rows int) {
	ln.fwd = layerNormForward{ln: ln, y: y, mean: mean, rstd: rstd, x: x}
	runChunks(&ln.fwd, rows, layerNormMinRows, &ln.split)
}

type layerNormForward struct {
	ln               *LayerNorm
	y, mean, rstd, x []float32
}

func (j *layerNormForward) runChunk(lo, hi int) {
	c := j.ln.C
	g, b := j.ln.G.Value[:c], j.ln.B.Value[:c]
	for r := lo; r < hi; r++ {
		xr := j.x[r*c : (r+1)*c]
		var s float64
		for _, v := range xr {
			s += float64(v)
		}
		m := s / float64(c)
		var v2 float64
		for _, v := range xr {
			d := float64(v) - m
			v2 += d * d
		}
		rs := 1 / math.Sqrt(v2/float64(c)+float64(j.ln.Eps))
		mf, rf := float32(m), float32(rs)
		yr := j.y[r*c : (r+1)*c]
		for i, v := range xr {
			yr[i] = (v-mf)*rf*g[i] + b[i]
		}
		j.mean[r], j.rstd[r] = mf, rf
	}
}

// Backward accumulates the gradients of G and B and adds the input gradient to dx[rows, C], given
// dy[rows, C] and the forward's x, mean and rstd.
func (ln *LayerNorm) Backward(dx, dy, x, mean, rstd []float32, rows int) {
	c := ln.C
	// Parameter gradients are sums over rows: one goroutine, fixed order, so they are the same
	// for any GOMAXPROCS.
	dg, db := ln.G.Grad[:c], ln.B.Grad[:c]
	for r := range rows {
		xr, dyr := x[r*c:(r+1)*c], dy[r*c:(r+1)*c]
		m, rs := mean[r], rstd[r]
		for i, d := range dyr {
			dg[i] += d * (xr[i] - m) * rs
			db[i] += d
		}
	}
	ln.bwd = layerNormBackward{ln: ln, dx: dx, dy: dy, x: x, mean: mean, rstd: rstd}
	runChunks(&ln.bwd, rows, layerNormMinRows, &ln.split)
}

type layerNormBackward struct {
	ln                    *LayerNorm
	dx, dy, x, mean, rstd []float32
}

// runChunk adds dx = rstd·(dŷ − mean(dŷ) − x̂·mean(dŷ·x̂)) with dŷ = dy·g for rows [lo, hi).
func (j *layerNormBackward) runChunk(lo, hi int) {
	c := j.ln.C
	g := j.ln.G.Value[:c]
	for r := lo; r < hi; r++ {
		xr, dyr, dxr := j.x[r*c:(r+1)*c], j.dy[r*c:(r+1)*c], j.dx[r*c:(r+1)*c]
		m, rs := j.mean[r], j.rstd[r]
		var sd, sdx float64
		for i, d := range dyr {
			dn := float64(d * g[i])
			sd += dn
			sdx += dn * float64((xr[i]-m)*rs)
		}
		md, mdx := float32(sd/float64(c)), float32(sdx/float64(c))
		for i, d := range dyr {
			xhat := (xr[i] - m) * rs
			dxr[i] += rs * (d*g[i] - md - xhat*mdx)
		}
	}
}
