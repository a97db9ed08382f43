package harness

import (
	"fmt"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/experiment/paramgroup"
	"github.com/fadam-go/fadam/nn"
)

// optionsRule is implemented by the library's optimizers: per-parameter options set by rule.
type optionsRule interface {
	SetParamOptionsFunc(rule func(name string, shape []int) fadam.ParamOptions)
}

// stepper is a run's optimizer over the model's parameters, following a learning rate.
type stepper func(lr float64) error

// newStepper builds the run's optimizer with hp. Parameters for which decays is false get
// λ = 0: through one optimizer with a per-parameter weight decay when it supports options by
// rule (the library's optimizers), otherwise through paramgroup's second instance built with
// λ = 0. Either way every optimizer of a comparison sees the same exclusion.
func newStepper(ps []*fadam.Param, decays func(*fadam.Param) bool, hp fadam.Config, factory paramgroup.Factory) (stepper, error) {
	opt, err := factory(hp)
	if err != nil {
		return nil, fmt.Errorf("building optimizer: %w", err)
	}
	rs, hasRule := opt.(optionsRule)
	lrs, hasLR := opt.(paramgroup.LRSetter)
	if !hasRule || !hasLR {
		groups, err := paramgroup.New(ps, decays, hp, factory)
		if err != nil {
			return nil, err
		}
		return groups.Step, nil
	}
	plain := map[string]bool{}
	for _, p := range ps {
		if !decays(p) {
			plain[p.Name] = true
		}
	}
	noDecay := fadam.ParamOptions{}.WithWeightDecay(0)
	rs.SetParamOptionsFunc(func(name string, _ []int) fadam.ParamOptions {
		if plain[name] {
			return noDecay
		}
		return fadam.ParamOptions{}
	})
	vals := nn.Values(ps)
	return func(lr float64) error {
		lrs.SetLR(lr)
		return opt.Step(vals)
	}, nil
}
