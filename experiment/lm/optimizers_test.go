package lm

import (
	"testing"

	"github.com/fadam-go/fadam/optimizers"
)

func TestNamedOptimizerKeepsWorking(t *testing.T) {
	o, err := NamedOptimizer("adafactor")
	if err != nil {
		t.Fatal(err)
	}
	st, err := o.New(SharedConfig(0.01))
	if err != nil {
		t.Fatal(err)
	}
	if c := st.(optimizers.Optimizer).Config(); c.Eps != 1e-30 || c.LR != 0.01 || c.WeightDecay != 0.001 {
		t.Fatalf("config %+v", c)
	}
	if _, err := NamedOptimizer("sgd"); err == nil {
		t.Fatal("unknown optimizer accepted")
	}
}
