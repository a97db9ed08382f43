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

	fwd     layerNormForward
	bwd     layerNormBackward
	partial []float32 // Backward's per-block sums of the parameter gradients
	split   chunkSplitter
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
	eps := float64(j.ln.Eps)
	for r := lo; r < hi; r++ {
		y, x := j.y[r*c:(r+1)*c], j.x[r*c:(r+1)*c]
		m, rs, ok := layerNormRowArch(y, x, g, b, eps)
		if !ok {
			m, rs = layerNormRowGeneric(y, x, g, b, eps)
		}
		j.mean[r], j.rstd[r] = m, rs
	}
}

// layerNormRowGeneric normalises one row x (not empty) into y and returns its mean and 1/σ.
// The float64 sums run over 16 lanes in the order of the assembly.
func layerNormRowGeneric(y, x, g, b []float32, eps float64) (mean, rstd float32) {
	c := float64(len(x))
	var lanes [16]float64
	for i, v := range x {
		lanes[i%16] += float64(v)
	}
	m := reduce16f64(&lanes) / c
	lanes = [16]float64{}
	for i, v := range x {
		d := float64(v) - m
		lanes[i%16] += d * d
	}
	rs := 1 / math.Sqrt(reduce16f64(&lanes)/c+eps)
	mean, rstd = float32(m), float32(rs)
	y, g, b = y[:len(x)], g[:len(x)], b[:len(x)]
	for i, v := range x {
		y[i] = (v-mean)*rstd*g[i] + b[i]
	}
	return mean, rstd
}

// Backward accumulates the gradients of G and B and adds the input gradient to dx[rows, C], given
// dy[rows, C] and the forward's x, mean and rstd. One pass over the rows, in blocks of
// LayerNormRowBlock: each block writes its rows of dx and then, while they are in cache, sums
// its rows' parameter gradients; the blocks' sums are added up in block order at the end, so
// the gradients do not depend on GOMAXPROCS.
func (ln *LayerNorm) Backward(dx, dy, x, mean, rstd []float32, rows int) {
	c := ln.C
	if rows <= 0 || c <= 0 {
		return
	}
	ln.StartBackwardRows(rows)
	ln.bwd = layerNormBackward{ln: ln, dx: dx, dy: dy, x: x, mean: mean, rstd: rstd, rows: rows}
	runChunks(&ln.bwd, (rows+LayerNormRowBlock-1)/LayerNormRowBlock, minChunk(max(1, layerNormMinRows/LayerNormRowBlock)), &ln.split)
	ln.FinishBackwardRows(rows)
}

// LayerNormRowBlock is the number of rows whose parameter gradients LayerNorm.Backward sums
// into one partial sum.
const LayerNormRowBlock = 32

// layerNormParamGradsRowsGeneric runs layerNormParamGradsGeneric over rows rows of stride ld.
func layerNormParamGradsRowsGeneric(dg, db, dy, x, mean, rstd []float32, ld, rows int) {
	n := len(dg)
	for r := range rows {
		layerNormParamGradsGeneric(dg, db, dy[r*ld:r*ld+n], x[r*ld:r*ld+n], mean[r], rstd[r])
	}
}

// layerNormParamGradsGeneric adds one row's dy·(x−mean)·rstd to dg and dy to db.
func layerNormParamGradsGeneric(dg, db, dy, x []float32, mean, rstd float32) {
	dg, db, dy = dg[:len(x)], db[:len(x)], dy[:len(x)]
	for i, d := range dy {
		dg[i] += d * (x[i] - mean) * rstd
		db[i] += d
	}
}

type layerNormBackward struct {
	ln                    *LayerNorm
	dx, dy, x, mean, rstd []float32
	rows                  int
}

// runChunk runs the row blocks [lo, hi): dx += rstd·(dŷ − mean(dŷ) − x̂·mean(dŷ·x̂)) with
// dŷ = dy·g for each row, then the block's dg = Σ dy·x̂ and db = Σ dy into its partial sums.
func (j *layerNormBackward) runChunk(lo, hi int) {
	c := j.ln.C
	g := j.ln.G.Value[:c]
	for k := lo; k < hi; k++ {
		r0, r1 := k*LayerNormRowBlock, min((k+1)*LayerNormRowBlock, j.rows)
		for r := r0; r < r1; r++ {
			dx, dy, x := j.dx[r*c:(r+1)*c], j.dy[r*c:(r+1)*c], j.x[r*c:(r+1)*c]
			if !layerNormBackwardRowArch(dx, dy, x, g, j.mean[r], j.rstd[r]) {
				layerNormBackwardRowGeneric(dx, dy, x, g, j.mean[r], j.rstd[r])
			}
		}
		p := j.ln.partial[k*2*c : (k+1)*2*c]
		clear(p)
		dy, x := j.dy[r0*c:r1*c], j.x[r0*c:r1*c]
		mean, rstd := j.mean[r0:r1], j.rstd[r0:r1]
		if !layerNormParamGradsArch(p[:c], p[c:], dy, x, mean, rstd, c, r1-r0) {
			layerNormParamGradsRowsGeneric(p[:c], p[c:], dy, x, mean, rstd, c, r1-r0)
		}
	}
}

// layerNormBackwardRowGeneric is one row of layerNormBackward, its float64 sums over 16 lanes
// in the order of the assembly.
func layerNormBackwardRowGeneric(dx, dy, x, g []float32, mean, rstd float32) {
	c := float64(len(x))
	dx, dy, g = dx[:len(x)], dy[:len(x)], g[:len(x)]
	var sd, sdx [16]float64
	for i, d := range dy {
		dn := d * g[i]
		xhat := (x[i] - mean) * rstd
		sd[i%16] += float64(dn)
		sdx[i%16] += float64(dn) * float64(xhat)
	}
	md, mdx := float32(reduce16f64(&sd)/c), float32(reduce16f64(&sdx)/c)
	for i, d := range dy {
		xhat := (x[i] - mean) * rstd
		dx[i] += rstd * (d*g[i] - md - xhat*mdx)
	}
}
