package nn_test

import (
	"testing"

	"github.com/fadam-go/fadam/nn"
)

func TestGELUValues(t *testing.T) {
	// Values of x/2·(1+tanh(√(2/π)(x+0.044715x³))) computed in float64 by hand.
	x := []float32{-3, -1, 0, 0.5, 1, 2}
	want := []float64{-0.0036373920817729943, -0.15880800939172324, 0, 0.34571400982514394, 0.8411919906082768, 1.954597694087775}
	y := make([]float32, len(x))
	var g nn.GELU
	g.Forward(y, x)
	substrateClose(t, "gelu", y, want, 1e-6)
}

func TestGELUGradients(t *testing.T) {
	// 40000 elements crosses the threshold at which the work is split over goroutines.
	for _, n := range []int{17, 40000} {
		x := substrateRand(n, 2, 1)
		w := substrateRand(n, 1, 2)
		y := make([]float32, n)
		var g nn.GELU
		loss := func() float64 { g.Forward(y, x); return substrateDot(w, y) }
		dx := make([]float32, n)
		g.Backward(dx, w, x)
		substrateGradcheck(t, "x", loss, x, dx, 1e-2, 1e-2)
	}
}
