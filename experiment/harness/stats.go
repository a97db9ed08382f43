package harness

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/fadam-go/fadam/report"
)

// Cell is one optimizer at one learning rate: the final metric of each seed that completed,
// and the seeds that diverged or did not finish.
type Cell struct {
	Optimizer  string
	LR         float64
	Seeds      []uint64  // seeds that completed, in grid order
	Values     []float64 // their final metric, Values[i] for Seeds[i]
	DivergedAt []int     // step of each diverged seed
	Incomplete int       // runs cut short or never started
}

// Mean is the mean of the values (NaN without any).
func (c Cell) Mean() float64 { m, _ := report.MeanStd(c.Values); return m }

// Std is the sample standard deviation of the values (0 for one, NaN for none).
func (c Cell) Std() float64 { _, s := report.MeanStd(c.Values); return s }

// Eligible reports whether every run of the cell completed: a learning rate at which any seed
// diverged or is missing cannot be selected.
func (c Cell) Eligible() bool {
	return len(c.DivergedAt) == 0 && c.Incomplete == 0 && len(c.Values) > 0
}

// String formats the cell as "2.3456 ± 0.0123", "diverged (3/3 seeds, first at step 12)", or
// both, with prec decimals.
func (c Cell) String(prec int) string {
	s := ""
	if len(c.Values) > 0 {
		s = report.MeanStdString(c.Values, prec)
	}
	if n := len(c.DivergedAt); n > 0 {
		if s != "" {
			s += "; "
		}
		s += fmt.Sprintf("diverged (%d/%d seeds, first at step %d)", n, n+len(c.Values)+c.Incomplete, slices.Min(c.DivergedAt))
	}
	if c.Incomplete > 0 {
		if s != "" {
			s += "; "
		}
		s += fmt.Sprintf("%d unfinished", c.Incomplete)
	}
	if s == "" {
		return "—"
	}
	return s
}

// value returns the split's final metric of a run.
func (o *Outcome) value(r Run, split Split) (float64, bool) {
	if r.Err != nil || !r.Result.Complete(o.Loop.Steps) {
		return 0, false
	}
	var m Metrics
	switch split {
	case Validation:
		m = r.Result.Validation
	case Test:
		m = r.Result.Test
	default:
		return 0, false
	}
	v, ok := m[o.Info.Metric]
	return v, ok
}

// Cell summarises optimizer name at lr on split's final metric (Validation or Test).
func (o *Outcome) Cell(name string, lr float64, split Split) Cell {
	c := Cell{Optimizer: name, LR: lr}
	for _, r := range o.Runs {
		if r.Spec.Optimizer != name || r.Spec.LR != lr {
			continue
		}
		switch v, ok := o.value(r, split); {
		case r.Result.Diverged():
			c.DivergedAt = append(c.DivergedAt, r.Result.DivergedAt)
		case ok:
			c.Seeds, c.Values = append(c.Seeds, r.Spec.Seed), append(c.Values, v)
		default:
			c.Incomplete++
		}
	}
	return c
}

// Interval is a paired comparison: the per-seed differences a − b of a metric, their mean, and
// the 95% Student-t confidence interval of the mean.
type Interval struct {
	A, B   string
	Diffs  []float64
	Mean   float64
	Std    float64 // sample standard deviation of the differences
	Lo, Hi float64 // 95% interval; NaN with fewer than two differences
}

// N is the number of pairs.
func (iv Interval) N() int { return len(iv.Diffs) }

// TInterval returns the mean of d and its 95% two-sided Student-t interval,
// mean ± t(0.975, n−1)·s/√n. With fewer than two values the interval is NaN.
func TInterval(d []float64) (mean, lo, hi float64) {
	mean, s := report.MeanStd(d)
	if len(d) < 2 {
		return mean, math.NaN(), math.NaN()
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(len(d) - 1)}.Quantile(0.975)
	half := t * s / math.Sqrt(float64(len(d)))
	return mean, mean - half, mean + half
}

// Paired pairs two cells by seed: the differences a − b over the seeds both completed, in a's
// seed order.
func Paired(a, b Cell) Interval {
	iv := Interval{A: a.Optimizer, B: b.Optimizer}
	for i, s := range a.Seeds {
		if j := slices.Index(b.Seeds, s); j >= 0 {
			iv.Diffs = append(iv.Diffs, a.Values[i]-b.Values[j])
		}
	}
	iv.Mean, iv.Lo, iv.Hi = TInterval(iv.Diffs)
	_, iv.Std = report.MeanStd(iv.Diffs)
	return iv
}

// Excludes reports whether the interval lies wholly on one side of zero.
func (iv Interval) Excludes() bool { return iv.Lo > 0 || iv.Hi < 0 }

// String formats the difference as "−0.0123 [−0.0201, −0.0045]" with prec decimals.
func (iv Interval) String(prec int) string {
	if iv.N() == 0 {
		return "—"
	}
	if iv.N() < 2 {
		return fmt.Sprintf("%+.*f (1 seed, no interval)", prec, iv.Mean)
	}
	return fmt.Sprintf("%+.*f [%+.*f, %+.*f]", prec, iv.Mean, prec, iv.Lo, prec, iv.Hi)
}

// Sentence says in words what the interval shows about metric.
func (iv Interval) Sentence(metric string, prec int) string {
	switch {
	case iv.N() == 0:
		return fmt.Sprintf("%s vs %s: no seed completed with both, so there is no paired comparison.", iv.A, iv.B)
	case iv.N() == 1:
		return fmt.Sprintf("%s − %s = %+.*f in %s on the one seed both completed: no interval with a single pair.", iv.A, iv.B, prec, iv.Mean, metric)
	}
	s := fmt.Sprintf("%s − %s = %+.*f in %s, 95%% interval [%+.*f, %+.*f] over %d paired seeds: ",
		iv.A, iv.B, prec, iv.Mean, metric, prec, iv.Lo, prec, iv.Hi, iv.N())
	switch {
	case iv.Hi < 0:
		return s + fmt.Sprintf("the interval excludes zero, %s is lower.", iv.A)
	case iv.Lo > 0:
		return s + fmt.Sprintf("the interval excludes zero, %s is lower.", iv.B)
	}
	return s + "the interval includes zero, no difference is resolved."
}

// Verdict judges the claim "A has the lower metric" from the interval: "reproduced" when the
// interval lies below zero, "not reproduced (B lower)" when it lies above, "unresolved" when it
// includes zero or there are fewer than two pairs.
func (iv Interval) Verdict() string {
	switch {
	case iv.N() >= 2 && iv.Hi < 0:
		return "reproduced"
	case iv.N() >= 2 && iv.Lo > 0:
		return "not reproduced (" + iv.B + " lower)"
	}
	return "unresolved"
}

// SameLR compares a and b at learning rate lr on split's final metric, paired by seed.
func (o *Outcome) SameLR(a, b string, lr float64, split Split) Interval {
	return Paired(o.Cell(a, lr, split), o.Cell(b, lr, split))
}

// ValidationGrid holds only validation numbers: Mean[name][i] is optimizer name's mean final
// validation metric at LRs[i], NaN where the learning rate is not eligible (a seed diverged
// or did not finish). It is all that learning-rate selection sees.
type ValidationGrid struct {
	LRs  []float64
	Mean map[string][]float64
}

// SelectLR returns the learning rate with the lowest mean validation metric for each optimizer
// of g (the first in grid order on a tie), and OK false for an optimizer with no eligible rate. It
// receives validation numbers only, so the test split cannot influence the choice.
func SelectLR(g ValidationGrid) map[string]LRChoice {
	out := map[string]LRChoice{}
	for name, means := range g.Mean {
		best := -1
		for i, m := range means {
			if !math.IsNaN(m) && (best < 0 || m < means[best]) {
				best = i
			}
		}
		if best >= 0 {
			out[name] = LRChoice{LR: g.LRs[best], Validation: means[best], OK: true}
		} else {
			out[name] = LRChoice{}
		}
	}
	return out
}

// LRChoice is an optimizer's selected learning rate and its mean validation metric there.
type LRChoice struct {
	LR         float64
	Validation float64
	OK         bool // false when no learning rate of the grid was eligible
}

// validationGrid extracts the validation numbers of the outcome for SelectLR.
func (o *Outcome) validationGrid() ValidationGrid {
	g := ValidationGrid{LRs: o.LRs, Mean: map[string][]float64{}}
	for _, name := range o.Names {
		means := make([]float64, len(o.LRs))
		for i, lr := range o.LRs {
			c := o.Cell(name, lr, Validation)
			means[i] = math.NaN()
			if c.Eligible() {
				means[i] = c.Mean()
			}
		}
		g.Mean[name] = means
	}
	return g
}

// Tuned is the tuned comparison: each optimizer at its own learning rate selected on the
// validation split, reported on the test split.
type Tuned struct {
	Choice map[string]LRChoice
	Test   map[string]Cell // test metric at the chosen learning rate
}

// Tuned selects each optimizer's learning rate from the validation numbers alone (SelectLR),
// then reads the test metric at the chosen rates.
func (o *Outcome) Tuned() Tuned {
	t := Tuned{Choice: SelectLR(o.validationGrid()), Test: map[string]Cell{}}
	for name, c := range t.Choice {
		if c.OK {
			t.Test[name] = o.Cell(name, c.LR, Test)
		}
	}
	return t
}

// Pair compares a and b at their selected learning rates on the test metric, paired by seed
// (both are trained with every seed of the grid, so seed s shares initialisation and data).
func (t Tuned) Pair(a, b string) (Interval, bool) {
	ca, okA := t.Test[a]
	cb, okB := t.Test[b]
	if !okA || !okB {
		return Interval{A: a, B: b, Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}, false
	}
	return Paired(ca, cb), true
}

// curveDiff returns, for each seed on which both a at lrA and b at lrB completed, the curve of
// a's curve metric minus b's against step (over the steps both evaluated).
func (o *Outcome) curveDiff(a string, lrA float64, b string, lrB float64) []report.Curve {
	find := func(name string, lr float64, seed uint64) (Run, bool) {
		for _, r := range o.Runs {
			if r.Spec.Optimizer == name && r.Spec.LR == lr && r.Spec.Seed == seed {
				return r, r.Err == nil && r.Result.Complete(o.Loop.Steps)
			}
		}
		return Run{}, false
	}
	var out []report.Curve
	for _, seed := range o.Seeds {
		ra, okA := find(a, lrA, seed)
		rb, okB := find(b, lrB, seed)
		if !okA || !okB {
			continue
		}
		var c report.Curve
		for i, p := range ra.Result.Curve {
			if i < len(rb.Result.Curve) && rb.Result.Curve[i].Step == p.Step {
				c.X, c.Y = append(c.X, float64(p.Step)), append(c.Y, p.Value-rb.Result.Curve[i].Value)
			}
		}
		out = append(out, c)
	}
	return out
}
