package paramgroup

import (
	"errors"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/nn"
)

// recorder is an optimizer that records the configuration it was built with and what it steps.
type recorder struct {
	cfg   fadam.Config
	lr    float64
	names []string
}

func (r *recorder) SetLR(lr float64) { r.lr = lr }
func (r *recorder) Step(ps []fadam.Param) error {
	r.names = r.names[:0]
	for _, p := range ps {
		r.names = append(r.names, p.Name)
	}
	return nil
}

type noLR struct{}

func (noLR) Step([]fadam.Param) error { return nil }

func TestGroupsSplitByDecay(t *testing.T) {
	ps := []*fadam.Param{nn.NewParam("w", 2, 2), nn.NewParam("b", 2), nn.NewParam("v", 3, 2)}
	hp := fadam.Defaults()
	hp.WeightDecay = 0.1
	var built []*recorder
	g, err := New(ps, func(p *fadam.Param) bool { return len(p.Shape) >= 2 }, hp, func(c fadam.Config) (fadam.Stepper, error) {
		r := &recorder{cfg: c}
		built = append(built, r)
		return r, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Step(0.5); err != nil {
		t.Fatal(err)
	}
	if len(built) != 2 || built[0].cfg.WeightDecay != 0.1 || built[1].cfg.WeightDecay != 0 {
		t.Fatalf("built %d optimizers with λ %v", len(built), built)
	}
	if got := built[0].names; len(got) != 2 || got[0] != "w" || got[1] != "v" {
		t.Errorf("decaying group stepped %v, want [w v]", got)
	}
	if got := built[1].names; len(got) != 1 || got[0] != "b" {
		t.Errorf("plain group stepped %v, want [b]", got)
	}
	if built[0].lr != 0.5 || built[1].lr != 0.5 {
		t.Errorf("learning rates %v, %v; want 0.5", built[0].lr, built[1].lr)
	}
}

func TestGroupsErrors(t *testing.T) {
	ps := []*fadam.Param{nn.NewParam("w", 2, 2)}
	all := func(*fadam.Param) bool { return true }
	if _, err := New(ps, all, fadam.Defaults(), func(fadam.Config) (fadam.Stepper, error) { return noLR{}, nil }); !errors.Is(err, ErrNoLRSetter) {
		t.Errorf("optimizer without SetLR: %v", err)
	}
	boom := errors.New("boom")
	if _, err := New(ps, all, fadam.Defaults(), func(fadam.Config) (fadam.Stepper, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("factory error not wrapped: %v", err)
	}
}
