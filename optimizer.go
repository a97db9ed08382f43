package fadam

import (
	"fmt"
	"io"
)

// ParamOptions are per-parameter settings, PyTorch's param groups: set them by name with
// [Optimizer.SetParamOptions] or by rule with [Optimizer.SetParamOptionsFunc], before the first
// Step or between steps (they are read at every Step, so they can follow a schedule). The zero
// value means "as configured": the optimizer's learning rate and weight decay.
//
// Options are plain values (comparable, no pointers), so a rule can return them without
// allocating; "no weight-decay value of its own" and "weight decay 0" are told apart by
// HasWeightDecay. [ParamOptions.WithWeightDecay] sets both fields.
type ParamOptions struct {
	// NoWeightDecay excludes the parameter from weight decay (biases, normalisation gains). It is
	// the older spelling of WithWeightDecay(0) and means exactly λ = 0 for this parameter; it
	// cannot be combined with a non-zero WeightDecay.
	NoWeightDecay bool
	// LRScale multiplies the learning rate for this parameter; 0 means 1. Must be finite and
	// ≥ 0, and LR × LRScale must be finite.
	LRScale float64
	// WeightDecay is the parameter's own λ, used instead of the optimizer's Config.WeightDecay
	// (PyTorch's param-group semantics: it replaces the optimizer's value, it does not multiply
	// it) when HasWeightDecay is set. Must be finite and ≥ 0. For Adafactor it is Algorithm 4's λ,
	// not scaled by the learning rate; for the others it is scaled by LR × LRScale.
	WeightDecay float64
	// HasWeightDecay marks WeightDecay as this parameter's value; without it the optimizer's λ
	// applies and WeightDecay must be 0 (a non-zero WeightDecay without HasWeightDecay is
	// rejected rather than silently ignored).
	HasWeightDecay bool
}

// optimizerOf validates cfg for alg and returns a fresh optimizer.
func optimizerOf(alg *algorithm, cfg Config) (*Optimizer, error) {
	if err := cfg.Validate(alg.name); err != nil {
		return nil, fmt.Errorf("%s: %w", alg.name, err)
	}
	return &Optimizer{alg: alg, cfg: cfg, opts: map[string]ParamOptions{}}, nil
}

// New returns a FAdam optimizer (Algorithm 1). It reports ErrInvalidConfig for bad
// hyperparameters.
func New(cfg Config) (*Optimizer, error) { return optimizerOf(fadamAlgorithm, cfg) }

// NewFactored returns a FAdafactor optimizer (Algorithm 2): tensors of rank ≥ 2 keep a factored
// Fisher estimate per leading index over their trailing n×m dimensions; rank 0 and 1 tensors,
// and tensors without elements, are handled exactly as by FAdam.
func NewFactored(cfg Config) (*Optimizer, error) { return optimizerOf(fadafactorAlgorithm, cfg) }

// New returns the optimizer of algorithm a with cfg.
func (a Algorithm) New(cfg Config) (*Optimizer, error) {
	for _, alg := range []*algorithm{fadamAlgorithm, fadafactorAlgorithm, adamAlgorithm, adafactorAlgorithm} {
		if alg.name == a {
			return optimizerOf(alg, cfg)
		}
	}
	return nil, fmt.Errorf("%w: unknown algorithm %q", ErrInvalidConfig, string(a))
}

var fadamAlgorithm = &algorithm{
	name: AlgorithmFAdam,
	newKernel: func(shape []int, n int, cfg *Config) kernel {
		return newFAdamKernel(n)
	},
}

var fadafactorAlgorithm = &algorithm{
	name: AlgorithmFAdafactor,
	newKernel: func(shape []int, n int, cfg *Config) kernel {
		if factorable(shape, n) {
			return newFAdafactorKernel(shape, n)
		}
		return newFAdamKernel(n)
	},
}

// Name is the algorithm's name: "fadam", "fadafactor", "adam" or "adafactor".
func (o *Optimizer) Name() string { return string(o.alg.name) }

// Algorithm is the optimizer's algorithm.
func (o *Optimizer) Algorithm() Algorithm { return o.alg.name }

// Config returns the hyperparameters, with the current learning rate.
func (o *Optimizer) Config() Config { return o.cfg }

// SetLR sets the learning rate of the following steps (for schedules). An invalid value
// (negative, NaN, ±Inf) makes the next Step fail with ErrInvalidConfig.
func (o *Optimizer) SetLR(lr float64) { o.cfg.LR = lr }

// LR is the current learning rate.
func (o *Optimizer) LR() float64 { return o.cfg.LR }

// Steps is the number of steps taken (the paper's t after the last step).
func (o *Optimizer) Steps() int64 { return o.step }

// SetParamOptions sets the options of the named parameter, replacing any it had. It may be
// called before the first Step; afterwards the name must be a registered parameter. Explicit
// options take precedence over SetParamOptionsFunc's rule (ClearParamOptions removes them).
// Invalid options (see [ParamOptions]) are an error that changes nothing.
func (o *Optimizer) SetParamOptions(name string, opts ParamOptions) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("%s: %w", o.alg.name, err)
	}
	if err := validOptions(name, opts, o.cfg.LR); err != nil {
		return fmt.Errorf("%s: %w", o.alg.name, err)
	}
	if o.tensors != nil && o.find(name) < 0 {
		return fmt.Errorf("%s: %w %q", o.alg.name, ErrUnknownParam, name)
	}
	o.opts[name] = opts
	return nil
}

// SetParamOptionsFunc sets a rule giving the options of every parameter that has no explicit
// options, for example no weight decay for tensors of rank ≤ 1. It is consulted at every Step
// (and by Save); nil removes the rule. Options it returns are validated at every Step: invalid
// ones make Step fail with ErrInvalidConfig.
func (o *Optimizer) SetParamOptionsFunc(rule func(name string, shape []int) ParamOptions) {
	o.optsFunc = rule
}

// ParamOptions returns the options in effect for a parameter: its explicit options, else the
// rule's, else the zero value.
func (o *Optimizer) ParamOptions(name string, shape []int) ParamOptions {
	if opts, ok := o.opts[name]; ok {
		return opts
	}
	if o.optsFunc != nil {
		return o.optsFunc(name, shape)
	}
	return ParamOptions{}
}

func (o *Optimizer) find(name string) int {
	for i, t := range o.tensors {
		if t.name == name {
			return i
		}
	}
	return -1
}

// Fisher returns a copy of the named parameter's diagonal empirical Fisher estimate f (for
// FAdafactor's factored tensors the reconstruction R_i C_j / Σ_i R_i; for Adam the bias-corrected
// v̂; for Adafactor its f), for uses such as elastic weight consolidation. Values beyond
// float32's range saturate at math.MaxFloat32. Before the first step it is the initial value: 1,
// or 1/n for a factored n×m tensor (R = 1, C = 1).
func (o *Optimizer) Fisher(name string) ([]float32, error) {
	i := o.find(name)
	if i < 0 {
		return nil, fmt.Errorf("%s: %w %q (the parameter set is known after the first Step or Load)", o.alg.name, ErrUnknownParam, name)
	}
	return o.tensors[i].k.fisher(o.step), nil
}

// StateBytes is the memory held as optimizer state for the registered parameters: 8 bytes per
// parameter for FAdam and Adam, about 4 for FAdafactor and Adafactor on matrices.
func (o *Optimizer) StateBytes() int64 {
	var b int64
	for _, t := range o.tensors {
		for _, s := range t.k.state() {
			b += 4 * int64(len(s.data))
		}
	}
	return b
}

// TrafficBytes is the memory traffic one Step needs over the registered parameters as
// implemented, for bandwidth figures: about 44 bytes per parameter for FAdam (docs/optimizer.md
// explains the passes).
func (o *Optimizer) TrafficBytes() int64 {
	var b int64
	for _, t := range o.tensors {
		b += t.k.traffic()
	}
	return b
}

// NumParams is the number of scalar parameters registered.
func (o *Optimizer) NumParams() int64 {
	var n int64
	for _, t := range o.tensors {
		n += int64(t.n)
	}
	return n
}

// Save writes the whole optimizer state (algorithm, format version, step count, configuration,
// per-parameter options, m and the Fisher estimates) to path in the safetensors format, with a
// checksum of the whole file, atomically (temporary file, sync, rename; a killed Save's stale
// temporary is removed by the next Save to path). It never writes a file Load would refuse:
// after SetLR(-1), for instance, it returns ErrInvalidConfig, writes nothing and leaves an
// existing file as it was. The format is described in the repository's docs/checkpoints.md.
func (o *Optimizer) Save(path string) error { return o.save(path) }

// Load restores the state saved by Save: configuration, options, step count and every state
// tensor. If the optimizer already knows its parameters, the checkpoint's names and shapes
// must match them; otherwise they are registered from the checkpoint. On any error (corrupt or
// truncated file, another algorithm, a mismatch) the optimizer is unchanged. It reads only
// regular files and allocates no more than the file holds.
func (o *Optimizer) Load(path string) error { return o.load(path) }

// WriteTo writes the checkpoint that Save would write to w.
func (o *Optimizer) WriteTo(w io.Writer) (int64, error) { return o.writeTo(w) }

// Unmarshal is Load from the bytes of a checkpoint.
func (o *Optimizer) Unmarshal(data []byte) error { return o.unmarshal(data) }
