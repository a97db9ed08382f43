// Package gradcheck compares analytic gradients of the substrate's layers with central finite
// differences. It is used by the layers' tests.
package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Result reports the worst disagreement found by Check.
type Result struct {
	MaxAbsErr float64 // largest |analytic − numeric|
	MaxRelErr float64 // largest |analytic − numeric| / max(|analytic|+|numeric|, Floor)
	Index     int     // element at which MaxRelErr occurred
	Analytic  float64 // analytic gradient at Index
	Numeric   float64 // numeric gradient at Index
}

// Floor keeps the relative error of near-zero gradients from exploding: below it, errors are
// measured in absolute terms.
const Floor = 1e-3

// Check perturbs up to n elements of x (all of them when n <= 0 or n >= len(x); otherwise a
// sample chosen by seed), re-evaluates loss at x ± h for each, and compares the central
// difference (loss(x+h) − loss(x−h)) / 2h with grad. loss must recompute the scalar loss from the
// current contents of x (and may use float32 arithmetic inside: pick h around 1e-2·|x| for that).
// x is restored exactly after each probe. It returns an error when lengths disagree.
func Check(loss func() float64, x, grad []float32, h float64, n int, seed uint64) (Result, error) {
	if len(x) != len(grad) {
		return Result{}, fmt.Errorf("gradcheck: len(x)=%d but len(grad)=%d", len(x), len(grad))
	}
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	if n > 0 && n < len(x) {
		rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		idx = idx[:n]
	}
	var r Result
	r.Index = -1
	for _, i := range idx {
		orig := x[i]
		x[i] = float32(float64(orig) + h)
		up := float64(x[i]) - float64(orig) // the step actually taken in float32
		lp := loss()
		x[i] = float32(float64(orig) - h)
		down := float64(orig) - float64(x[i])
		lm := loss()
		x[i] = orig
		num := (lp - lm) / (up + down)
		ana := float64(grad[i])
		abs := math.Abs(ana - num)
		rel := abs / math.Max(math.Abs(ana)+math.Abs(num), Floor)
		if abs > r.MaxAbsErr {
			r.MaxAbsErr = abs
		}
		if rel > r.MaxRelErr || r.Index < 0 {
			r.MaxRelErr, r.Index, r.Analytic, r.Numeric = rel, i, ana, num
		}
	}
	return r, nil
}

// Directional compares the derivative of loss along one random direction (every element of x
// moved by ±h, the signs drawn from seed) with the analytic one: (loss(x+v) − loss(x−v)) / 2
// against Σ grad·v, with x+v and x−v rounded to float32 and v taken from the rounded points.
// Where one element's central difference drowns in the rounding noise of a float32 loss (a small
// gradient element, a ReLU kink nearby), the directional derivative sums the whole tensor's
// gradient into one signal well above that noise, so it catches a wrong gradient the per-element
// probes cannot resolve. It returns the analytic and the numeric derivative; x is restored
// exactly, and an error is returned when lengths disagree.
func Directional(loss func() float64, x, grad []float32, h float64, seed uint64) (analytic, numeric float64, err error) {
	if len(x) != len(grad) {
		return 0, 0, fmt.Errorf("gradcheck: len(x)=%d but len(grad)=%d", len(x), len(grad))
	}
	rng := rand.New(rand.NewPCG(seed, 0xd1b54a32d192ed03))
	orig := append([]float32(nil), x...)
	minus := make([]float32, len(x))
	for i, o := range orig {
		s := h
		if rng.IntN(2) == 0 {
			s = -h
		}
		x[i], minus[i] = float32(float64(o)+s), float32(float64(o)-s)
		analytic += float64(grad[i]) * (float64(x[i]) - float64(minus[i])) / 2
	}
	lp := loss()
	copy(x, minus)
	lm := loss()
	copy(x, orig)
	return analytic, (lp - lm) / 2, nil
}
