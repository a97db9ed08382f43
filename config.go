package fadam

import (
	"fmt"
	"math"
)

// Algorithm names one of the four optimizers of this package. Its string is the name used by
// package optimizers, in checkpoints and in reports.
type Algorithm string

const (
	// AlgorithmFAdam is FAdam, Algorithm 1 of the paper ([New]).
	AlgorithmFAdam Algorithm = "fadam"
	// AlgorithmFAdafactor is FAdafactor, Algorithm 2 ([NewFactored]).
	AlgorithmFAdafactor Algorithm = "fadafactor"
	// AlgorithmAdam is Adam with PyTorch AdamW semantics, plus Algorithm 3's update clipping
	// when Clip > 0 ([NewAdam]).
	AlgorithmAdam Algorithm = "adam"
	// AlgorithmAdafactor is Adafactor as printed in Algorithm 4 ([NewAdafactor]).
	AlgorithmAdafactor Algorithm = "adafactor"
)

// Algorithms lists the four algorithms in the order of the paper's pairs.
var Algorithms = []Algorithm{AlgorithmFAdam, AlgorithmAdam, AlgorithmFAdafactor, AlgorithmAdafactor}

// known reports whether a is one of Algorithms.
func (a Algorithm) known() bool {
	switch a {
	case AlgorithmFAdam, AlgorithmFAdafactor, AlgorithmAdam, AlgorithmAdafactor:
		return true
	}
	return false
}

// DefaultsFor returns the defaults of algorithm a with a learning rate of 1e-3: Algorithm 1's
// line 1 for FAdam and FAdafactor (β₁ 0.9, β₂ 0.999, ε 1e-8, ε₂ 0.01, c 1, λ 1e-3, ρ 0.5); for
// Adam the same β and λ with ε 1e-8 and no update clipping (PyTorch's AdamW); for Adafactor
// Algorithm 4's line 1 (ε 1e-30, c 1). An unknown a gets FAdam's defaults.
func DefaultsFor(a Algorithm) Config {
	return Defaults().WithConstants(a)
}

// WithConstants returns c with the constants that belong to algorithm a itself, keeping the
// hyperparameters a comparison shares (LR, Beta1, Beta2, WeightDecay, Maximize, MaxGradNorm):
// for FAdam and FAdafactor ε = 1e-8, ε₂ = 0.01, c = 1, ρ = 0.5 (Algorithm 1, line 1); for Adam
// ε = 1e-8 and no update clipping (PyTorch's AdamW); for Adafactor ε = 1e-30 and c = 1
// (Algorithm 4, line 1). This is how to swap one optimizer for another with everything else
// unchanged, the paper's protocol. An unknown a leaves c unchanged.
func (c Config) WithConstants(a Algorithm) Config {
	switch a {
	case AlgorithmFAdam, AlgorithmFAdafactor:
		c.Eps, c.Eps2, c.Clip, c.Rho = 1e-8, 0.01, 1, 0.5
	case AlgorithmAdam:
		c.Eps, c.Clip = 1e-8, 0
	case AlgorithmAdafactor:
		c.Eps, c.Clip = 1e-30, 1
	}
	return c
}

// Validate reports, wrapping ErrInvalidConfig, the first hyperparameter of c that algorithm a
// cannot run with. Every algorithm needs a finite LR ≥ 0, β₁ and β₂ in [0, 1), finite ε, ε₂,
// λ and MaxGradNorm ≥ 0 and a known Variant; FAdam and FAdafactor also need finite ρ > 0 and c > 0; the baselines
// need finite c ≥ 0 (0 disables clipping). Fields an algorithm does not read are still checked,
// so that every Config an optimizer accepts can be saved and loaded again. The constructors, Step,
// Load and the GoMLX optimizers all call it.
func (c Config) Validate(a Algorithm) error {
	if !a.known() {
		return fmt.Errorf("%w: unknown algorithm %q", ErrInvalidConfig, string(a))
	}
	bad := func(field string, v float64, want string) error {
		return fmt.Errorf("%w: %s = %v, want %s", ErrInvalidConfig, field, v, want)
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	if !finite(c.LR) || c.LR < 0 {
		return bad("LR", c.LR, "a finite value ≥ 0")
	}
	if !(c.Beta1 >= 0 && c.Beta1 < 1) {
		return bad("Beta1", c.Beta1, "a value in [0, 1)")
	}
	if !(c.Beta2 >= 0 && c.Beta2 < 1) {
		return bad("Beta2", c.Beta2, "a value in [0, 1)")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"Eps", c.Eps}, {"Eps2", c.Eps2}, {"WeightDecay", c.WeightDecay}, {"MaxGradNorm", c.MaxGradNorm}} {
		if !finite(f.v) || f.v < 0 {
			return bad(f.name, f.v, "a finite value ≥ 0")
		}
	}
	if !c.Variant.known() {
		return fmt.Errorf("%w: unknown Variant %d", ErrInvalidConfig, int(c.Variant))
	}
	switch a {
	case AlgorithmFAdam, AlgorithmFAdafactor:
		if !finite(c.Rho) || c.Rho <= 0 {
			return bad("Rho", c.Rho, "a finite value > 0")
		}
		if !finite(c.Clip) || c.Clip <= 0 {
			return bad("Clip", c.Clip, "a finite value > 0")
		}
	default:
		if !finite(c.Rho) || c.Rho < 0 {
			return bad("Rho", c.Rho, "a finite value ≥ 0 (unused by this algorithm)")
		}
		if !finite(c.Clip) || c.Clip < 0 {
			return bad("Clip", c.Clip, "a finite value ≥ 0 (0 disables clipping)")
		}
	}
	return nil
}
