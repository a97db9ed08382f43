package ablate

import (
	"testing"

	"github.com/fadam-go/fadam/experiment/harness"
)

func TestBuildPutsValuesInTheSpec(t *testing.T) {
	base := harness.SharedConfig()
	for _, tc := range []struct {
		sweep  string
		values []string
		check  func(i int, o harness.Optimizer) bool
	}{
		{"rho", []string{"0.3", "0.7"}, func(i int, o harness.Optimizer) bool { return o.Config.Rho == []float64{0.3, 0.7}[i] }},
		{"eps2", []string{"1e-1", "1e-8"}, func(i int, o harness.Optimizer) bool { return o.Config.Eps2 == []float64{0.1, 1e-8}[i] }},
		{"eps", []string{"adaptive", "1e-12"}, func(i int, o harness.Optimizer) bool { return o.Config.Eps == []float64{1e-8, 1e-12}[i] }},
		{"wd", []string{"0", "1e-2"}, func(i int, o harness.Optimizer) bool { return o.Config.WeightDecay == []float64{0, 1e-2}[i] }},
		{"components", []string{"0", "5"}, func(i int, o harness.Optimizer) bool { return o.Name == "path" }},
	} {
		t.Run(tc.sweep, func(t *testing.T) {
			sw := Sweeps[tc.sweep]
			settings, err := sw.Build(tc.values, base)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range settings {
				for _, c := range s.Contenders {
					if !tc.check(i, c) {
						t.Errorf("value %s: %s with %+v", tc.values[i], c.Name, c.Config)
					}
					if _, err := c.New(c.Config); err != nil {
						t.Errorf("value %s: %s: %v", tc.values[i], c.Name, err)
					}
				}
			}
			opts := sw.Optimizers(settings)
			names := map[string]bool{}
			for _, o := range opts {
				if names[o.Name] || o.Setting == "" {
					t.Fatalf("grid names %v", opts)
				}
				names[o.Name] = true
			}
		})
	}
}
