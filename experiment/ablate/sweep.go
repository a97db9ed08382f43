package ablate

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/text"
	"github.com/fadam-go/fadam/experiment/lm"
	"github.com/fadam-go/fadam/report"
)

// Setting is one point of a sweep: a label (the swept value as printed) and, for each
// contender of the sweep, how to train with it.
type Setting struct {
	Label      string
	Contenders []lm.Optimizer // one per optimizer compared at this value; Name is the optimizer's
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
	Paper   []PaperTable
	// Build turns the value labels into settings; it rejects an unknown or malformed value.
	Build func(values []string, base fadam.Config, f Factories) ([]Setting, error)
}

// Factories builds the library's optimizers by name ("fadam", "adamw").
type Factories map[string]lm.OptimizerFactory

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

// Outcome is one value of a finished sweep: its runs, one per contender and seed.
type Outcome struct {
	Setting Setting
	Runs    []lm.Run
}

// Run trains every setting with every seed, parallel runs at once, and returns the outcomes in
// setting order. A diverging run is recorded and the sweep goes on; a cancelled ctx stops it
// and returns what finished together with ctx's error.
func Run(ctx context.Context, corpus *text.Corpus, cfg lm.Config, settings []Setting, seeds []uint64, parallel int, onStep func()) ([]Outcome, error) {
	// One lm.Sweep over all (setting, contender) pairs keeps both cores busy across settings.
	var opts []lm.Optimizer
	for i, s := range settings {
		for _, c := range s.Contenders {
			opts = append(opts, lm.Optimizer{Name: key(i, c.Name), New: c.New})
		}
	}
	runs := lm.Sweep(ctx, corpus, cfg, opts, seeds, parallel, onStep)
	out := make([]Outcome, len(settings))
	for i, s := range settings {
		out[i].Setting = s
	}
	for _, r := range runs {
		i, name := splitKey(r.Optimizer)
		r.Optimizer = name
		out[i].Runs = append(out[i].Runs, r)
	}
	return out, ctx.Err()
}

func key(i int, name string) string { return strconv.Itoa(i) + "\x00" + name }

func splitKey(k string) (int, string) {
	n, name, _ := strings.Cut(k, "\x00")
	i, _ := strconv.Atoi(n)
	return i, name
}

// Cell summarises the runs of one contender at one setting: the final eval loss over the seeds
// that completed, and how many diverged (with the earliest divergence step).
type Cell struct {
	Losses     []float64
	Diverged   int
	DivergedAt int // earliest step at which a seed diverged
	Incomplete int // runs cut short by cancellation
}

// Summarise groups an outcome's runs by contender, in contender order.
func (o Outcome) Summarise(steps int) []Cell {
	cells := make([]Cell, len(o.Setting.Contenders))
	for ci, c := range o.Setting.Contenders {
		cell := &cells[ci]
		for _, r := range o.Runs {
			if r.Optimizer != c.Name {
				continue
			}
			res := r.Result
			switch {
			case res.Diverged():
				cell.Diverged++
				if cell.DivergedAt == 0 || res.DivergedAt < cell.DivergedAt {
					cell.DivergedAt = res.DivergedAt
				}
			case r.Err != nil || res.Steps < steps:
				cell.Incomplete++
			default:
				if p, ok := res.Final(); ok {
					cell.Losses = append(cell.Losses, p.EvalLoss)
				}
			}
		}
	}
	return cells
}

// String formats the cell as "2.345 ± 0.012", "diverged at step N", or a mix of both.
func (c Cell) String() string {
	var parts []string
	if len(c.Losses) > 0 {
		parts = append(parts, report.MeanStdString(c.Losses, 4))
	}
	if c.Diverged > 0 {
		s := fmt.Sprintf("diverged at step %d", c.DivergedAt)
		if len(c.Losses) > 0 || c.Incomplete > 0 {
			s += fmt.Sprintf(" (%d seed(s))", c.Diverged)
		}
		parts = append(parts, s)
	}
	if c.Incomplete > 0 {
		parts = append(parts, fmt.Sprintf("%d run(s) stopped early", c.Incomplete))
	}
	if len(parts) == 0 {
		return "no runs"
	}
	return strings.Join(parts, "; ")
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

// withConfig wraps a factory so it builds with cfg modified by edit (after the training loop
// has set the per-group weight decay).
func withConfig(f lm.OptimizerFactory, edit func(*fadam.Config)) lm.OptimizerFactory {
	return func(c fadam.Config) (fadam.Stepper, error) {
		edit(&c)
		return f(c)
	}
}
