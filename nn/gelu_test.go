package nn_test

import (
	"math"
	"testing"

	"github.com/fadam-go/fadam/nn"
)

func TestGELUValues(t *testing.T) {
	// Values of x/2·(1+tanh(√(2/π)(x+0.044715x³))) computed in float64 by hand.
	x := []float32{-3, -1, 0, 0.5, 1, 2}
	want := []float64{-0.0036373920817729943, -0.15880800939172324, 0, 0.34571400982514394, 0.8411919906082768, 1.954597694087775}
	y := make([]float32, len(x))
	var g nn.GELU
	g.Forward(y, make([]float32, len(x)), x)
	substrateClose(t, "gelu", y, want, 1e-6)
}

func TestGELUGradients(t *testing.T) {
	// 40000 elements crosses the threshold at which the work is split over goroutines.
	for _, n := range []int{17, 40000} {
		x := substrateRand(n, 2, 1)
		w := substrateRand(n, 1, 2)
		y, sig := make([]float32, n), make([]float32, n)
		var g nn.GELU
		loss := func() float64 { g.Forward(y, sig, x); return substrateDot(w, y) }
		loss()
		dx := make([]float32, n)
		g.Backward(dx, w, x, sig)
		substrateGradcheck(t, "x", loss, x, dx, 1e-2, 1e-2)
		// BackwardSet overwrites what is there with the same gradient.
		loss() // σ of the unperturbed x again
		clear(dx)
		g.Backward(dx, w, x, sig)
		set := substrateRand(n, 1, 3)
		g.BackwardSet(set, w, x, sig)
		for i := range dx {
			if set[i] != dx[i] {
				t.Fatalf("n=%d: BackwardSet gives %v at %d, Backward into zeros %v", n, set[i], i, dx[i])
			}
		}
	}
}

func TestGELUExtremeInputsStayFinite(t *testing.T) {
	x := []float32{-3e38, -1e30, -1e7, -60, 60, 1e7, 1e30, 3e38}
	want := []float64{0, 0, 0, 0, 60, 1e7, 1e30, 3e38}
	wantD := []float32{0, 0, 0, 0, 1, 1, 1, 1}
	y, dx, ones := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
	nn.Fill(ones, 1)
	var g nn.GELU
	sig := make([]float32, len(x))
	g.Forward(y, sig, x)
	g.Backward(dx, ones, x, sig)
	for i := range x {
		if math.Abs(float64(y[i])-want[i]) > 1e-6*math.Abs(want[i])+1e-6 || math.Abs(float64(dx[i]-wantD[i])) > 1e-6 {
			t.Errorf("gelu(%g) = %g, gelu′ = %g; want %g, %g", x[i], y[i], dx[i], want[i], wantD[i])
		}
	}
}
