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
	// non-finite LR, ρ ≤ 0, c ≤ 0, negative ε, ε₂, λ or MaxGradNorm, an unknown Variant, invalid
	// ParamOptions such as a negative LRScale or an LR × LRScale that overflows), and a Step
	// beyond the maximum step count, [MaxSteps].
	ErrInvalidConfig = errors.New("invalid hyperparameter")
	// ErrInvalidParam reports a malformed parameter: empty, duplicate or non-UTF-8 name, a
	// shape that disagrees with len(Value) or len(Grad), a Value overlapping its own Grad or any
	// other parameter's Value or Grad (Grads may share memory), no parameters.
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

	params     []Param // scratch copy of the caller's parameters
	jobs       []job
	partials   []sums
	consts     []stepConsts
	disjoint   disjointCheck
	gradChunks [][]float32 // the gradients cut into chunks for global-norm clipping
	gradScale  float64     // the clipping factor of this step
	gradNorm   float64     // LastGradNorm

	runner       *parallelRunner
	pass         pass      // the pass runJob runs
	runJobFunc   func(int) // o.runJob, created once
	scaleJobFunc func(int) // o.scaleJob, created once
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
		if i >= len(o.tensors) || p.Name != o.tensors[i].name { // registered names were checked then
			if err := checkName(p.Name); err != nil {
				return fmt.Errorf("parameter %d: %w", i, err)
			}
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
	}
	if err := o.disjoint.check(ps, o.cfg.MaxGradNorm > 0); err != nil {
		return err
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
// Grad, no state, not the step count.
//
// With Config.MaxGradNorm > 0, Step clips the gradients to that global norm first, scaling the
// Grad buffers in place (as PyTorch's clip_grad_norm_ does): after Step they hold the gradients
// the algorithm used. Grad buffers must then not share memory with one another or with any
// Value. [Optimizer.LastGradNorm] reports the norm before clipping.
func (o *Optimizer) Step(params []Param) error {
	name := o.alg.name
	if err := checkStepLimit(o.step); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
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
		if err := validOptions(tn.name, opts, o.cfg.LR); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		c := &o.consts[i]
		*c = stepConsts{t: t, beta2Hat: b2hat, sign: sign, cfg: &o.cfg,
			lr: o.cfg.LR * opts.EffectiveLRScale(), wd: opts.EffectiveWeightDecay(o.cfg.WeightDecay)}
		tn.k.begin(params[i].Value, params[i].Grad, c)
	}
	// passRead only reads; check the gradients before finishing it may touch any state.
	o.runPass(tensors, passRead)
	sumSq := 0.0 // Σg² over all parameters, for the global norm
	for i, tn := range tensors {
		sum := total(o.partials[tn.jobLo : tn.jobLo+tn.k.chunks()]).grad
		if math.IsNaN(sum) || math.IsInf(sum, 0) {
			for j, x := range params[i].Grad {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return fmt.Errorf("%s: %w: parameter %q, element %d is %v", name, ErrNonFinite, tn.name, j, x)
				}
			}
		}
		sumSq += sum
	}
	norm, err := globalGradNorm(sumSq)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	// Valid from here on: clip, then commit the registration and the step.
	o.clipGradNorm(tensors, params, norm)
	o.gradNorm = norm
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
	work := 0 // elements the pass reads or writes
	for _, t := range ts {
		t.jobLo = len(o.jobs)
		if !t.k.active(p) {
			continue
		}
		work += t.n
		for c := range t.k.chunks() {
			o.jobs = append(o.jobs, job{t.k, c})
		}
	}
	o.partials = slices.Grow(o.partials[:0], len(o.jobs))[:len(o.jobs)]
	o.pass = p
	if o.runner == nil { // once: a stored method value and runner keep Step free of allocations
		o.runner, o.runJobFunc = new(parallelRunner), o.runJob
	}
	o.runner.run(len(o.jobs), work, o.runJobFunc)
}

// runJob runs job j of the current pass (concurrently with the other jobs).
func (o *Optimizer) runJob(j int) {
	o.partials[j] = o.jobs[j].k.run(o.pass, o.jobs[j].chunk)
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
