package harness

import (
	"strings"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/experiment/paramgroup"
	"github.com/fadam-go/fadam/optimizers"
)

func TestNamed(t *testing.T) {
	for _, tc := range []struct {
		name      string
		eps, clip float64
	}{
		{"fadam", 1e-8, 1}, {"adamw", 1e-8, 0}, {"fadafactor", 1e-8, 1}, {"adafactor", 1e-30, 1},
		{"fadam-bf16", 1e-8, 1}, {"adafactor-bf16", 1e-30, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := Named(tc.name, SharedConfig())
			if err != nil {
				t.Fatal(err)
			}
			if o.Config.Eps != tc.eps || o.Config.Clip != tc.clip {
				t.Fatalf("Config shows %+v", o.Config)
			}
			hp := o.Config
			hp.LR = 0.01
			st, err := o.New(hp)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := st.(paramgroup.LRSetter); !ok {
				t.Fatalf("%T has no SetLR", st)
			}
			c := st.(optimizers.Optimizer).Config()
			if c.Eps != tc.eps || c.Clip != tc.clip || c.Beta1 != 0.9 || c.Beta2 != 0.99 || c.WeightDecay != 0.001 || c.LR != 0.01 {
				t.Fatalf("config %+v", c)
			}
			if want := map[bool]fadam.StateDType{false: fadam.Float32, true: fadam.BFloat16}[strings.HasSuffix(tc.name, BF16Suffix)]; c.StateDType != want {
				t.Fatalf("state dtype %v, want %v", c.StateDType, want)
			}
			p := fadam.Param{Name: "w", Shape: []int{2, 2}, Value: []float32{1, 2, 3, 4}, Grad: []float32{1, -1, 1, -1}}
			if err := st.Step([]fadam.Param{p}); err != nil {
				t.Fatal(err)
			}
			if p.Value[0] >= 1 || p.Value[2] >= 3 { // gradient and decay both push these down
				t.Fatalf("step did not descend: %v", p.Value)
			}
			if WeightDecayMeaning(tc.name) == "" {
				t.Fatal("no weight-decay description")
			}
		})
	}
	if _, err := ParseOptimizers("fadam-bf32", SharedConfig()); err == nil {
		t.Fatal("unknown state suffix accepted")
	}
	if _, err := ParseOptimizers("fadam, sgd", SharedConfig()); err == nil {
		t.Fatal("unknown optimizer accepted")
	}
	if os, err := ParseOptimizers("adamw,fadam", SharedConfig()); err != nil || len(os) != 2 || os[1].Name != "fadam" {
		t.Fatalf("%v %v", os, err)
	}
}
