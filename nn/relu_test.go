package nn_test

import (
	"testing"

	"github.com/fadam-go/fadam/nn"
)

func TestReLU(t *testing.T) {
	x := substrateRand(40, 1, 1)
	for i := range x { // keep inputs away from the kink, where the derivative is undefined
		if x[i] > -0.05 && x[i] < 0.05 {
			x[i] = 0.3
		}
	}
	y := make([]float32, len(x))
	w := substrateRand(len(x), 1, 2)
	nn.ReLU{}.Forward(y, x)
	for i := range x {
		if want := max(x[i], 0); y[i] != want {
			t.Fatalf("y[%d] = %v, want %v", i, y[i], want)
		}
	}
	loss := func() float64 { nn.ReLU{}.Forward(y, x); return substrateDot(w, y) }
	dx := make([]float32, len(x))
	nn.ReLU{}.Forward(y, x)
	nn.ReLU{}.Backward(dx, w, y)
	substrateGradcheck(t, "x", loss, x, dx, 1e-3, 1e-3)
}
