package lm

import (
	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/experiment/paramgroup"
)

// OptimizerNames lists the optimizers NamedOptimizer knows.
//
// Deprecated: use harness.OptimizerNames.
var OptimizerNames = harness.OptimizerNames

// OptimizerFactory builds an optimizer for the given hyperparameters.
type OptimizerFactory = paramgroup.Factory

// Optimizer is a named optimizer factory.
//
// Deprecated: use harness.Optimizer, which also shows its hyperparameters.
type Optimizer struct {
	Name string
	New  OptimizerFactory
}

// SharedConfig is harness.SharedConfig at peak learning rate lr.
//
// Deprecated: use harness.SharedConfig.
func SharedConfig(lr float64) fadam.Config {
	c := harness.SharedConfig()
	c.LR = lr
	return c
}

// NamedOptimizer returns the optimizer called name, with its own constants (harness.Named).
//
// Deprecated: use harness.Named.
func NamedOptimizer(name string) (Optimizer, error) {
	o, err := harness.Named(name, harness.SharedConfig())
	if err != nil {
		return Optimizer{}, err
	}
	return Optimizer{Name: o.Name, New: func(c fadam.Config) (fadam.Stepper, error) {
		o2, err := harness.Named(name, c)
		if err != nil {
			return nil, err
		}
		return o2.New(o2.Config)
	}}, nil
}

// WeightDecayMeaning says in one line what λ does in optimizer name's update.
//
// Deprecated: use harness.WeightDecayMeaning.
func WeightDecayMeaning(name string) string { return harness.WeightDecayMeaning(name) }
