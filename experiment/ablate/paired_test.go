package ablate

import (
	"math"
	"testing"

	"github.com/fadam-go/fadam/experiment/harness"
)

// outcome builds one setting's outcome with one cell per contender from per-seed values.
func outcome(label string, contenders []string, values ...[]float64) Outcome {
	o := Outcome{Setting: Setting{Label: label}}
	for i, name := range contenders {
		o.Setting.Contenders = append(o.Setting.Contenders, harness.Optimizer{Name: name})
		c := harness.Cell{Optimizer: name + " @ " + label, Values: values[i]}
		for s := range values[i] {
			c.Seeds = append(c.Seeds, uint64(s+1))
		}
		o.Cells = append(o.Cells, c)
	}
	return o
}

func TestComparisons(t *testing.T) {
	one := []string{"fadam"}
	two := []string{"fadam", "adamw"}
	// Differences by hand: {1.0, 1.2, 1.1} − {1.1, 1.1, 1.1} = {−0.1, +0.1, 0}: mean 0, s = 0.1,
	// half-width t(0.975, 2)·0.1/√3 = 4.302653·0.057735 = 0.248414.
	ref := []float64{1.1, 1.1, 1.1}
	other := []float64{1.0, 1.2, 1.1}
	for _, c := range []struct {
		name      string
		sw        Sweep
		outcomes  []Outcome
		found     bool
		labels    []string
		mean, lo0 float64 // of the first comparison
	}{
		{"reference by number", Sweep{Symbol: "ε₂", Reference: "1e-2"},
			[]Outcome{outcome("1e-1", one, other), outcome("0.01", one, ref)}, true,
			[]string{"ε₂ = 1e-1 − ε₂ = 0.01"}, 0, -0.248414},
		{"reference missing", Sweep{Symbol: "ρ", Reference: "0.5"},
			[]Outcome{outcome("0.3", one, other), outcome("0.4", one, ref)}, false, nil, 0, 0},
		{"previous stage", Sweep{Symbol: "stage"},
			[]Outcome{outcome("(0) a", one, ref), outcome("(1) b", one, other), outcome("(2) c", one, []float64{1.2, 1.3, 1.2})}, true,
			[]string{"(1) b − (0) a", "(2) c − (1) b", "(2) c − (0) a"}, 0, -0.248414},
		{"two contenders", Sweep{Symbol: "λ", Reference: "1e-3"},
			[]Outcome{outcome("0", two, other, ref), outcome("1e-3", two, ref, ref)}, true,
			[]string{"fadam: λ = 0 − λ = 1e-3", "adamw: λ = 0 − λ = 1e-3", "fadam − adamw at λ = 0", "fadam − adamw at λ = 1e-3"}, 0, -0.248414},
	} {
		cs, found := Comparisons(c.sw, c.outcomes)
		if found != c.found {
			t.Errorf("%s: found = %v, want %v", c.name, found, c.found)
		}
		if len(cs) != len(c.labels) {
			t.Fatalf("%s: %d comparisons, want %d: %+v", c.name, len(cs), len(c.labels), cs)
		}
		for i, want := range c.labels {
			if cs[i].Label != want {
				t.Errorf("%s: comparison %d is %q, want %q", c.name, i, cs[i].Label, want)
			}
		}
		if len(cs) > 0 {
			iv := cs[0].Interval
			if math.Abs(iv.Mean-c.mean) > 1e-12 || math.Abs(iv.Lo-c.lo0) > 1e-5 || iv.N() != 3 {
				t.Errorf("%s: first interval %+v, want mean %v, lower bound %v over 3 seeds", c.name, iv, c.mean, c.lo0)
			}
		}
	}
}

func TestInWords(t *testing.T) {
	for _, c := range []struct {
		diffs []float64
		want  string
	}{
		{[]float64{-0.2, -0.21, -0.19}, "first lower"},
		{[]float64{0.2, 0.21, 0.19}, "first higher"},
		{[]float64{-0.1, 0.1, 0}, "no difference resolved"},
		{[]float64{-0.1}, "no interval (fewer than two paired seeds)"},
	} {
		var iv harness.Interval
		iv.Diffs = c.diffs
		iv.Mean, iv.Lo, iv.Hi = harness.TInterval(c.diffs)
		if got := inWords(iv); got != c.want {
			t.Errorf("inWords(%v) = %q, want %q", c.diffs, got, c.want)
		}
	}
}
