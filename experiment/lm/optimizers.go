package lm

import (
	"fmt"
	"strings"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/optimizers"
)

// OptimizerNames lists the optimizers NamedOptimizer knows, in the order of the paper's pairs.
var OptimizerNames = []string{"fadam", "adamw", "fadafactor", "adafactor"}

// SharedConfig is the hyperparameters every optimizer of a comparison shares, as in the paper's
// LLM experiment (§4.1): β₁ = 0.9, β₂ = 0.99, λ = 0.001, and the given peak learning rate.
func SharedConfig(lr float64) fadam.Config {
	c := fadam.Defaults()
	c.LR, c.Beta1, c.Beta2, c.WeightDecay = lr, 0.9, 0.99, 0.001
	return c
}

// NamedOptimizer returns the optimizer called name. Its factory keeps the learning rate, β₁, β₂
// and λ it is given and sets the constants that belong to the algorithm itself: for FAdam and
// FAdafactor those of Algorithm 1 (ε = 1e-8, ε₂ = 0.01, c = 1, ρ = 0.5); for AdamW ε = 1e-8 and
// no update clipping (PyTorch's AdamW); for Adafactor Algorithm 4's ε = 1e-30 and c = 1 (the
// paper's Fig. 1a ran Adafactor with ε = 1e-30).
func NamedOptimizer(name string) (Optimizer, error) {
	var constants func(*fadam.Config)
	switch name {
	case "fadam", "fadafactor":
		constants = func(c *fadam.Config) { c.Eps, c.Eps2, c.Clip, c.Rho = 1e-8, 0.01, 1, 0.5 }
	case "adamw":
		constants = func(c *fadam.Config) { c.Eps, c.Clip = 1e-8, 0 }
	case "adafactor":
		constants = func(c *fadam.Config) { c.Eps, c.Clip = 1e-30, 1 }
	default:
		return Optimizer{}, fmt.Errorf("lm: unknown optimizer %q (known: %s)", name, strings.Join(OptimizerNames, ", "))
	}
	return Optimizer{Name: name, New: func(c fadam.Config) (fadam.Stepper, error) {
		constants(&c)
		o, err := optimizers.New(name, c)
		if err != nil {
			return nil, err
		}
		return o, nil
	}}, nil
}

// WeightDecayMeaning says in one line what λ does in optimizer name's update.
func WeightDecayMeaning(name string) string {
	switch name {
	case "fadam":
		return "Fisher-weighted decay (Eq. 28): θ ← θ − η(m + λ·ḡ_w) with ḡ_w = θ/(√f + ε̂) RMS-clipped to c, so decay is scaled by η and divided by √f"
	case "fadafactor":
		return "as FAdam, with f the factored (row × column) Fisher estimate of Algorithm 2"
	case "adamw":
		return "decoupled decay: θ ← θ − η(m̂/(√v̂ + ε) + λθ), i.e. η·λ·θ per step"
	case "adafactor":
		return "Algorithm 4: θ ← θ − (m + λθ) with η inside m, so λθ per step, not scaled by η"
	}
	return ""
}
