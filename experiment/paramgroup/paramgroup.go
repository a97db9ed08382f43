// Package paramgroup steps a model's parameters with two optimizers built by one factory: one
// for the tensors that take weight decay, and one with λ = 0 for the rest (biases,
// normalisation gains). Doing the exclusion here rather than through an optimizer's options
// makes it the same for every optimizer an experiment compares, including ones that have no
// per-parameter options.
package paramgroup

import (
	"errors"
	"fmt"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/nn"
)

// Factory builds an optimizer for the given hyperparameters.
type Factory = func(fadam.Config) (fadam.Stepper, error)

// LRSetter is implemented by optimizers whose learning rate can change between steps; Groups
// needs it to follow a schedule.
type LRSetter interface {
	SetLR(lr float64)
}

// ErrNoLRSetter is wrapped by the error New returns for an optimizer without SetLR.
var ErrNoLRSetter = errors.New("optimizer cannot change its learning rate (no SetLR method)")

// Groups holds the two optimizers and the parameter views they step. Like the optimizers it
// holds, it is not safe for concurrent use.
type Groups struct {
	opts []LRSetter
	step []fadam.Stepper
	vals [][]fadam.Param
}

// New splits ps by decays (true: the tensor takes weight decay) and builds one optimizer per
// non-empty group with newOpt: with hp for the decaying group and with hp.WeightDecay = 0 for
// the other.
func New(ps []*fadam.Param, decays func(*fadam.Param) bool, hp fadam.Config, newOpt Factory) (*Groups, error) {
	var decay, plain []*fadam.Param
	for _, p := range ps {
		if decays(p) {
			decay = append(decay, p)
		} else {
			plain = append(plain, p)
		}
	}
	noDecay := hp
	noDecay.WeightDecay = 0
	g := &Groups{}
	for _, grp := range []struct {
		ps []*fadam.Param
		hp fadam.Config
	}{{decay, hp}, {plain, noDecay}} {
		if len(grp.ps) == 0 {
			continue
		}
		opt, err := newOpt(grp.hp)
		if err != nil {
			return nil, fmt.Errorf("building optimizer: %w", err)
		}
		lrs, ok := opt.(LRSetter)
		if !ok {
			return nil, fmt.Errorf("%w: %T", ErrNoLRSetter, opt)
		}
		g.opts = append(g.opts, lrs)
		g.step = append(g.step, opt)
		g.vals = append(g.vals, nn.Values(grp.ps))
	}
	return g, nil
}

// Step sets every optimizer's learning rate to lr and applies one update to its group.
func (g *Groups) Step(lr float64) error {
	for i, o := range g.step {
		g.opts[i].SetLR(lr)
		if err := o.Step(g.vals[i]); err != nil {
			return err
		}
	}
	return nil
}
