package nn_test

import (
	"math"
	"testing"

	"github.com/fadam-go/fadam/nn"
)

func TestLayerNormForwardMatchesFloat64(t *testing.T) {
	const rows, c = 4, 6
	ln := nn.NewLayerNorm("ln", c)
	copy(ln.G.Value, substrateRand(c, 1, 1))
	copy(ln.B.Value, substrateRand(c, 1, 2))
	x := substrateRand(rows*c, 3, 3)
	y, mean, rstd := make([]float32, rows*c), make([]float32, rows), make([]float32, rows)
	ln.Forward(y, mean, rstd, x, rows)
	want := make([]float64, rows*c)
	for r := range rows {
		var m, v float64
		for i := range c {
			m += float64(x[r*c+i]) / c
		}
		for i := range c {
			d := float64(x[r*c+i]) - m
			v += d * d / c
		}
		for i := range c {
			want[r*c+i] = (float64(x[r*c+i])-m)/math.Sqrt(v+1e-5)*float64(ln.G.Value[i]) + float64(ln.B.Value[i])
		}
	}
	substrateClose(t, "y", y, want, 1e-5)
}

func TestLayerNormGradients(t *testing.T) {
	// 300 rows crosses the threshold at which the rows are split over goroutines.
	for _, rows := range []int{3, 300} {
		const c = 8
		ln := nn.NewLayerNorm("ln", c)
		copy(ln.G.Value, substrateRand(c, 1, 1))
		copy(ln.B.Value, substrateRand(c, 1, 2))
		x := substrateRand(rows*c, 2, 3)
		w := substrateRand(rows*c, 1, 4)
		y, mean, rstd := make([]float32, rows*c), make([]float32, rows), make([]float32, rows)
		loss := func() float64 { ln.Forward(y, mean, rstd, x, rows); return substrateDot(w, y) }
		loss()
		dx := make([]float32, len(x))
		nn.ZeroGrads(ln.Params())
		ln.Backward(dx, w, x, mean, rstd, rows)
		substrateGradcheck(t, "x", loss, x, dx, 1e-2, 2e-2)
		substrateGradcheck(t, "g", loss, ln.G.Value, ln.G.Grad, 1e-2, 1e-2)
		substrateGradcheck(t, "b", loss, ln.B.Value, ln.B.Grad, 1e-2, 1e-2)
	}
}

// TestLayerNormParamGradsSplit checks the gain and shift gradients, summed per feature over
// enough rows and features to be split across goroutines, against float64 sums.
func TestLayerNormParamGradsSplit(t *testing.T) {
	const rows, c = 600, 96
	ln := nn.NewLayerNorm("ln", c)
	x, dy := substrateRand(rows*c, 2, 1), substrateRand(rows*c, 1, 2)
	y, mean, rstd := make([]float32, rows*c), make([]float32, rows), make([]float32, rows)
	ln.Forward(y, mean, rstd, x, rows)
	ln.Backward(make([]float32, rows*c), dy, x, mean, rstd, rows)
	wantG, wantB := make([]float64, c), make([]float64, c)
	for r := range rows {
		for i := range c {
			wantG[i] += float64(dy[r*c+i]) * float64(x[r*c+i]-mean[r]) * float64(rstd[r])
			wantB[i] += float64(dy[r*c+i])
		}
	}
	substrateClose(t, "dg", ln.G.Grad, wantG, 1e-4)
	substrateClose(t, "db", ln.B.Grad, wantB, 1e-4)
}
