package nn_test

import (
	"testing"

	"github.com/fadam-go/fadam/nn"
)

func BenchmarkGELUForwardBackward(b *testing.B) {
	x := substrateRand(1<<16, 1, 1)
	y, dx, sig := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
	var g nn.GELU
	for b.Loop() {
		g.Forward(y, sig, x)
		g.Backward(dx, y, x, sig)
	}
}
