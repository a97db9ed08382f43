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

// EffectiveWeightDecay is the λ that applies to a parameter with options p when the
// optimizer's is global: 0 with NoWeightDecay, WeightDecay with HasWeightDecay, else global.
func (p ParamOptions) EffectiveWeightDecay(global float64) float64 {
	switch {
	case p.NoWeightDecay:
		return 0
	case p.HasWeightDecay:
		return p.WeightDecay
	}
	return global
}

// EffectiveLRScale is the factor of the learning rate: LRScale, or 1 where it is 0.
func (p ParamOptions) EffectiveLRScale() float64 {
	if p.LRScale == 0 {
		return 1
	}
	return p.LRScale
}

// Validate reports, wrapping ErrInvalidConfig, what is wrong with p for a learning rate lr: a
// LRScale or WeightDecay that is negative or not finite, a WeightDecay without HasWeightDecay or
// contradicting NoWeightDecay, or an lr × LRScale that overflows. Pass lr = 0 to check the
// options alone.
func (p ParamOptions) Validate(lr float64) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	if !isFinite(p.LRScale) || p.LRScale < 0 {
		return bad("LRScale = %v, want a finite value ≥ 0 (0 means 1)", p.LRScale)
	}
	if !isFinite(p.WeightDecay) || p.WeightDecay < 0 {
		return bad("WeightDecay = %v, want a finite value ≥ 0", p.WeightDecay)
	}
	if p.WeightDecay != 0 && !p.HasWeightDecay {
		return bad("WeightDecay = %v is set but HasWeightDecay is false (use ParamOptions.WithWeightDecay)", p.WeightDecay)
	}
	if p.WeightDecay != 0 && p.NoWeightDecay {
		return bad("NoWeightDecay contradicts WeightDecay = %v", p.WeightDecay)
	}
	if isFinite(lr) && !isFinite(lr*p.EffectiveLRScale()) {
		return bad("LR × LRScale = %v × %v overflows", lr, p.LRScale)
	}
	return nil
}

// validOptions is Validate naming the parameter.
func validOptions(name string, opts ParamOptions, lr float64) error {
	if err := opts.Validate(lr); err != nil {
		return fmt.Errorf("parameter %q: %w", name, err)
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
