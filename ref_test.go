package fadam_test

import (
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/reference"
)

// newRef returns the float64 reference (package reference) of FAdam or FAdafactor for ps.
func newRef(t testing.TB, cfg fadam.Config, factored bool, ps []fadam.Param) *reference.Optimizer {
	t.Helper()
	alg := fadam.AlgorithmFAdam
	if factored {
		alg = fadam.AlgorithmFAdafactor
	}
	return newRefAlg(t, alg, cfg, ps)
}

// newRefAlg returns the float64 reference of algorithm alg for ps.
func newRefAlg(t testing.TB, alg fadam.Algorithm, cfg fadam.Config, ps []fadam.Param) *reference.Optimizer {
	t.Helper()
	r, err := reference.New(alg, cfg, ps)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// refStep steps the reference with float32 gradients.
func refStep(t testing.TB, r *reference.Optimizer, grads [][]float32) {
	t.Helper()
	if err := r.StepFloat32(grads); err != nil {
		t.Fatal(err)
	}
}
