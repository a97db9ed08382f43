// Package ablate holds the ablation sweeps of the paper's Appendix C.1 (ρ, ε, ε₂, λ) and the
// path from AdamW to FAdam one correction at a time, run on the language-model task through
// the experiment harness.
package ablate

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/report"
)

// Setting is one point of a sweep: a label (the swept value as printed) and, for each
// contender of the sweep, how to train with it.
type Setting struct {
	Label string
	// Contenders are the optimizers compared at this value; Name is the optimizer's ("fadam"),
	// Config holds the swept value where it is a hyperparameter.
	Contenders []harness.Optimizer
}

// PaperTable is the paper's row(s) for a sweep, to print beside ours.
type PaperTable struct {
	Caption string
	Table   report.Table
}

// Sweep describes one ablation: the hyperparameter, its values and the paper's numbers.
type Sweep struct {
	Name    string // "rho", "eps", "eps2", "wd" or "components"
	Symbol  string // the swept quantity as the report names it
	Doc     string // one paragraph: what is swept and how
	Default []string
	// Reference is the value every other value is compared with, paired by seed (the paper's
	// default); empty compares each value with the one before it (the components path).
	Reference string
	Paper     []PaperTable
	// Build turns the value labels into settings, from the shared hyperparameters base; it
	// rejects an unknown or malformed value.
	Build func(values []string, base fadam.Config) ([]Setting, error)
}

// Sweeps lists every ablation, keyed by name.
var Sweeps = map[string]Sweep{}

// Names returns the sweep names in a fixed order.
func Names() []string {
	names := make([]string, 0, len(Sweeps))
	for n := range Sweeps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Outcome is one value of a finished sweep: a cell per contender (the final test metric over
// the seeds).
type Outcome struct {
	Setting Setting
	Cells   []harness.Cell
}

// runName is a contender's name in the harness grid, unique across the settings.
func runName(s Setting, c harness.Optimizer) string { return c.Name + " @ " + s.Label }

// Optimizers flattens the settings into the harness grid's optimizers, one per (setting,
// contender), each tagged with the sweep and value.
func (sw Sweep) Optimizers(settings []Setting) []harness.Optimizer {
	var opts []harness.Optimizer
	for _, s := range settings {
		for _, c := range s.Contenders {
			o := c
			o.Name = runName(s, c)
			o.Setting = sw.Name + "=" + s.Label
			opts = append(opts, o)
		}
	}
	return opts
}

// Outcomes summarises a harness outcome per setting, on the test metric.
func (sw Sweep) Outcomes(h *harness.Outcome, settings []Setting) []Outcome {
	out := make([]Outcome, len(settings))
	for i, s := range settings {
		out[i].Setting = s
		for _, c := range s.Contenders {
			out[i].Cells = append(out[i].Cells, h.Cell(runName(s, c), h.LRs[0], harness.Test))
		}
	}
	return out
}

// parseFloats parses value labels as numbers, naming the bad one.
func parseFloats(sweep string, values []string) ([]float64, error) {
	out := make([]float64, len(values))
	for i, v := range values {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("ablate %s: value %q is not a finite number", sweep, v)
		}
		out[i] = f
	}
	return out, nil
}

// named is harness.Named with base, for an optimizer the package knows to exist.
func named(name string, base fadam.Config) (harness.Optimizer, error) {
	o, err := harness.Named(name, base)
	if err != nil {
		return harness.Optimizer{}, fmt.Errorf("ablate: %w", err)
	}
	return o, nil
}
