package fadam

import (
	"fmt"
	"math"
)

// Per-parameter options (PyTorch's param groups): how a parameter's ParamOptions combine with
// the optimizer's Config at each step, and the hyperparameter setters used for schedules.

// WithWeightDecay returns p with its own weight decay λ = wd, replacing the optimizer's for this
// parameter (HasWeightDecay set, NoWeightDecay cleared). WithWeightDecay(0) excludes the
// parameter from weight decay, as NoWeightDecay does.
func (p ParamOptions) WithWeightDecay(wd float64) ParamOptions {
	p.WeightDecay, p.HasWeightDecay, p.NoWeightDecay = wd, true, false
	return p
}

// weightDecay is the λ that applies to the parameter when the optimizer's is global.
func (p ParamOptions) weightDecay(global float64) float64 {
	switch {
	case p.NoWeightDecay:
		return 0
	case p.HasWeightDecay:
		return p.WeightDecay
	}
	return global
}

// lrScale is the factor of the learning rate (LRScale, 0 meaning 1).
func (p ParamOptions) lrScale() float64 {
	if p.LRScale == 0 {
		return 1
	}
	return p.LRScale
}

// validOptions checks the options of the named parameter under the learning rate lr, wrapping
// ErrInvalidConfig.
func validOptions(name string, opts ParamOptions, lr float64) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: parameter %q: %s", ErrInvalidConfig, name, fmt.Sprintf(format, args...))
	}
	if !isFinite(opts.LRScale) || opts.LRScale < 0 {
		return bad("LRScale = %v, want a finite value ≥ 0 (0 means 1)", opts.LRScale)
	}
	if !isFinite(opts.WeightDecay) || opts.WeightDecay < 0 {
		return bad("WeightDecay = %v, want a finite value ≥ 0", opts.WeightDecay)
	}
	if opts.WeightDecay != 0 && !opts.HasWeightDecay {
		return bad("WeightDecay = %v is set but HasWeightDecay is false (use ParamOptions.WithWeightDecay)", opts.WeightDecay)
	}
	if opts.WeightDecay != 0 && opts.NoWeightDecay {
		return bad("NoWeightDecay contradicts WeightDecay = %v", opts.WeightDecay)
	}
	if isFinite(lr) && !isFinite(lr*opts.lrScale()) {
		return bad("LR × LRScale = %v × %v overflows", lr, opts.LRScale)
	}
	return nil
}

// isFinite reports whether x is neither NaN nor ±Inf.
func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// ClearParamOptions removes the explicit options of the named parameter (if any), so that the
// rule of SetParamOptionsFunc, or the optimizer's configuration, applies to it again.
func (o *Optimizer) ClearParamOptions(name string) { delete(o.opts, name) }

// SetWeightDecay sets the optimizer's weight decay λ for the following steps (for weight-decay
// schedules); parameters with a WeightDecay of their own ([ParamOptions]) keep theirs. An
// invalid value (negative, NaN, ±Inf) makes the next Step fail with ErrInvalidConfig.
func (o *Optimizer) SetWeightDecay(wd float64) { o.cfg.WeightDecay = wd }

// WeightDecay is the optimizer's current weight decay λ (Config.WeightDecay).
func (o *Optimizer) WeightDecay() float64 { return o.cfg.WeightDecay }
