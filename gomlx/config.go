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
package fadamgomlx

import (
	"errors"
	"fmt"
	"math"

	"github.com/fadam-go/fadam"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
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
	ParamDType              = "dtype"                 // string: "", "float32" or "float64"
	ParamMaxGradNorm        = "max_grad_norm"         // float64: global-norm clipping, 0 = off (MaxGradNorm)
)

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
// A Config is not safe for concurrent use while it is being set up.
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
	paramOptions func(v *context.Variable) fadam.ParamOptions // per-variable λ and LR scale
	maxGradNorm  float64                                      // global-norm clipping, 0: off
	err          error                                        // a hyperparameter FromContext could not read, reported by Validate
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
// Maximize and MaxGradNorm) into c, so a GoMLX model and the core optimizers can share one
// fadam.Config.
func (c *Config) FromConfig(cfg fadam.Config) *Config {
	c.maxGradNorm = cfg.MaxGradNorm
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
// not set keep their current value. An invalid dtype name is reported by Validate. (A value of
// the wrong type makes context.GetParamOr panic, as it does for GoMLX's own optimizers.) The learning rate is read from optimizers.ParamLearningRate
// when the graph is built, unless LearningRate set it.
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
	c.maxGradNorm = context.GetParamOr(ctx, key(ParamMaxGradNorm), c.maxGradNorm)
	if s := context.GetParamOr(ctx, key(ParamDType), ""); s != "" {
		dt, err := dtypes.DTypeString(s)
		if err != nil || !dt.IsFloat() {
			c.err = fmt.Errorf("fadamgomlx: hyperparameter %s=%q is not a float dtype", key(ParamDType), s)
		} else {
			c.dtype = dt
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
// reference's (fadam.PyTorchReference) or the later form of the adaptive ε (fadam.LaterEps: ε̂ =
// ε·min(1, RMS(g))). It does not apply to Adafactor.
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

// DType sets the dtype of the optimizer's computation and state. By default each variable's own
// dtype is used.
func (c *Config) DType(dtype dtypes.DType) *Config {
	c.dtype = dtype
	return c
}

// Scope sets the context scope under which the optimizer keeps its state (momentum, Fisher and
// step counter). The defaults are "FAdamOptimizer", "FAdafactorOptimizer" and
// "AdafactorOptimizer"; change it when several optimizers share one context.
func (c *Config) Scope(name string) *Config {
	c.scopeName = name
	return c
}

// MaxGradNorm turns on global-norm gradient clipping when maxNorm > 0, with PyTorch's
// clip_grad_norm_ semantics and as the core optimizers' Config.MaxGradNorm: if the L2 norm n of
// all the step's gradients together exceeds maxNorm, every gradient is multiplied by
// maxNorm/(n + 1e-6) before the algorithm sees it. 0 (the default) turns it off. The norm
// before clipping is kept in the scalar variable GradNormVariable of the optimizer's scope,
// for logging; see GradNorm.
func (c *Config) MaxGradNorm(maxNorm float64) *Config {
	c.maxGradNorm = maxNorm
	return c
}

// GradNorm returns the variable GradNormVariable of this configuration's scope in ctx: the
// global gradient norm of the last step before clipping, or nil before the first step or
// without MaxGradNorm.
func (c *Config) GradNorm(ctx *context.Context) *context.Variable {
	return ctx.InAbsPath(context.ScopeSeparator + c.scopeName).GetVariable(GradNormVariable)
}

// ParamOptions sets a rule giving each trainable variable its options, the core package's
// per-parameter options (PyTorch's param groups): a weight decay λ of its own (replacing the
// optimizer's; λ = 0 excludes the variable) and a learning-rate scale. WeightDecayMinRank and
// ExcludeFromWeightDecay still exclude a variable whatever its options. Invalid options
// (fadam.ParamOptions.Validate) make UpdateGraph panic.
func (c *Config) ParamOptions(rule func(v *context.Variable) fadam.ParamOptions) *Config {
	c.paramOptions = rule
	return c
}

// Validate reports the first hyperparameter that is out of range.
func (c *Config) Validate() error {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case c.err != nil:
		return c.err
	case !finite(c.learningRate):
		return fmt.Errorf("fadamgomlx: %s: learning rate %v is not finite", c.algorithm, c.learningRate)
	case !(c.beta1 >= 0 && c.beta1 < 1):
		return fmt.Errorf("fadamgomlx: %s: beta1 %v is outside [0, 1)", c.algorithm, c.beta1)
	case !(c.beta2 >= 0 && c.beta2 < 1):
		return fmt.Errorf("fadamgomlx: %s: beta2 %v is outside [0, 1)", c.algorithm, c.beta2)
	case !(c.epsilon >= 0) || !finite(c.epsilon):
		return fmt.Errorf("fadamgomlx: %s: epsilon %v is negative or not finite", c.algorithm, c.epsilon)
	case !(c.epsilon2 >= 0) || !finite(c.epsilon2):
		return fmt.Errorf("fadamgomlx: %s: epsilon2 %v is negative or not finite", c.algorithm, c.epsilon2)
	case c.algorithm == NameAdafactor && (!(c.clip >= 0) || !finite(c.clip)):
		return fmt.Errorf("fadamgomlx: %s: clip %v is negative or not finite (0 disables clipping)", c.algorithm, c.clip)
	case c.algorithm != NameAdafactor && (!(c.clip > 0) || !finite(c.clip)):
		return fmt.Errorf("fadamgomlx: %s: clip %v is not a positive finite number", c.algorithm, c.clip)
	case !(c.weightDecay >= 0) || !finite(c.weightDecay):
		return fmt.Errorf("fadamgomlx: %s: weight decay %v is negative or not finite", c.algorithm, c.weightDecay)
	case !(c.rho > 0) || !finite(c.rho):
		return fmt.Errorf("fadamgomlx: %s: rho %v is not a positive finite number", c.algorithm, c.rho)
	case c.variant != fadam.Paper && c.variant != fadam.PyTorchReference && c.variant != fadam.LaterEps:
		return fmt.Errorf("fadamgomlx: %s: unknown variant %d", c.algorithm, c.variant)
	case !(c.maxGradNorm >= 0) || !finite(c.maxGradNorm):
		return fmt.Errorf("fadamgomlx: %s: max gradient norm %v is negative or not finite", c.algorithm, c.maxGradNorm)
	case c.scopeName == "":
		return errors.New("fadamgomlx: " + string(c.algorithm) + ": empty scope name")
	}
	return nil
}

// Done returns the configured optimizer. The configuration is copied, so later changes to c do
// not affect it. Out-of-range hyperparameters (see Validate) make UpdateGraph panic, as GoMLX
// graph-building functions do on error. Like GoMLX's own optimizers, the optimizer holds no
// state of its own (its state lives in context variables); build graphs with it as you would
// with them, one graph building at a time per context.
func (c *Config) Done() optimizers.Interface {
	cfg := *c
	return &optimizer{config: &cfg}
}
