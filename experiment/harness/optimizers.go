package harness

import (
	"fmt"
	"strings"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/optimizers"
)

// OptimizerNames lists the optimizers Named knows, in the order of the paper's pairs. Each name
// with BF16Suffix appended is the same optimizer with bfloat16 state.
var OptimizerNames = []string{"fadam", "adamw", "fadafactor", "adafactor"}

// BF16Suffix appended to an optimizer name selects bfloat16 optimizer state
// (fadam.Config.StateDType = fadam.BFloat16): "fadam-bf16".
const BF16Suffix = "-bf16"

// PaperPairs are the paper's comparisons: each Fisher-corrected optimizer against the one it
// corrects.
var PaperPairs = []Pair{{"fadam", "adamw"}, {"fadafactor", "adafactor"}}

// SharedConfig is the hyperparameters every optimizer of a comparison shares, as in the paper's
// LLM experiment (§4.1): β₁ = 0.9, β₂ = 0.99, λ = 0.001 (the learning rate comes from the grid).
func SharedConfig() fadam.Config {
	c := fadam.Defaults()
	c.Beta1, c.Beta2, c.WeightDecay = 0.9, 0.99, 0.001
	return c
}

// algorithm is the library's algorithm for an optimizer name of OptimizerNames.
func algorithm(name string) (fadam.Algorithm, error) {
	switch name {
	case "fadam":
		return fadam.AlgorithmFAdam, nil
	case "fadafactor":
		return fadam.AlgorithmFAdafactor, nil
	case "adamw":
		return fadam.AlgorithmAdam, nil
	case "adafactor":
		return fadam.AlgorithmAdafactor, nil
	}
	return "", fmt.Errorf("unknown optimizer %q (known: %s)", name, strings.Join(OptimizerNames, ", "))
}

// Named returns the library's optimizer called name with the hyperparameters a comparison
// shares taken from base (β₁, β₂, λ) and the constants that belong to the algorithm itself
// (fadam.Config.WithConstants: for FAdam and FAdafactor ε = 1e-8, ε₂ = 0.01, c = 1, ρ = 0.5;
// for AdamW ε = 1e-8 and no update clipping, as PyTorch's AdamW; for Adafactor Algorithm 4's
// ε = 1e-30 and c = 1). Its Config shows them all.
//
// A name ending in BF16Suffix gives the optimizer bfloat16 state.
func Named(name string, base fadam.Config) (Optimizer, error) {
	plain, bf16 := strings.CutSuffix(name, BF16Suffix)
	alg, err := algorithm(plain)
	if err != nil {
		return Optimizer{}, err
	}
	cfg := base.WithConstants(alg)
	if bf16 {
		cfg.StateDType = fadam.BFloat16
	}
	return Optimizer{Name: name, Config: cfg, New: func(c fadam.Config) (fadam.Stepper, error) {
		o, err := optimizers.New(string(alg), c)
		if err != nil {
			return nil, err
		}
		return o, nil
	}}, nil
}

// ParseOptimizers builds the comma-separated list of optimizer names with Named.
func ParseOptimizers(list string, base fadam.Config) ([]Optimizer, error) {
	var out []Optimizer
	for _, name := range strings.Split(list, ",") {
		o, err := Named(strings.TrimSpace(name), base)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// WeightDecayMeaning says in one line what λ does in optimizer name's update.
func WeightDecayMeaning(name string) string {
	switch strings.TrimSuffix(name, BF16Suffix) {
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
