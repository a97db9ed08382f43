package nn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/fadam-go/fadam/nn/gradcheck"
)

// Helpers for the layer tests of linear, layernorm, attention, gelu, embedding and softmax_xent.

func substrateRand(n int, std float64, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * std)
	}
	return x
}

// substrateDot is Σ w·y in float64: a scalar loss whose gradient with respect to y is w.
func substrateDot(w, y []float32) float64 {
	var s float64
	for i := range y {
		s += float64(w[i]) * float64(y[i])
	}
	return s
}

// substrateGradcheck fails t when grad disagrees with the central difference of loss in x.
func substrateGradcheck(t *testing.T, what string, loss func() float64, x, grad []float32, h, tol float64) {
	t.Helper()
	r, err := gradcheck.Check(loss, x, grad, h, 48, 7)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if r.MaxRelErr > tol {
		t.Errorf("%s: gradient mismatch at %d: analytic %.6g, numeric %.6g (rel %.3g > %.3g)",
			what, r.Index, r.Analytic, r.Numeric, r.MaxRelErr, tol)
	}
}

func substrateClose(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) < len(want) {
		t.Fatalf("%s: len %d < %d", what, len(got), len(want))
	}
	for i, w := range want {
		d := float64(got[i]) - w
		if d < 0 {
			d = -d
		}
		if d > tol*(1+abs64(w)) {
			t.Fatalf("%s[%d] = %.7g, want %.7g (tol %g)", what, i, got[i], w, tol)
		}
	}
}

func abs64(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
