// Package engine is the machinery every optimizer in this module shares: hyperparameter and
// parameter validation, the registered parameter set, per-parameter options, the step counter,
// the deterministic parallel pass runner and checkpoints. An algorithm supplies only its
// per-tensor [Kernel]s.
//
// A step runs in passes over all tensors at once. Pass 0 only reads the gradients (Σg², plus
// whatever statistics the algorithm needs) and so doubles as the NaN/Inf check: nothing is
// modified until every gradient is known to be finite. Each tensor is cut into chunks whose
// boundaries depend only on its shape, each chunk's partial sums are accumulated in float64 in a
// fixed order and combined in chunk order, so results are bit-identical for any GOMAXPROCS.
package engine

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Sentinel errors, re-exported by package fadam.
var (
	ErrInvalidConfig   = errors.New("invalid hyperparameter")
	ErrInvalidParam    = errors.New("invalid parameter")
	ErrParamSetChanged = errors.New("parameter set changed since the last step")
	ErrNonFinite       = errors.New("non-finite gradient")
	ErrUnknownParam    = errors.New("unknown parameter")
	ErrCheckpoint      = errors.New("invalid checkpoint")
)

// Variant values, equal to fadam.Paper and fadam.PyTorchReference.
const (
	Paper            = 0
	PyTorchReference = 1
)

// Config mirrors fadam.Config with a plain int Variant.
type Config struct {
	LR          float64
	Beta1       float64
	Beta2       float64
	Eps         float64
	Eps2        float64
	Clip        float64
	WeightDecay float64
	Rho         float64
	Variant     int
	Maximize    bool
}

// Param mirrors fadam.Param.
type Param struct {
	Name  string
	Shape []int
	Value []float32
	Grad  []float32
}

// ParamOptions mirrors fadam.ParamOptions.
type ParamOptions struct {
	NoWeightDecay bool
	LRScale       float64
}

// Consts are the per-tensor constants of one step, fixed before pass 0.
type Consts struct {
	T        int64   // step number, 1 for the first step
	Beta2Hat float64 // β̂₂ = β₂(1−β₂^{t−1})/(1−β₂^t), Algorithm 1 line 6
	LR       float64 // η × the tensor's LRScale
	WD       float64 // λ, or 0 for a tensor excluded from weight decay
	Sign     float64 // −1 when maximizing (g ← −g), else 1
	Cfg      *Config
}

// Kernel is one tensor's optimizer state and its passes. Run may be called concurrently for
// different chunks of the same pass; everything else is called from one goroutine.
type Kernel interface {
	// Chunks is the number of work units the tensor is cut into (the same for every pass).
	Chunks() int
	// Active reports whether the tensor takes part in pass p (p ≥ 1; every tensor runs pass 0).
	Active(p int) bool
	// Begin is called before pass 0 with the tensor's buffers and constants for this step.
	Begin(value, grad []float32, c *Consts)
	// Run executes chunk k of pass p and returns up to two partial sums. Pass 0 must only read
	// (it runs before the gradients are known to be finite) and must return Σg² first.
	Run(p, k int) (float64, float64)
	// Finish is called after pass p with the partial sums of every chunk, in chunk order.
	Finish(p int, sums [][2]float64)
	// State lists the tensor's state arrays, live (for checkpoints and StateBytes).
	State() []StateTensor
	// Fisher returns a copy of the diagonal Fisher information estimate.
	Fisher(t int64) []float32
	// Traffic is the memory traffic of one step in bytes, by the passes as implemented.
	Traffic() int64
}

// StateTensor names one state array of a kernel: the checkpoint tensor is <param>.<Suffix>.
type StateTensor struct {
	Suffix string
	Shape  []int
	Data   []float32
	// NonNegative marks arrays (square roots of Fisher estimates) whose entries must be ≥ 0.
	NonNegative bool
}

// Algorithm describes one optimizer.
type Algorithm struct {
	Name   string // "fadam", "fadafactor", "adam", "adafactor"
	Passes int    // number of passes including pass 0
	// Validate checks the hyperparameters this algorithm reads (beyond the common checks).
	Validate func(c *Config) error
	// NewKernel allocates a tensor's freshly initialised state.
	NewKernel func(shape []int, n int, cfg *Config) Kernel
}

type tensor struct {
	name  string
	shape []int
	n     int
	k     Kernel
	jobLo int // first job of this tensor in the job list (set per pass)
}

// Engine is one optimizer instance.
type Engine struct {
	alg      *Algorithm
	cfg      Config
	step     int64
	tensors  []*tensor // the registered parameter set, nil before the first Step or Load
	opts     map[string]ParamOptions
	optsFunc func(name string, shape []int) ParamOptions

	params   []Param // scratch copy of the caller's parameters
	jobs     []job
	partials [][2]float64
	consts   []Consts
	spans    []span // scratch of checkDisjoint
}

// New validates cfg and returns an engine for alg.
func New(alg *Algorithm, cfg Config) (*Engine, error) {
	if err := ValidateConfig(alg, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", alg.Name, err)
	}
	return &Engine{alg: alg, cfg: cfg, opts: map[string]ParamOptions{}}, nil
}

// ValidateConfig runs the checks common to every algorithm, then the algorithm's own.
func ValidateConfig(alg *Algorithm, c *Config) error {
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
	}{{"Eps", c.Eps}, {"Eps2", c.Eps2}, {"WeightDecay", c.WeightDecay}} {
		if !finite(f.v) || f.v < 0 {
			return bad(f.name, f.v, "a finite value ≥ 0")
		}
	}
	// Every float field is finite, even where an algorithm ignores it (ρ for the baselines):
	// a checkpoint stores them all as JSON, which has no NaN or Inf.
	if !finite(c.Rho) {
		return bad("Rho", c.Rho, "a finite value")
	}
	if c.Variant != Paper && c.Variant != PyTorchReference {
		return fmt.Errorf("%w: unknown Variant %d", ErrInvalidConfig, c.Variant)
	}
	if alg.Validate != nil {
		return alg.Validate(c)
	}
	return nil
}

// RequirePositiveRhoClip is the Validate of FAdam and FAdafactor: ρ > 0 and c > 0, both finite.
func RequirePositiveRhoClip(c *Config) error {
	if math.IsNaN(c.Rho) || math.IsInf(c.Rho, 0) || c.Rho <= 0 {
		return fmt.Errorf("%w: Rho = %v, want a finite value > 0", ErrInvalidConfig, c.Rho)
	}
	if math.IsNaN(c.Clip) || math.IsInf(c.Clip, 0) || c.Clip <= 0 {
		return fmt.Errorf("%w: Clip = %v, want a finite value > 0", ErrInvalidConfig, c.Clip)
	}
	return nil
}

// RequireClipNonNegative is the Validate of the baselines: c ≥ 0 and finite (0 disables clipping).
func RequireClipNonNegative(c *Config) error {
	if math.IsNaN(c.Clip) || math.IsInf(c.Clip, 0) || c.Clip < 0 {
		return fmt.Errorf("%w: Clip = %v, want a finite value ≥ 0 (0 disables clipping)", ErrInvalidConfig, c.Clip)
	}
	return nil
}

// Name is the algorithm's name.
func (e *Engine) Name() string { return e.alg.Name }

// Config returns the current hyperparameters (LR included).
func (e *Engine) Config() Config { return e.cfg }

// SetLR sets the learning rate of the following steps; an invalid value is reported by Step.
func (e *Engine) SetLR(lr float64) { e.cfg.LR = lr }

// LR is the current learning rate.
func (e *Engine) LR() float64 { return e.cfg.LR }

// Steps is the number of completed steps.
func (e *Engine) Steps() int64 { return e.step }

func validOptions(name string, o ParamOptions) error {
	if math.IsNaN(o.LRScale) || math.IsInf(o.LRScale, 0) || o.LRScale < 0 {
		return fmt.Errorf("%w: parameter %q: LRScale = %v, want a finite value ≥ 0 (0 means 1)", ErrInvalidConfig, name, o.LRScale)
	}
	return nil
}

// SetParamOptions sets the options of the named parameter, before or after the first step.
func (e *Engine) SetParamOptions(name string, o ParamOptions) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("%s: %w", e.alg.Name, err)
	}
	if err := validOptions(name, o); err != nil {
		return fmt.Errorf("%s: %w", e.alg.Name, err)
	}
	if e.tensors != nil && e.find(name) < 0 {
		return fmt.Errorf("%s: %w %q", e.alg.Name, ErrUnknownParam, name)
	}
	e.opts[name] = o
	return nil
}

// SetParamOptionsFunc sets a rule giving the options of every parameter without explicit ones.
func (e *Engine) SetParamOptionsFunc(f func(name string, shape []int) ParamOptions) {
	e.optsFunc = f
}

// ParamOptions returns the options in effect for a parameter.
func (e *Engine) ParamOptions(name string, shape []int) ParamOptions {
	if o, ok := e.opts[name]; ok {
		return o
	}
	if e.optsFunc != nil {
		return e.optsFunc(name, shape)
	}
	return ParamOptions{}
}

func (e *Engine) find(name string) int {
	for i, t := range e.tensors {
		if t.name == name {
			return i
		}
	}
	return -1
}

// Fisher returns a copy of the named parameter's diagonal Fisher estimate.
func (e *Engine) Fisher(name string) ([]float32, error) {
	i := e.find(name)
	if i < 0 {
		return nil, fmt.Errorf("%s: %w %q (the parameter set is known after the first Step or Load)", e.alg.Name, ErrUnknownParam, name)
	}
	return e.tensors[i].k.Fisher(e.step), nil
}

// StateBytes is the size of the optimizer state of the registered parameters.
func (e *Engine) StateBytes() int64 {
	var b int64
	for _, t := range e.tensors {
		for _, s := range t.k.State() {
			b += 4 * int64(len(s.Data))
		}
	}
	return b
}

// TrafficBytes is the memory traffic of one step over the registered parameters.
func (e *Engine) TrafficBytes() int64 {
	var b int64
	for _, t := range e.tensors {
		b += t.k.Traffic()
	}
	return b
}

// NumParams is the number of scalar parameters registered.
func (e *Engine) NumParams() int64 {
	var n int64
	for _, t := range e.tensors {
		n += int64(t.n)
	}
	return n
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
func (e *Engine) checkParams(ps []Param) error {
	if len(ps) == 0 {
		return fmt.Errorf("%w: no parameters", ErrInvalidParam)
	}
	seen := make(map[string]struct{}, len(ps))
	for i, p := range ps {
		if err := checkName(p.Name); err != nil {
			return fmt.Errorf("parameter %d: %w", i, err)
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
	var err error
	if e.spans, err = checkDisjoint(ps, e.spans); err != nil {
		return err
	}
	if e.tensors == nil {
		return nil
	}
	if len(ps) != len(e.tensors) {
		return fmt.Errorf("%w: %d parameters, previously %d", ErrParamSetChanged, len(ps), len(e.tensors))
	}
	for i, p := range ps {
		t := e.tensors[i]
		if p.Name != t.name {
			return fmt.Errorf("%w: parameter %d is %q, previously %q", ErrParamSetChanged, i, p.Name, t.name)
		}
		if !slices.Equal(p.Shape, t.shape) {
			return fmt.Errorf("%w: parameter %q has shape %v, previously %v", ErrParamSetChanged, p.Name, p.Shape, t.shape)
		}
	}
	return nil
}

// Beta2Hat is Algorithm 1 line 6: β̂₂ = β₂(1−β₂^{t−1})/(1−β₂^t), 0 at t = 1.
func Beta2Hat(beta2 float64, t int64) float64 {
	if t <= 1 || beta2 == 0 {
		return 0
	}
	return beta2 * (1 - math.Pow(beta2, float64(t-1))) / (1 - math.Pow(beta2, float64(t)))
}

// Step validates everything, then runs one step of the algorithm on ps, updating the values in
// place. On error nothing (parameters, state, step count) has changed.
func (e *Engine) Step(n int, at func(i int) Param) error {
	e.params = e.params[:0]
	for i := range n {
		e.params = append(e.params, at(i))
	}
	ps := e.params
	if err := checkStepLimit(e.step); err != nil {
		return fmt.Errorf("%s: %w", e.alg.Name, err)
	}
	if err := ValidateConfig(e.alg, &e.cfg); err != nil {
		return fmt.Errorf("%s: %w", e.alg.Name, err)
	}
	if err := e.checkParams(ps); err != nil {
		return fmt.Errorf("%s: %w", e.alg.Name, err)
	}
	tensors := e.tensors
	if tensors == nil {
		names := make([]string, len(ps))
		shapes := make([][]int, len(ps))
		for i, p := range ps {
			names[i], shapes[i] = p.Name, p.Shape
		}
		for name := range e.opts { // options for a misspelt name would silently do nothing
			if !slices.Contains(names, name) {
				return fmt.Errorf("%s: %w %q: options were set for it, but it is not among the parameters", e.alg.Name, ErrUnknownParam, name)
			}
		}
		tensors = e.newTensorsWith(names, shapes, &e.cfg)
	}
	t := e.step + 1
	b2hat := Beta2Hat(e.cfg.Beta2, t)
	sign := 1.0
	if e.cfg.Maximize {
		sign = -1
	}
	e.consts = slices.Grow(e.consts[:0], len(tensors))[:len(tensors)]
	for i, tn := range tensors {
		o := e.ParamOptions(tn.name, tn.shape)
		if err := validOptions(tn.name, o); err != nil {
			return fmt.Errorf("%s: %w", e.alg.Name, err)
		}
		if err := checkEffectiveLR(tn.name, e.cfg.LR, o); err != nil {
			return fmt.Errorf("%s: %w", e.alg.Name, err)
		}
		c := &e.consts[i]
		*c = Consts{T: t, Beta2Hat: b2hat, LR: e.cfg.LR, WD: e.cfg.WeightDecay, Sign: sign, Cfg: &e.cfg}
		if o.LRScale != 0 {
			c.LR *= o.LRScale
		}
		if o.NoWeightDecay {
			c.WD = 0
		}
		tn.k.Begin(ps[i].Value, ps[i].Grad, c)
	}
	// Pass 0 reads only; check the gradients before Finish(0) may touch any state.
	e.runPass(tensors, 0)
	for _, tn := range tensors {
		sum := 0.0
		for _, s := range e.partials[tn.jobLo : tn.jobLo+tn.k.Chunks()] {
			sum += s[0]
		}
		if math.IsNaN(sum) || math.IsInf(sum, 0) {
			g := ps[e.indexOf(tensors, tn)].Grad
			for j, x := range g {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return fmt.Errorf("%s: %w: parameter %q, element %d is %v", e.alg.Name, ErrNonFinite, tn.name, j, x)
				}
			}
		}
	}
	// Valid from here on: commit the registration and the step.
	e.tensors = tensors
	e.step = t
	e.finishPass(tensors, 0)
	for p := 1; p < e.alg.Passes; p++ {
		e.runPass(tensors, p)
		e.finishPass(tensors, p)
	}
	return nil
}

func (e *Engine) indexOf(ts []*tensor, t *tensor) int {
	for i, x := range ts {
		if x == t {
			return i
		}
	}
	return -1
}

type job struct {
	k     Kernel
	chunk int
}

// runPass runs pass p over every active tensor's chunks, in parallel.
func (e *Engine) runPass(ts []*tensor, p int) {
	e.jobs = e.jobs[:0]
	for _, t := range ts {
		t.jobLo = len(e.jobs)
		if p > 0 && !t.k.Active(p) {
			continue
		}
		for c := range t.k.Chunks() {
			e.jobs = append(e.jobs, job{t.k, c})
		}
	}
	e.partials = slices.Grow(e.partials[:0], len(e.jobs))[:len(e.jobs)]
	jobs, partials := e.jobs, e.partials
	parallelFor(len(jobs), func(j int) {
		a, b := jobs[j].k.Run(p, jobs[j].chunk)
		partials[j] = [2]float64{a, b}
	})
}

func (e *Engine) finishPass(ts []*tensor, p int) {
	for _, t := range ts {
		if p > 0 && !t.k.Active(p) {
			continue
		}
		t.k.Finish(p, e.partials[t.jobLo:t.jobLo+t.k.Chunks()])
	}
}
