// Package fadam implements FAdam and FAdafactor, the natural-gradient corrections of Adam and
// Adafactor from "FAdam: Adam is a natural gradient optimizer using diagonal empirical Fisher
// information" (Hwang, 2024), over plain float32 parameter buffers.
//
// The contract — which version of the paper Algorithm 1 follows (arXiv 2405.12807), the
// semantics the paper leaves open (the zero-denominator rule, FAdafactor on tensors of rank other
// than 2), precision, determinism and the baselines' semantics — is written out in
// docs/optimizer.md; reference.go states Algorithms 1 and 2 one paper line per statement.
//
// Build an optimizer with [New] (FAdam, Algorithm 1) or [NewFactored] (FAdafactor, Algorithm
// 2), or one of the paper's baselines with [NewAdam] (PyTorch AdamW semantics) or
// [NewAdafactor] (Algorithm 4), and call [Optimizer.Step] with the same parameters ([Param]: name, shape, values and
// gradients) at every step; values are updated in place. Per parameter, weight decay can be
// switched off and the learning rate scaled ([Optimizer.SetParamOptions],
// [Optimizer.SetParamOptionsFunc]); [Optimizer.SetLR] changes the learning rate between steps;
// [Optimizer.Fisher] reads the diagonal Fisher estimate; [Optimizer.Save] and [Optimizer.Load]
// checkpoint the whole state in the safetensors format. Package optimizers builds any of the four
// by name; package baseline keeps the baselines' older names.
//
// Bad input (mismatched lengths, a changed parameter set, NaN or ±Inf in a gradient, invalid
// hyperparameters) gets an error wrapping one of the Err* sentinels, naming the parameter, and
// leaves every parameter and all optimizer state untouched. finite gradients never produce NaN
// or Inf: the state holds √f rather than f (float32 then covers g² for any finite float32 g),
// intermediates are float64, and stores saturate at ±math.MaxFloat32.
//
// State and parameters are float32; reductions accumulate in float64 over fixed chunks in a
// fixed order, so results are bit-identical for any GOMAXPROCS (and, on amd64, with or without
// the AVX loops).
package fadam

// Variant selects which published form of the algorithm an optimizer follows.
type Variant int

const (
	// Paper follows Algorithm 1 / Algorithm 2 of the paper exactly (the default).
	Paper Variant = iota
	// PyTorchReference reproduces the public PyTorch FAdam code: ε̂ = ε·max(1, rms(g)),
	// d = f^ρ + ε̂, and clipping x ← x / (max(1, rms(x))/c).
	PyTorchReference
)

// known reports whether v is one of the Variant constants.
func (v Variant) known() bool { return v == Paper || v == PyTorchReference }

// Config holds the hyperparameters of Algorithm 1 (and of the baselines, which read the fields
// they need). JSON field names are the Go field names.
type Config struct {
	LR          float64 // learning rate η
	Beta1       float64 // momentum EMA coefficient β₁
	Beta2       float64 // Fisher EMA coefficient β₂
	Eps         float64 // ε, the ceiling of the adaptive epsilon
	Eps2        float64 // ε₂, the multiplier of rms(g) in the adaptive epsilon
	Clip        float64 // c, the rms clipping threshold
	WeightDecay float64 // λ
	Rho         float64 // ρ, the exponent of the Fisher information
	Variant     Variant // Paper (default) or PyTorchReference
	Maximize    bool    // ascend the objective instead of descending it
}

// Defaults returns the values of Algorithm 1, line 1, with a learning rate of 1e-3.
func Defaults() Config {
	return Config{
		LR:          1e-3,
		Beta1:       0.9,
		Beta2:       0.999,
		Eps:         1e-8,
		Eps2:        0.01,
		Clip:        1,
		WeightDecay: 0.001,
		Rho:         0.5,
	}
}

// Param is one parameter tensor handed to an optimizer: its values, updated in place by Step, and
// the gradient of the loss with respect to them. Shape gives the tensor's dimensions (row-major);
// the product of Shape must equal len(Value) and len(Grad).
type Param struct {
	Name  string
	Shape []int
	Value []float32
	Grad  []float32
}

// Stepper is what every optimizer in this module implements: one update of all parameters from
// their gradients.
type Stepper interface {
	Step(params []Param) error
}
