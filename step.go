package fadam

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Errors returned by the optimizers of this package (wrapped with details; test with errors.Is).
var (
	// ErrInvalidConfig reports a hyperparameter out of range (β outside [0, 1), negative or
	// non-finite LR, ρ ≤ 0, c ≤ 0, negative ε, ε₂ or λ, an unknown Variant, a negative LRScale).
	ErrInvalidConfig = errors.New("invalid hyperparameter")
	// ErrInvalidParam reports a malformed parameter: empty or duplicate name, a shape that
	// disagrees with len(Value) or len(Grad), Value and Grad sharing memory, no parameters.
	ErrInvalidParam = errors.New("invalid parameter")
	// ErrParamSetChanged reports parameters whose names, shapes or order differ from the
	// previous step's (or from a loaded checkpoint's).
	ErrParamSetChanged = errors.New("parameter set changed since the last step")
	// ErrNonFinite reports a NaN or ±Inf in a gradient.
	ErrNonFinite = errors.New("non-finite gradient")
	// ErrUnknownParam reports a parameter name the optimizer does not know.
	ErrUnknownParam = errors.New("unknown parameter")
	// ErrCheckpoint reports a checkpoint that cannot be loaded: corrupt, truncated, of another
	// algorithm or format version, or not matching the parameters.
	ErrCheckpoint = errors.New("invalid checkpoint")
)

type tensor struct {
	name  string
	shape []int
	n     int
	k     kernel
	jobLo int // first job of this tensor in the job list (set per pass)
}

// Optimizer is one of the four optimizers of this package: FAdam ([New], Algorithm 1),
// FAdafactor ([NewFactored], Algorithm 2), Adam ([NewAdam], PyTorch AdamW semantics) or
// Adafactor ([NewAdafactor], Algorithm 4). The first Step registers the parameter set (names,
// shapes, order); later steps must pass the same set.
//
// An Optimizer is not safe for concurrent use: call its methods from one goroutine at a time
// (Step parallelises its own work internally). Distinct Optimizers share nothing.
type Optimizer struct {
	alg      *algorithm
	cfg      Config
	step     int64
	tensors  []*tensor // the registered parameter set, nil before the first Step or Load
	opts     map[string]ParamOptions
	optsFunc func(name string, shape []int) ParamOptions

	params   []Param // scratch copy of the caller's parameters
	jobs     []job
	partials []sums
	consts   []stepConsts
}

// numElements is the product of shape, or an error for a negative dimension or overflow.
func numElements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d != 0 && n > math.MaxInt32*int(1<<20)/d {
			return 0, fmt.Errorf("shape %v is too large", shape)
		}
		n *= d
	}
	return n, nil
}

// checkParams validates the caller's parameters: structure, and agreement with the registered
// set if there is one.
func (o *Optimizer) checkParams(ps []Param) error {
	if len(ps) == 0 {
		return fmt.Errorf("%w: no parameters", ErrInvalidParam)
	}
	seen := make(map[string]struct{}, len(ps))
	for i, p := range ps {
		if p.Name == "" {
			return fmt.Errorf("%w: parameter %d has an empty name", ErrInvalidParam, i)
		}
		if _, dup := seen[p.Name]; dup {
			return fmt.Errorf("%w: duplicate parameter name %q", ErrInvalidParam, p.Name)
		}
		seen[p.Name] = struct{}{}
		n, err := numElements(p.Shape)
		if err != nil {
			return fmt.Errorf("%w: parameter %q: %v", ErrInvalidParam, p.Name, err)
		}
		if len(p.Value) != n || len(p.Grad) != n {
			return fmt.Errorf("%w: parameter %q: shape %v holds %d elements but len(Value) = %d, len(Grad) = %d",
				ErrInvalidParam, p.Name, p.Shape, n, len(p.Value), len(p.Grad))
		}
		if n > 0 && &p.Value[0] == &p.Grad[0] {
			return fmt.Errorf("%w: parameter %q: Value and Grad share memory", ErrInvalidParam, p.Name)
		}
	}
	if o.tensors == nil {
		return nil
	}
	if len(ps) != len(o.tensors) {
		return fmt.Errorf("%w: %d parameters, previously %d", ErrParamSetChanged, len(ps), len(o.tensors))
	}
	for i, p := range ps {
		t := o.tensors[i]
		if p.Name != t.name {
			return fmt.Errorf("%w: parameter %d is %q, previously %q", ErrParamSetChanged, i, p.Name, t.name)
		}
		if !slices.Equal(p.Shape, t.shape) {
			return fmt.Errorf("%w: parameter %q has shape %v, previously %v", ErrParamSetChanged, p.Name, p.Shape, t.shape)
		}
	}
	return nil
}

// beta2Hat is Algorithm 1 line 6: β̂₂ = β₂(1−β₂^{t−1})/(1−β₂^t), 0 at t = 1.
func beta2Hat(beta2 float64, t int64) float64 {
	if t <= 1 || beta2 == 0 {
		return 0
	}
	return beta2 * (1 - math.Pow(beta2, float64(t-1))) / (1 - math.Pow(beta2, float64(t)))
}

// Step applies one update to every parameter's Value from its Grad. The parameter set must be
// the same (names, shapes, order) at every step. On error nothing has changed: no Value, no
// state, not the step count.
func (o *Optimizer) Step(params []Param) error {
	name := o.alg.name
	if err := o.cfg.Validate(name); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := o.checkParams(params); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	tensors := o.tensors
	if tensors == nil {
		names := make([]string, len(params))
		shapes := make([][]int, len(params))
		for i, p := range params {
			names[i], shapes[i] = p.Name, p.Shape
		}
		for opt := range o.opts { // options for a misspelt name would silently do nothing
			if !slices.Contains(names, opt) {
				return fmt.Errorf("%s: %w %q: options were set for it, but it is not among the parameters", name, ErrUnknownParam, opt)
			}
		}
		tensors = o.newTensorsWith(names, shapes, &o.cfg)
	}
	t := o.step + 1
	b2hat := beta2Hat(o.cfg.Beta2, t)
	sign := 1.0
	if o.cfg.Maximize {
		sign = -1
	}
	o.consts = slices.Grow(o.consts[:0], len(tensors))[:len(tensors)]
	for i, tn := range tensors {
		opts := o.ParamOptions(tn.name, tn.shape)
		if err := validOptions(tn.name, opts); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		c := &o.consts[i]
		*c = stepConsts{t: t, beta2Hat: b2hat, lr: o.cfg.LR, wd: o.cfg.WeightDecay, sign: sign, cfg: &o.cfg}
		if opts.LRScale != 0 {
			c.lr *= opts.LRScale
		}
		if opts.NoWeightDecay {
			c.wd = 0
		}
		tn.k.begin(params[i].Value, params[i].Grad, c)
	}
	// passRead only reads; check the gradients before finishing it may touch any state.
	o.runPass(tensors, passRead)
	for i, tn := range tensors {
		if sum := total(o.partials[tn.jobLo : tn.jobLo+tn.k.chunks()]).grad; math.IsNaN(sum) || math.IsInf(sum, 0) {
			for j, x := range params[i].Grad {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return fmt.Errorf("%s: %w: parameter %q, element %d is %v", name, ErrNonFinite, tn.name, j, x)
				}
			}
		}
	}
	// Valid from here on: commit the registration and the step.
	o.tensors = tensors
	o.step = t
	o.finishPass(tensors, passRead)
	for p := passFisher; p < numPasses; p++ {
		o.runPass(tensors, p)
		o.finishPass(tensors, p)
	}
	return nil
}

// job is one chunk of one tensor's pass.
type job struct {
	k     kernel
	chunk int
}

// runPass runs pass p over every active tensor's chunks, in parallel.
func (o *Optimizer) runPass(ts []*tensor, p pass) {
	o.jobs = o.jobs[:0]
	for _, t := range ts {
		t.jobLo = len(o.jobs)
		if !t.k.active(p) {
			continue
		}
		for c := range t.k.chunks() {
			o.jobs = append(o.jobs, job{t.k, c})
		}
	}
	o.partials = slices.Grow(o.partials[:0], len(o.jobs))[:len(o.jobs)]
	jobs, partials := o.jobs, o.partials
	parallelFor(len(jobs), func(j int) {
		partials[j] = jobs[j].k.run(p, jobs[j].chunk)
	})
}

// finishPass hands every active tensor its chunks' sums of pass p.
func (o *Optimizer) finishPass(ts []*tensor, p pass) {
	for _, t := range ts {
		if !t.k.active(p) {
			continue
		}
		t.k.finish(p, o.partials[t.jobLo:t.jobLo+t.k.chunks()])
	}
}
