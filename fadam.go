// Package fadam implements FAdam and FAdafactor, the natural-gradient corrections of Adam and
// Adafactor from "FAdam: Adam is a natural gradient optimizer using diagonal empirical Fisher
// information" (Hwang, 2024), over plain float32 parameter buffers.
//
// The contract — which version of the paper Algorithm 1 follows (arXiv 2405.12807), the
// semantics the paper leaves open (the zero-denominator rule, FAdafactor on tensors of rank other
// than 2), precision, determinism and the baselines' semantics — is written out in
// docs/optimizer.md; package reference states Algorithms 1–4 in float64, one paper line per
// statement, and the tests check every optimizer here against it.
//
// Build an optimizer with [New] (FAdam, Algorithm 1) or [NewFactored] (FAdafactor, Algorithm
// 2), or one of the paper's baselines with [NewAdam] (PyTorch AdamW semantics) or
// [NewAdafactor] (Algorithm 4), and call [Optimizer.Step] with the same parameters ([Param]:
// name, shape, values and gradients) at every step; values are updated in place. Package
// optimizers builds any of the four by name; package baseline keeps the baselines' older names.
//
// What users of PyTorch and optax expect is there:
//
//   - Parameter groups: per parameter, a weight decay λ of its own (replacing the optimizer's,
//     as in PyTorch's param_groups; λ = 0 excludes it) and a learning-rate scale, set by name
//     ([Optimizer.SetParamOptions]) or by rule ([Optimizer.SetParamOptionsFunc]) — see
//     [ParamOptions].
//   - Schedules: [Optimizer.SetLR], [Optimizer.SetWeightDecay] and the per-parameter options
//     may change between any two steps.
//   - Global-norm gradient clipping with PyTorch's clip_grad_norm_ semantics
//     ([Config].MaxGradNorm), and the pre-clip norm for logging ([Optimizer.LastGradNorm]).
//   - The published forms of the adaptive ε ([Variant]): the paper's (the default), the public
//     PyTorch reference code's, and the later form of the maintained PyTorch optimizer
//     collection ([LaterEps]).
//   - [Optimizer.Fisher] reads the diagonal Fisher estimate; [Optimizer.Save] and
//     [Optimizer.Load] checkpoint the whole state (configuration and options included) in the
//     safetensors format, and a loaded optimizer continues bit-identically.
//
// An [Optimizer] is not safe for concurrent use (Step parallelises its own work); distinct
// optimizers share nothing.
//
// Bad input (mismatched lengths, a changed parameter set, NaN or ±Inf in a gradient, invalid
// hyperparameters) gets an error wrapping one of the Err* sentinels, naming the parameter, and
// leaves every parameter, gradient and all optimizer state untouched. Finite gradients never
// produce NaN or Inf: the state holds √f rather than f (float32 then covers g² for any finite
// float32 g), intermediates are float64, and stores saturate at ±math.MaxFloat32.
//
// State and parameters are float32; reductions accumulate in float64 over fixed chunks in a
// fixed order, so results are bit-identical for any GOMAXPROCS (and, on amd64, with or without
// the AVX loops).
//
// Config.StateDType = BFloat16 halves the state (4 bytes per parameter for FAdam and Adam, about
// 2 for FAdafactor and Adafactor on matrices): m and the square roots of the Fisher estimates
// are stored as bfloat16, the arithmetic stays float64, and every store rounds stochastically
// with random bits that are a hash of (Config.RoundingSeed, step, tensor index, element index),
// so results stay deterministic and bit-identical for any GOMAXPROCS and with or without the
// assembly loops. docs/bf16.md has the details and measurements.
package fadam

// Variant selects which published form of the algorithm an optimizer follows.
type Variant int

const (
	// Paper follows Algorithm 1 / Algorithm 2 of the paper exactly (the default).
	Paper Variant = iota
	// PyTorchReference reproduces the public PyTorch FAdam code: ε̂ = ε·max(1, RMS(g)),
	// d = f^ρ + ε̂, and clipping x ← x / (max(1, RMS(x))/c).
	PyTorchReference
	// LaterEps is the later form of the adaptive ε, the maintained PyTorch optimizer
	// collection's FAdam: ε̂ = ε·min(1, RMS(g)), d = f^ρ + ε̂ (ε₂ is not used), and clipping
	// x ← x / (max(1, RMS(x))/c). The zero-denominator rule is kept: an element with d = 0
	// contributes 0 to ḡ and ḡ_w. With this form d = 0 happens wherever f = 0 in a tensor whose
	// gradient is zero throughout (then ε̂ = 0), such as an all-zero gradient at the first step.
	LaterEps
)

// known reports whether v is one of the Variant constants.
func (v Variant) known() bool { return v == Paper || v == PyTorchReference || v == LaterEps }

// clipsByMaxRMS reports whether the RMS clips of lines 10 and 13 are the PyTorch codes'
// x / (max(1, RMS(x))/c) rather than the paper's x / max(1, RMS(x)/c).
func (v Variant) clipsByMaxRMS() bool { return v == PyTorchReference || v == LaterEps }

// Config holds the hyperparameters of Algorithm 1 (and of the baselines, which read the fields
// they need). JSON field names are the Go field names.
type Config struct {
	LR          float64 // learning rate η
	Beta1       float64 // momentum EMA coefficient β₁
	Beta2       float64 // Fisher EMA coefficient β₂
	Eps         float64 // ε, the ceiling of the adaptive epsilon (LaterEps: ε̂ = ε·min(1, RMS(g)))
	Eps2        float64 // ε₂, the multiplier of RMS(g) in the adaptive epsilon
	Clip        float64 // c, the RMS clipping threshold
	WeightDecay float64 // λ
	Rho         float64 // ρ, the exponent of the Fisher information
	Variant     Variant // Paper (default), PyTorchReference or LaterEps; the baselines ignore it
	Maximize    bool    // ascend the objective instead of descending it
	// MaxGradNorm turns on global-norm gradient clipping (PyTorch's clip_grad_norm_) when > 0:
	// if the L2 norm n of all gradients together exceeds it, Step first scales every gradient
	// in place by MaxGradNorm/(n + 1e-6) (each element becomes float32(g·s), s computed in
	// float64), so the step is exactly the step on those scaled gradients. 0 (the default)
	// turns it off. n comes from sums every step computes anyway; a step that does clip reads
	// and writes the gradients once more and reads them again (about 12 bytes per parameter,
	// not counted by TrafficBytes). See [Optimizer.LastGradNorm] and [Optimizer.Step].
	MaxGradNorm float64
	// StateDType stores the state as Float32 (the zero value) or BFloat16.
	StateDType StateDType
	// RoundingSeed keys the stochastic rounding of bfloat16 state (unused with Float32): the
	// same seed, parameters and gradients give the same bits. The zero value is a valid seed.
	RoundingSeed uint64
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
