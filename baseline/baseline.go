// Package baseline implements the optimizers the FAdam paper compares against, on the same
// engine and with the same API as package fadam: Adam with PyTorch AdamW semantics (plus
// Algorithm 3's update clipping) and Adafactor as printed in Algorithm 4.
package baseline

import (
	"io"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/internal/engine"
)

// optimizer holds what Adam and Adafactor share: every method but the constructor.
type optimizer struct {
	e *engine.Engine
}

func newOptimizer(alg *engine.Algorithm, c fadam.Config) (optimizer, error) {
	e, err := engine.New(alg, engine.Config{LR: c.LR, Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Eps, Eps2: c.Eps2,
		Clip: c.Clip, WeightDecay: c.WeightDecay, Rho: c.Rho, Variant: int(c.Variant), Maximize: c.Maximize})
	return optimizer{e}, err
}

// Step applies one update to every parameter's Value from its Grad. The parameter set must be
// the same (names, shapes, order) at every step. On error nothing has changed.
func (o *optimizer) Step(params []fadam.Param) error {
	return o.e.Step(len(params), func(i int) engine.Param { return engine.Param(params[i]) })
}

// Name is "adam" or "adafactor".
func (o *optimizer) Name() string { return o.e.Name() }

// Config returns the hyperparameters, with the current learning rate.
func (o *optimizer) Config() fadam.Config {
	c := o.e.Config()
	return fadam.Config{LR: c.LR, Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Eps, Eps2: c.Eps2, Clip: c.Clip,
		WeightDecay: c.WeightDecay, Rho: c.Rho, Variant: fadam.Variant(c.Variant), Maximize: c.Maximize}
}

// SetLR sets the learning rate of the following steps; an invalid value makes the next Step
// fail with fadam.ErrInvalidConfig.
func (o *optimizer) SetLR(lr float64) { o.e.SetLR(lr) }

// LR is the current learning rate.
func (o *optimizer) LR() float64 { return o.e.LR() }

// Steps is the number of steps taken.
func (o *optimizer) Steps() int64 { return o.e.Steps() }

// SetParamOptions sets the options of the named parameter (see fadam.Optimizer.SetParamOptions).
func (o *optimizer) SetParamOptions(name string, opts fadam.ParamOptions) error {
	return o.e.SetParamOptions(name, engine.ParamOptions(opts))
}

// SetParamOptionsFunc sets a rule giving the options of parameters without explicit ones.
func (o *optimizer) SetParamOptionsFunc(rule func(name string, shape []int) fadam.ParamOptions) {
	if rule == nil {
		o.e.SetParamOptionsFunc(nil)
		return
	}
	o.e.SetParamOptionsFunc(func(name string, shape []int) engine.ParamOptions {
		return engine.ParamOptions(rule(name, shape))
	})
}

// Fisher returns a copy of the named parameter's second-moment estimate: Adam's bias-corrected
// v̂, Adafactor's f (factored: R_i C_j / Σ_i R_i).
func (o *optimizer) Fisher(name string) ([]float32, error) { return o.e.Fisher(name) }

// StateBytes is the memory held as optimizer state for the registered parameters.
func (o *optimizer) StateBytes() int64 { return o.e.StateBytes() }

// TrafficBytes is the memory traffic one Step needs over the registered parameters.
func (o *optimizer) TrafficBytes() int64 { return o.e.TrafficBytes() }

// Save writes the whole optimizer state to path (safetensors, atomically).
func (o *optimizer) Save(path string) error { return o.e.Save(path) }

// Load restores a state written by Save; on error the optimizer is unchanged.
func (o *optimizer) Load(path string) error { return o.e.Load(path) }

// WriteTo writes the checkpoint that Save would write to w.
func (o *optimizer) WriteTo(w io.Writer) (int64, error) { return o.e.WriteTo(w) }

// Unmarshal is Load from the bytes of a checkpoint.
func (o *optimizer) Unmarshal(data []byte) error { return o.e.Unmarshal(data) }
