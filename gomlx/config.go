// Package fadamgomlx provides FAdam, FAdafactor and Adafactor as GoMLX optimizers
// (optimizers.Interface), built from graph operations so they run on every GoMLX backend.
//
// The algorithms are those of "FAdam: Adam is a natural gradient optimizer using diagonal
// empirical Fisher information" (Hwang, 2024): FAdam is Algorithm 1, FAdafactor Algorithm 2 and
// Adafactor Algorithm 4, with the semantics of the core package github.com/fadam-go/fadam (the
// zero-denominator rule, FAdafactor factored over the two trailing axes of tensors of rank ≥ 2).
//
// Importing the package registers the optimizers in optimizers.KnownOptimizers as "fadam",
// "fadafactor" and "adafactor", so optimizers.ByName(ctx, "fadam") and
// optimizers.FromContext(ctx) with ctx.SetParam(optimizers.ParamOptimizer, "fadam") work.
// Optimizer state lives in context variables, so GoMLX checkpoints save and restore it.
//
// # Semantics
//
// Per tensor, with one step counter t shared by all variables (Algorithm 1):
//
//	β̂₂ = β₂(1−β₂^{t−1})/(1−β₂^t)            (0 at t = 1)
//	f  ← β̂₂ f + (1−β̂₂) g²                    (kept as √f; FAdafactor: row and column EMAs R, C)
//	ε̂  = min(ε, ε₂·RMS(g)),  d = f^ρ + ε̂^{2ρ}  (RMS over the whole tensor)
//	ḡ  = g/d,  ḡ ← ḡ / max(1, RMS(ḡ)/c),  m ← β₁m + (1−β₁)ḡ
//	ḡ_w = θ/d, ḡ_w ← ḡ_w / max(1, RMS(ḡ_w)/c),  θ ← θ − η·s·(m + λ ḡ_w)
//
// where s is the variable's learning-rate scale and λ its weight decay (see Config.PerVariable).
// Adafactor is Algorithm 4 as printed: ε added to g² inside the EMA, η·s inside the momentum,
// and λθ not scaled by η.
// Where d = 0 (a tensor whose gradients have all been zero: f = 0 and ε̂ = 0) the element
// contributes 0 to ḡ and ḡ_w instead of the paper's 0/0: no NaN or Inf comes out of finite
// inputs. FAdafactor's f_ij = R_i C_j / Σ_i R_i over the two trailing axes of tensors of rank ≥ 2
// (0 where Σ R = 0); tensors of rank 0 and 1 keep a full f. Algorithm 1 follows arXiv 2405.12807,
// the version whose adaptive ε is min(ε, ε₂·RMS(g)).
//
// Two other published forms are selectable with Config.Variant: fadam.PyTorchReference (the
// public PyTorch FAdam: ε̂ = ε·max(1, RMS(g)), d = f^ρ + ε̂, clipping x ← x / (max(1, RMS(x))/c))
// and LaterEpsilon (ε̂ = ε·min(1, RMS(g)), otherwise as fadam.PyTorchReference, with the
// zero-denominator rule above).
//
// # Options beyond the paper
//
//   - Per-variable weight decay and learning-rate scale (Config.PerVariable), with PyTorch
//     parameter-group semantics: a variable's λ replaces the optimizer's. They can change
//     between steps (Config.SetVariableOptions).
//   - Global-norm gradient clipping (Config.ClipGlobalNorm) with PyTorch clip_grad_norm_
//     semantics, applied before the algorithm sees the gradients; the pre-clip norm is kept in a
//     context variable for logging (Config.GradientNorm), and a step whose norm is not finite
//     changes nothing.
//   - bfloat16 optimizer state (Config.DType(dtypes.BFloat16)): m and √f (R, C) are stored as
//     bfloat16 and the arithmetic is done in float32. Stores round stochastically (seeded, with
//     the generator's state in a context variable, so runs and resumed checkpoints repeat
//     exactly on one backend), or to nearest with Config.StochasticRounding(false).
package fadamgomlx

import (
	"errors"
	"fmt"
	"math"

	"github.com/fadam-go/fadam"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// Algorithm names one of the optimizers of this package. Its string is the name under which the
// optimizer is registered in optimizers.KnownOptimizers and the prefix of its context
// hyperparameters (see ParamKey).
type Algorithm string

const (
	// NameFAdam is Algorithm 1 of the paper, Fisher Adam.
	NameFAdam Algorithm = "fadam"
	// NameFAdafactor is Algorithm 2 of the paper, Fisher Adafactor.
	NameFAdafactor Algorithm = "fadafactor"
	// NameAdafactor is Algorithm 4 of the paper, Adafactor as printed there.
	NameAdafactor Algorithm = "adafactor"
)

// Suffixes of the context hyperparameters read by Config.FromContext. The full key is the
// algorithm's name, an underscore and the suffix (see ParamKey): "fadam_beta1",
// "adafactor_weight_decay". The learning rate is GoMLX's shared optimizers.ParamLearningRate.
const (
	ParamBeta1              = "beta1"                 // float64, β₁
	ParamBeta2              = "beta2"                 // float64, β₂
	ParamEpsilon            = "epsilon"               // float64, ε
	ParamEpsilon2           = "epsilon2"              // float64, ε₂ (FAdam, FAdafactor)
	ParamClip               = "clip"                  // float64, c
	ParamWeightDecay        = "weight_decay"          // float64, λ
	ParamRho                = "rho"                   // float64, ρ (FAdam, FAdafactor)
	ParamWeightDecayMinRank = "weight_decay_min_rank" // int: variables of lower rank get no weight decay
	ParamDType              = "dtype"                 // string: "", "float32", "float64" or "bfloat16" (state only)
	ParamClipGlobalNorm     = "clip_global_norm"      // float64: maximum global gradient norm (0: no clipping)
	ParamVariant            = "variant"               // string: "paper", "pytorch_reference" or "later_epsilon"
	ParamStochasticRounding = "stochastic_rounding"   // bool: bfloat16 state rounded stochastically (default true)
)

// LaterEpsilon is the Variant of the later form of the adaptive ε (the FAdam of the maintained
// PyTorch optimizer collection, pytorch_optimizer): ε̂ = ε·min(1, RMS(g)), d = f^ρ + ε̂, and the
// clipping x ← x / (max(1, RMS(x))/c) of fadam.PyTorchReference. An element with d = 0 (no
// gradient yet) contributes 0, as in the paper's variant. It does not apply to Adafactor.
//
// It is the core package's fadam.LaterEps, so one fadam.Config selects this form for both (pass
// it to FromConfig).
const LaterEpsilon = fadam.LaterEps

// variantNames are the values of the context hyperparameter ParamVariant.
var variantNames = map[string]fadam.Variant{
	"paper":             fadam.Paper,
	"pytorch_reference": fadam.PyTorchReference,
	"later_epsilon":     LaterEpsilon,
}

// RoundingRNGVariable is the name of the context variable, in the optimizer's scope, holding the
// state of the random number generator of stochastic rounding (bfloat16 state only).
const RoundingRNGVariable = "rounding_rng_state"

// GradientNormVariable is the name of the scalar context variable, in the optimizer's scope,
// that holds the global gradient norm of the last step when ClipGlobalNorm is set. See
// Config.GradientNorm.
const GradientNormVariable = "gradient_norm"

// Suffixes of the names of the scalar float32 context variables that hold a variable's
// VariableOptions when Config.PerVariable is set: variable "w" in scope "/model" has
// "w_weight_decay" and "w_lr_scale" in scope "/<optimizer scope>/model", beside its momentum.
const (
	WeightDecaySuffix = "_weight_decay"
	LRScaleSuffix     = "_lr_scale"
)

// VariableOptions are the hyperparameters of one variable (a PyTorch parameter group).
type VariableOptions struct {
	// WeightDecay is λ for the variable. It replaces the optimizer's λ (0: no weight decay).
	WeightDecay float64
	// LRScale multiplies the learning rate for the variable (1: the optimizer's).
	LRScale float64
}

// ParamKey returns the context hyperparameter key of param for the optimizer named name:
// ParamKey(NameFAdam, ParamBeta1) is "fadam_beta1".
func ParamKey(name Algorithm, param string) string {
	return string(name) + "_" + param
}

// DefaultLearningRate is the learning rate used when neither Config.LearningRate nor the context
// hyperparameter optimizers.ParamLearningRate sets one.
const DefaultLearningRate = 1e-3

// AdafactorEpsilon is ε of Algorithm 4, line 1 (added to g² inside Adafactor's EMA).
const AdafactorEpsilon = 1e-30

func init() {
	optimizers.KnownOptimizers[string(NameFAdam)] = func(ctx *context.Context) optimizers.Interface {
		return FAdam().FromContext(ctx).Done()
	}
	optimizers.KnownOptimizers[string(NameFAdafactor)] = func(ctx *context.Context) optimizers.Interface {
		return FAdafactor().FromContext(ctx).Done()
	}
	optimizers.KnownOptimizers[string(NameAdafactor)] = func(ctx *context.Context) optimizers.Interface {
		return Adafactor().FromContext(ctx).Done()
	}
}

// Config holds the configuration of one optimizer of this package. Create it with FAdam,
// FAdafactor or Adafactor, chain its setters, and call Done to get the optimizers.Interface.
type Config struct {
	algorithm    Algorithm
	scopeName    string
	dtype        dtypes.DType // InvalidDType: compute in each variable's own dtype
	learningRate float64      // < 0: read optimizers.ParamLearningRate from the context
	beta1, beta2 float64
	epsilon      float64
	epsilon2     float64
	clip         float64
	weightDecay  float64
	rho          float64
	variant      fadam.Variant
	maximize     bool
	decayMinRank int
	excludeDecay func(v *context.Variable) bool
	perVariable  func(v *context.Variable, defaults VariableOptions) VariableOptions
	maxNorm      float64 // global-norm clipping threshold; 0: off
	nearest      bool    // bfloat16 state rounded to nearest instead of stochastically
	seed         int64   // seed of the stochastic rounding
	err          error   // a hyperparameter FromContext could not read, reported by Validate
}

// FAdam returns the configuration of FAdam (Algorithm 1) with the paper's defaults
// (fadam.Defaults): β₁=0.9, β₂=0.999, ε=1e-8, ε₂=0.01, c=1, λ=0.001, ρ=0.5.
func FAdam() *Config {
	return newConfig(NameFAdam)
}

// FAdafactor returns the configuration of FAdafactor (Algorithm 2) with the paper's defaults.
// Variables of rank ≥ 2 keep a factored Fisher over their two trailing axes; variables of rank
// 0 and 1 keep a full one, as FAdam.
func FAdafactor() *Config {
	return newConfig(NameFAdafactor)
}

// Adafactor returns the configuration of Adafactor as printed in Algorithm 4 of the paper:
// β₁=0.9, β₂=0.999, ε=1e-30 (added to g² inside the EMA), c=1, λ=0.001, the learning rate inside
// the momentum and the weight decay not scaled by it. ε₂, ρ and Variant do not apply.
//
// GoMLX v0.26.0 has no optimizer of this name; importing this package registers this one as
// "adafactor".
func Adafactor() *Config {
	c := newConfig(NameAdafactor)
	c.epsilon = AdafactorEpsilon
	return c
}

func newConfig(name Algorithm) *Config {
	d := fadam.Defaults()
	return &Config{
		algorithm:    name,
		scopeName:    defaultScope(name),
		dtype:        dtypes.InvalidDType,
		learningRate: -1,
		beta1:        d.Beta1,
		beta2:        d.Beta2,
		epsilon:      d.Eps,
		epsilon2:     d.Eps2,
		clip:         d.Clip,
		weightDecay:  d.WeightDecay,
		rho:          d.Rho,
	}
}

func defaultScope(name Algorithm) string {
	switch name {
	case NameFAdam:
		return "FAdamOptimizer"
	case NameFAdafactor:
		return "FAdafactorOptimizer"
	default:
		return "AdafactorOptimizer"
	}
}

// FromConfig copies every hyperparameter of cfg (learning rate, betas, ε, ε₂, c, λ, ρ, Variant,
// Maximize and MaxGradNorm, as ClipGlobalNorm) into c, so a GoMLX model and the core optimizers
// can share one fadam.Config.
func (c *Config) FromConfig(cfg fadam.Config) *Config {
	c.maxNorm = cfg.MaxGradNorm
	c.learningRate = cfg.LR
	c.beta1, c.beta2 = cfg.Beta1, cfg.Beta2
	c.epsilon, c.epsilon2 = cfg.Eps, cfg.Eps2
	c.clip = cfg.Clip
	c.weightDecay = cfg.WeightDecay
	c.rho = cfg.Rho
	c.variant = cfg.Variant
	c.maximize = cfg.Maximize
	return c
}

// FromContext reads the hyperparameters set in ctx (see ParamKey and the Param constants); those
// not set keep their current value. An invalid dtype or variant name is reported by Validate. (A
// value of the wrong type makes context.GetParamOr panic, as it does for GoMLX's own optimizers.)
// The learning rate is read from optimizers.ParamLearningRate when the graph is built, unless
// LearningRate set it. Per-variable options (PerVariable) have no context hyperparameter.
func (c *Config) FromContext(ctx *context.Context) *Config {
	key := func(p string) string { return ParamKey(c.algorithm, p) }
	c.beta1 = context.GetParamOr(ctx, key(ParamBeta1), c.beta1)
	c.beta2 = context.GetParamOr(ctx, key(ParamBeta2), c.beta2)
	c.epsilon = context.GetParamOr(ctx, key(ParamEpsilon), c.epsilon)
	c.epsilon2 = context.GetParamOr(ctx, key(ParamEpsilon2), c.epsilon2)
	c.clip = context.GetParamOr(ctx, key(ParamClip), c.clip)
	c.weightDecay = context.GetParamOr(ctx, key(ParamWeightDecay), c.weightDecay)
	c.rho = context.GetParamOr(ctx, key(ParamRho), c.rho)
	c.decayMinRank = context.GetParamOr(ctx, key(ParamWeightDecayMinRank), c.decayMinRank)
	c.maxNorm = context.GetParamOr(ctx, key(ParamClipGlobalNorm), c.maxNorm)
	c.nearest = !context.GetParamOr(ctx, key(ParamStochasticRounding), !c.nearest)
	if s := context.GetParamOr(ctx, key(ParamDType), ""); s != "" {
		dt, err := dtypes.DTypeString(s)
		if err != nil || !dt.IsFloat() {
			c.err = fmt.Errorf("fadamgomlx: hyperparameter %s=%q is not a float dtype", key(ParamDType), s)
		} else {
			c.dtype = dt
		}
	}
	if s := context.GetParamOr(ctx, key(ParamVariant), ""); s != "" {
		v, ok := variantNames[s]
		if !ok {
			c.err = fmt.Errorf("fadamgomlx: hyperparameter %s=%q is not one of \"paper\", "+
				"\"pytorch_reference\" or \"later_epsilon\"", key(ParamVariant), s)
		} else {
			c.variant = v
		}
	}
	return c
}

// LearningRate sets η. By default it is the context hyperparameter optimizers.ParamLearningRate
// ("learning_rate"), or DefaultLearningRate if that is not set. As with GoMLX's own optimizers
// the value initialises the learning-rate variable (optimizers.LearningRateVar), which schedules
// such as cosineschedule may then change.
func (c *Config) LearningRate(value float64) *Config {
	c.learningRate = value
	return c
}

// Betas sets β₁ (momentum) and β₂ (Fisher EMA).
func (c *Config) Betas(beta1, beta2 float64) *Config {
	c.beta1, c.beta2 = beta1, beta2
	return c
}

// Epsilon sets ε: the ceiling of the adaptive epsilon for FAdam and FAdafactor, the constant
// added to g² for Adafactor.
func (c *Config) Epsilon(epsilon float64) *Config {
	c.epsilon = epsilon
	return c
}

// Epsilon2 sets ε₂, the multiplier of RMS(g) in the adaptive epsilon (FAdam, FAdafactor).
func (c *Config) Epsilon2(epsilon2 float64) *Config {
	c.epsilon2 = epsilon2
	return c
}

// Clip sets c, the RMS threshold of the per-tensor clipping. For Adafactor, as in the core
// package's baseline, 0 disables clipping.
func (c *Config) Clip(clip float64) *Config {
	c.clip = clip
	return c
}

// WeightDecay sets λ. For FAdam and FAdafactor it is the Fisher-weighted decay of Algorithm 1,
// lines 12–14; for Adafactor the decoupled λθ of Algorithm 4, line 13.
func (c *Config) WeightDecay(weightDecay float64) *Config {
	c.weightDecay = weightDecay
	return c
}

// Rho sets ρ, the exponent of the Fisher information (FAdam, FAdafactor).
func (c *Config) Rho(rho float64) *Config {
	c.rho = rho
	return c
}

// Variant selects the paper's algorithm (fadam.Paper, the default), the public PyTorch
// reference's (fadam.PyTorchReference) or the later form of the adaptive ε (LaterEpsilon). It
// does not apply to Adafactor.
func (c *Config) Variant(v fadam.Variant) *Config {
	c.variant = v
	return c
}

// WeightDecayMinRank excludes variables of rank lower than minRank from weight decay:
// WeightDecayMinRank(2) keeps biases and normalisation gains (rank 1) and scalars undecayed.
// The default, 0, decays every variable.
func (c *Config) WeightDecayMinRank(minRank int) *Config {
	c.decayMinRank = minRank
	return c
}

// ExcludeFromWeightDecay sets a predicate: variables for which it returns true get no weight
// decay. It is combined with WeightDecayMinRank (a variable is decayed only if both allow it).
// For example, to spare every variable named "biases" or under a "layer_normalization" scope:
//
//	FAdam().ExcludeFromWeightDecay(func(v *context.Variable) bool {
//		return v.Name() == "biases" || strings.Contains(v.Scope(), "layer_normalization")
//	})
func (c *Config) ExcludeFromWeightDecay(exclude func(v *context.Variable) bool) *Config {
	c.excludeDecay = exclude
	return c
}

// PerVariable sets a rule giving each trainable variable its own weight decay and learning-rate
// scale, as PyTorch parameter groups do: the variable's λ replaces the optimizer's, and its
// learning rate is η·LRScale (0 freezes the variable). The rule receives the variable and its
// defaults (the optimizer's λ, or 0 if WeightDecayMinRank or ExcludeFromWeightDecay spare it, and
// LRScale 1) and returns the options to use. Values must be finite and ≥ 0, and η·LRScale must
// fit in float32 (otherwise UpdateGraph panics with an error naming the variable).
//
// The options live in scalar context variables beside the variable's optimizer state (see
// WeightDecaySuffix), so they can change between steps (SetVariableOptions: weight-decay or
// per-group learning-rate schedules) and GoMLX checkpoints keep them. The rule initialises them
// when the graph is first built; variables that already hold options (set by
// SetVariableOptions or restored from a checkpoint) keep theirs. Without a rule the options are
// constants of the graph.
//
// For Adafactor, LRScale scales η inside the momentum (Algorithm 4, line 12) and λθ stays
// unscaled (line 13). To select variables by name, switch on v.ScopeAndName() or v.Name():
//
//	FAdam().PerVariable(func(v *context.Variable, o VariableOptions) VariableOptions {
//		if v.Name() == "embeddings" {
//			o.WeightDecay, o.LRScale = 0, 0.1
//		}
//		return o
//	})
func (c *Config) PerVariable(rule func(v *context.Variable, defaults VariableOptions) VariableOptions) *Config {
	c.perVariable = rule
	return c
}

// SetVariableOptions sets the weight decay and learning-rate scale of trainable variable v for the
// following steps, as changing a PyTorch parameter group's "weight_decay" or "lr" between steps
// does. It needs PerVariable to be set (the options are then context variables, created here if
// no step has run yet) and rejects negative or non-finite values and a scale that would make the
// current learning rate overflow float32; on error nothing changes.
func (c *Config) SetVariableOptions(ctx *context.Context, v *context.Variable, opts VariableOptions) error {
	if c.perVariable == nil {
		return fmt.Errorf("fadamgomlx: %s: SetVariableOptions needs PerVariable (the options are otherwise constants of the graph)", c.algorithm)
	}
	var lr float64
	if lrVar := ctx.GetVariableByScopeAndName(context.ScopeSeparator+optimizers.Scope, optimizers.ParamLearningRate); lrVar != nil {
		if value, err := lrVar.Value(); err == nil {
			lr = math.Abs(scalarFloat64(value))
		}
	} else if lr = c.learningRate; lr < 0 {
		lr = context.GetParamOr(ctx, optimizers.ParamLearningRate, DefaultLearningRate)
	}
	if err := c.checkVariableOptions(v, opts, lr); err != nil {
		return err
	}
	scoped := ctx.Checked(false).InAbsPath(c.stateScope(v))
	for _, o := range []struct {
		suffix string
		value  float64
	}{{WeightDecaySuffix, opts.WeightDecay}, {LRScaleSuffix, opts.LRScale}} {
		value := tensors.FromScalar(float32(o.value))
		if existing := scoped.GetVariable(v.Name() + o.suffix); existing != nil {
			if err := existing.SetValue(value); err != nil {
				return fmt.Errorf("fadamgomlx: %s: setting %s%s: %w", c.algorithm, v.ScopeAndName(), o.suffix, err)
			}
			continue
		}
		scoped.VariableWithValue(v.Name()+o.suffix, value).SetTrainable(false)
	}
	return nil
}

// VariableOptionsOf returns the weight decay and learning-rate scale that trainable variable v
// has now, as stored (in float32). PerVariable must be set, and a step must have run or
// SetVariableOptions set them.
func (c *Config) VariableOptionsOf(ctx *context.Context, v *context.Variable) (VariableOptions, error) {
	scoped := ctx.InAbsPath(c.stateScope(v))
	var opts VariableOptions
	for _, o := range []struct {
		suffix string
		dst    *float64
	}{{WeightDecaySuffix, &opts.WeightDecay}, {LRScaleSuffix, &opts.LRScale}} {
		variable := scoped.GetVariable(v.Name() + o.suffix)
		if variable == nil {
			return VariableOptions{}, fmt.Errorf("fadamgomlx: %s: no options for %s: is PerVariable set, and has a step run?",
				c.algorithm, v.ScopeAndName())
		}
		value, err := variable.Value()
		if err != nil {
			return VariableOptions{}, fmt.Errorf("fadamgomlx: %s: reading %s%s: %w", c.algorithm, v.ScopeAndName(), o.suffix, err)
		}
		*o.dst = scalarFloat64(value)
	}
	return opts, nil
}

// checkVariableOptions reports a weight decay or learning-rate scale of v that is negative or not
// finite, or a scale that makes the learning rate lr overflow float32.
func (c *Config) checkVariableOptions(v *context.Variable, opts VariableOptions, lr float64) error {
	bad := func(x float64) bool { return !(x >= 0) || math.IsInf(x, 1) }
	switch {
	case bad(opts.WeightDecay):
		return fmt.Errorf("fadamgomlx: %s: variable %s: weight decay %v is negative or not finite",
			c.algorithm, v.ScopeAndName(), opts.WeightDecay)
	case bad(opts.LRScale):
		return fmt.Errorf("fadamgomlx: %s: variable %s: learning-rate scale %v is negative or not finite",
			c.algorithm, v.ScopeAndName(), opts.LRScale)
	case math.Abs(lr*opts.LRScale) > math.MaxFloat32 || opts.WeightDecay > math.MaxFloat32:
		return fmt.Errorf("fadamgomlx: %s: variable %s: learning rate %v × scale %v (or weight decay %v) overflows float32",
			c.algorithm, v.ScopeAndName(), lr, opts.LRScale, opts.WeightDecay)
	}
	return nil
}

// stateScope is the absolute scope of the optimizer's state of variable v: the optimizer's scope
// followed by v's, as GoMLX's Adam keeps its moments.
func (c *Config) stateScope(v *context.Variable) string {
	return context.ScopeSeparator + c.scopeName + v.Scope()
}

// scalarFloat64 returns the value of a float32 or float64 scalar tensor (NaN for other dtypes).
func scalarFloat64(t *tensors.Tensor) float64 {
	switch x := t.Value().(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

// ClipGlobalNorm enables global-norm gradient clipping before the optimizer sees the gradients,
// with PyTorch's clip_grad_norm_ semantics: n = √(Σ over all trainable variables of Σ g²), and if
// n > maxNorm every gradient is multiplied by maxNorm/(n + 1e-6). n is stored each step in the
// scalar context variable GradientNormVariable under the optimizer's scope (read it with
// GradientNorm). If n is not finite (a NaN or ±Inf gradient) the step changes nothing: the
// variables, the optimizer state and its step count keep their values (GoMLX's global step,
// which counts loop iterations, still advances). 0 (the default) disables clipping; +Inf computes
// and stores n and skips non-finite steps, but never clips.
//
// The norm is computed in float32 (float64 if the optimizer's dtype is float64) on gradients
// divided by their largest magnitude, so it does not overflow for finite gradients.
func (c *Config) ClipGlobalNorm(maxNorm float64) *Config {
	c.maxNorm = maxNorm
	return c
}

// GradientNorm returns the global gradient norm n of the last step built with ClipGlobalNorm
// (see there), read from the context variable GradientNormVariable in the optimizer's scope
// under ctx's current scope (the context given to UpdateGraph). A train loop can log it after
// each step. It returns an error if no step with global-norm clipping has run on ctx.
func (c *Config) GradientNorm(ctx *context.Context) (float64, error) {
	v := ctx.In(c.scopeName).GetVariable(GradientNormVariable)
	if v == nil {
		return 0, fmt.Errorf("fadamgomlx: %s: no variable %q in scope %q: is ClipGlobalNorm set?",
			c.algorithm, GradientNormVariable, ctx.In(c.scopeName).Scope())
	}
	value, err := v.Value()
	if err != nil {
		return 0, fmt.Errorf("fadamgomlx: %s: reading the gradient norm: %w", c.algorithm, err)
	}
	return scalarFloat64(value), nil
}

// DType sets the dtype of the optimizer's computation and state. By default each variable's own
// dtype is used. float32 and float64 set both.
//
// dtypes.BFloat16 keeps the state (m and √f, or √R and √C) in bfloat16, half the bytes of
// float32, and computes in float32; each step uses the values it computed before they are
// rounded for storage. By default each store rounds stochastically: up or down to the two
// nearest bfloat16 values with probabilities that make the stored value exact on average, using
// uniform random numbers from GoMLX's RNGBitGenerator whose state is the context variable
// RoundingRNGVariable in the optimizer's scope (seeded by RoundingSeed; saved in checkpoints, so
// a resumed run continues the same sequence). The random bits depend on the backend, so runs
// repeat exactly on one backend, not across backends. Without it, updates smaller than half a
// bfloat16 unit (2⁻⁹ to 2⁻⁸ relative) are lost: see StochasticRounding. float16 is rejected: its
// range cannot hold √f.
func (c *Config) DType(dtype dtypes.DType) *Config {
	c.dtype = dtype
	return c
}

// StochasticRounding selects how bfloat16 state (DType(dtypes.BFloat16)) is rounded: stochastically
// (true, the default) or to nearest, ties to even (false), which is deterministic on every
// backend but loses every update smaller than half a bfloat16 unit. With β₂ = 0.999 that means √f
// rises only when g² exceeds about 5–9 f and never falls (a step lowers √f by at most
// (1−β₂)/2 = 0.05%); with β₂ = 0.99 it falls only when g² drops below about 0.2–0.6 f.
func (c *Config) StochasticRounding(enabled bool) *Config {
	c.nearest = !enabled
	return c
}

// RoundingSeed sets the seed of the random numbers of stochastic rounding (default 0). It is
// used when the generator's state variable is created, not when it is restored from a
// checkpoint.
func (c *Config) RoundingSeed(seed int64) *Config {
	c.seed = seed
	return c
}

// Scope sets the context scope under which the optimizer keeps its state (momentum, Fisher and
// step counter). The defaults are "FAdamOptimizer", "FAdafactorOptimizer" and
// "AdafactorOptimizer"; change it when several optimizers share one context.
func (c *Config) Scope(name string) *Config {
	c.scopeName = name
	return c
}

// Validate reports the first hyperparameter that is out of range. The hyperparameters the
// algorithms share with the core package are checked by the core's own fadam.Config.Validate,
// so a configuration is valid here exactly when it is valid for the core optimizer of the same
// name; the rest (state dtype, global-norm threshold, scope) are this package's.
func (c *Config) Validate() error {
	if c.err != nil {
		return c.err
	}
	core := fadam.Config{Beta1: c.beta1, Beta2: c.beta2, Eps: c.epsilon, Eps2: c.epsilon2,
		Clip: c.clip, WeightDecay: c.weightDecay, Rho: c.rho, Variant: c.variant, Maximize: c.maximize}
	if c.learningRate < 0 && !math.IsInf(c.learningRate, -1) {
		core.LR = 0 // < 0: read optimizers.ParamLearningRate from the context when the graph is built
	} else {
		core.LR = c.learningRate
	}
	if err := core.Validate(fadam.Algorithm(c.algorithm)); err != nil {
		return fmt.Errorf("fadamgomlx: %s: %w", c.algorithm, err)
	}
	switch {
	case !(c.maxNorm >= 0) || math.IsInf(c.maxNorm, -1):
		return fmt.Errorf("fadamgomlx: %s: global-norm clipping threshold %v is negative or NaN (0 disables it)", c.algorithm, c.maxNorm)
	case c.dtype != dtypes.InvalidDType && c.dtype != dtypes.Float32 && c.dtype != dtypes.Float64 && c.dtype != dtypes.BFloat16:
		return fmt.Errorf("fadamgomlx: %s: dtype %s is not float32, float64 or bfloat16", c.algorithm, c.dtype)
	case c.scopeName == "":
		return errors.New("fadamgomlx: " + string(c.algorithm) + ": empty scope name")
	}
	return nil
}

// Done returns the configured optimizer. The configuration is copied, so later changes to c do
// not affect it. Out-of-range hyperparameters (see Validate) make UpdateGraph panic, as GoMLX
// graph-building functions do on error.
func (c *Config) Done() optimizers.Interface {
	cfg := *c
	return &optimizer{config: &cfg}
}
