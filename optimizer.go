package fadam

import (
	"io"

	"github.com/fadam-go/fadam/internal/engine"
)

// Errors returned by the optimizers of this module (wrapped with details; test with errors.Is).
var (
	// ErrInvalidConfig reports a hyperparameter out of range (β outside [0, 1), negative or
	// non-finite LR, ρ ≤ 0, c ≤ 0, negative ε, ε₂ or λ, any non-finite field even one the
	// algorithm ignores, an unknown Variant, a negative LRScale, an LR × LRScale that
	// overflows), and a Step beyond the maximum step count, 2^53.
	ErrInvalidConfig = engine.ErrInvalidConfig
	// ErrInvalidParam reports a malformed parameter: empty, duplicate or non-UTF-8 name, a
	// shape that disagrees with len(Value) or len(Grad), a Value overlapping its own Grad or any
	// other parameter's Value or Grad (Grads may share memory), no parameters.
	ErrInvalidParam = engine.ErrInvalidParam
	// ErrParamSetChanged reports parameters whose names, shapes or order differ from the
	// previous step's (or from a loaded checkpoint's).
	ErrParamSetChanged = engine.ErrParamSetChanged
	// ErrNonFinite reports a NaN or ±Inf in a gradient.
	ErrNonFinite = engine.ErrNonFinite
	// ErrUnknownParam reports a parameter name the optimizer does not know.
	ErrUnknownParam = engine.ErrUnknownParam
	// ErrCheckpoint reports a checkpoint that cannot be loaded: corrupt, truncated, of another
	// algorithm or format version, or not matching the parameters.
	ErrCheckpoint = engine.ErrCheckpoint
)

// ParamOptions are per-parameter settings. The zero value means "as configured".
type ParamOptions struct {
	// NoWeightDecay excludes the parameter from weight decay (biases, normalisation gains).
	NoWeightDecay bool
	// LRScale multiplies the learning rate for this parameter; 0 means 1. Must be ≥ 0.
	LRScale float64
}

// Optimizer is FAdam (Algorithm 1) or FAdafactor (Algorithm 2), built by New or NewFactored.
// The first Step registers the parameter set (names, shapes, order); later steps must pass the
// same set. An Optimizer is not safe for concurrent use.
type Optimizer struct {
	e *engine.Engine
}

// engineConfig converts a Config for the shared engine.
func engineConfig(c Config) engine.Config {
	return engine.Config{LR: c.LR, Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Eps, Eps2: c.Eps2, Clip: c.Clip,
		WeightDecay: c.WeightDecay, Rho: c.Rho, Variant: int(c.Variant), Maximize: c.Maximize}
}

func publicConfig(c engine.Config) Config {
	return Config{LR: c.LR, Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Eps, Eps2: c.Eps2, Clip: c.Clip,
		WeightDecay: c.WeightDecay, Rho: c.Rho, Variant: Variant(c.Variant), Maximize: c.Maximize}
}

var fadamAlgorithm = &engine.Algorithm{
	Name:     "fadam",
	Passes:   3,
	Validate: engine.RequirePositiveRhoClip,
	NewKernel: func(shape []int, n int, cfg *engine.Config) engine.Kernel {
		return newFAdamKernel(n)
	},
}

var fadafactorAlgorithm = &engine.Algorithm{
	Name:     "fadafactor",
	Passes:   3,
	Validate: engine.RequirePositiveRhoClip,
	NewKernel: func(shape []int, n int, cfg *engine.Config) engine.Kernel {
		if engine.Factorable(shape, n) {
			return newFAdafactorKernel(shape, n)
		}
		return newFAdamKernel(n)
	},
}

// New returns a FAdam optimizer (Algorithm 1). It reports ErrInvalidConfig for bad
// hyperparameters.
func New(cfg Config) (*Optimizer, error) {
	e, err := engine.New(fadamAlgorithm, engineConfig(cfg))
	if err != nil {
		return nil, err
	}
	return &Optimizer{e}, nil
}

// NewFactored returns a FAdafactor optimizer (Algorithm 2): tensors of rank ≥ 2 keep a factored
// Fisher estimate per leading index over their trailing n×m dimensions; rank 0 and 1 tensors,
// and tensors without elements, are handled exactly as by FAdam.
func NewFactored(cfg Config) (*Optimizer, error) {
	e, err := engine.New(fadafactorAlgorithm, engineConfig(cfg))
	if err != nil {
		return nil, err
	}
	return &Optimizer{e}, nil
}

// Step applies one update to every parameter's Value from its Grad. The parameter set must be
// the same (names, shapes, order) at every step. On error nothing has changed: no Value, no
// state, not the step count.
func (o *Optimizer) Step(params []Param) error {
	return o.e.Step(len(params), func(i int) engine.Param { return engine.Param(params[i]) })
}

// Name is "fadam" or "fadafactor".
func (o *Optimizer) Name() string { return o.e.Name() }

// Config returns the hyperparameters, with the current learning rate.
func (o *Optimizer) Config() Config { return publicConfig(o.e.Config()) }

// SetLR sets the learning rate of the following steps (for schedules). An invalid value
// (negative, NaN, ±Inf) makes the next Step fail with ErrInvalidConfig.
func (o *Optimizer) SetLR(lr float64) { o.e.SetLR(lr) }

// LR is the current learning rate.
func (o *Optimizer) LR() float64 { return o.e.LR() }

// Steps is the number of steps taken (the paper's t after the last step).
func (o *Optimizer) Steps() int64 { return o.e.Steps() }

// SetParamOptions sets the options of the named parameter. It may be called before the first
// Step; afterwards the name must be a registered parameter. Explicit options take precedence
// over SetParamOptionsFunc.
func (o *Optimizer) SetParamOptions(name string, opts ParamOptions) error {
	return o.e.SetParamOptions(name, engine.ParamOptions(opts))
}

// SetParamOptionsFunc sets a rule giving the options of every parameter that has no explicit
// options, for example no weight decay for tensors of rank ≤ 1. It is consulted at every Step.
func (o *Optimizer) SetParamOptionsFunc(rule func(name string, shape []int) ParamOptions) {
	if rule == nil {
		o.e.SetParamOptionsFunc(nil)
		return
	}
	o.e.SetParamOptionsFunc(func(name string, shape []int) engine.ParamOptions {
		return engine.ParamOptions(rule(name, shape))
	})
}

// Fisher returns a copy of the named parameter's diagonal empirical Fisher estimate f (for
// FAdafactor's factored tensors the reconstruction R_i C_j / Σ_i R_i), for uses such as elastic
// weight consolidation. Values beyond float32's range saturate at math.MaxFloat32. Before the
// first step it is the initial value: 1, or 1/n for a factored n×m tensor (R = 1, C = 1).
func (o *Optimizer) Fisher(name string) ([]float32, error) { return o.e.Fisher(name) }

// StateBytes is the memory held as optimizer state for the registered parameters: 8 bytes per
// parameter for FAdam, about 4 for FAdafactor on matrices.
func (o *Optimizer) StateBytes() int64 { return o.e.StateBytes() }

// TrafficBytes is the memory traffic one Step needs over the registered parameters as
// implemented (DESIGN.md §3), for bandwidth figures: about 44 bytes per parameter for FAdam.
func (o *Optimizer) TrafficBytes() int64 { return o.e.TrafficBytes() }

// Save writes the whole optimizer state (algorithm, format version, step count, configuration,
// per-parameter options, m and the Fisher estimates) to path in the safetensors format, with a
// checksum of the whole file, atomically (temporary file, sync, rename; a killed Save's stale
// temporary is removed by the next Save to path). It never writes a file Load would refuse:
// after SetLR(-1), for instance, it returns ErrInvalidConfig, writes nothing and leaves an
// existing file as it was. The format is described in the repository's docs/checkpoints.md.
func (o *Optimizer) Save(path string) error { return o.e.Save(path) }

// Load restores the state saved by Save: configuration, options, step count and every state
// tensor. If the optimizer already knows its parameters, the checkpoint's names and shapes
// must match them; otherwise they are registered from the checkpoint. On any error (corrupt or
// truncated file, another algorithm, a mismatch) the optimizer is unchanged. It reads only
// regular files and allocates no more than the file holds.
func (o *Optimizer) Load(path string) error { return o.e.Load(path) }

// WriteTo writes the checkpoint that Save would write to w.
func (o *Optimizer) WriteTo(w io.Writer) (int64, error) { return o.e.WriteTo(w) }

// Unmarshal is Load from the bytes of a checkpoint.
func (o *Optimizer) Unmarshal(data []byte) error { return o.e.Unmarshal(data) }
