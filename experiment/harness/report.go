package harness

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"

	"github.com/fadam-go/fadam/report"
)

// Pair is two optimizers to compare, A − B.
type Pair struct{ A, B string }

// Pairs returns the pairs of ps whose optimizers both ran in the outcome.
func (o *Outcome) Pairs(ps []Pair) []Pair {
	var out []Pair
	for _, p := range ps {
		if slices.Contains(o.Names, p.A) && slices.Contains(o.Names, p.B) {
			out = append(out, p)
		}
	}
	return out
}

// FormatLR formats a learning rate with up to 4 significant digits: "0.003", "1e+09".
func FormatLR(lr float64) string { return strconv.FormatFloat(lr, 'g', 4, 64) }

// Table is the final metric on split for every optimizer (rows) at every learning rate
// (columns): mean ± std over seeds, diverged runs marked.
func (o *Outcome) Table(split Split, prec int) report.Table {
	t := report.Table{Header: []string{fmt.Sprintf("%s %s \\ peak LR", split, o.Info.Metric)}}
	for _, lr := range o.LRs {
		t.Header = append(t.Header, FormatLR(lr))
	}
	for _, name := range o.Names {
		row := []string{name}
		for _, lr := range o.LRs {
			row = append(row, o.Cell(name, lr, split).String(prec))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// verdict is the short form of Interval.Sentence for a table cell.
func verdict(iv Interval) string {
	switch {
	case iv.N() < 2:
		return "no interval"
	case iv.Hi < 0:
		return iv.A + " lower (excludes 0)"
	case iv.Lo > 0:
		return iv.B + " lower (excludes 0)"
	}
	return "includes 0"
}

// SameLRTable is the same-learning-rate comparison of each pair at every learning rate on the
// test metric, paired by seed, with its 95% interval.
func (o *Outcome) SameLRTable(pairs []Pair, prec int) report.Table {
	t := report.Table{Header: []string{"pair", "peak LR", "test " + o.Info.Metric + " A − B [95% interval]", "pairs", "verdict"}}
	for _, p := range o.Pairs(pairs) {
		for _, lr := range o.LRs {
			iv := o.SameLR(p.A, p.B, lr, Test)
			t.Rows = append(t.Rows, []string{p.A + " − " + p.B, FormatLR(lr), iv.String(prec), strconv.Itoa(iv.N()), verdict(iv)})
		}
	}
	return t
}

// TunedTable is the tuned comparison: each optimizer's selected learning rate, its validation
// metric there and its test metric.
func (o *Outcome) TunedTable(t Tuned, prec int) report.Table {
	tab := report.Table{Header: []string{"optimizer", "selected peak LR (on validation)", "validation " + o.Info.Metric, "test " + o.Info.Metric + " (mean ± std)"}}
	for _, name := range o.Names {
		c := t.Choice[name]
		if !c.OK {
			tab.Rows = append(tab.Rows, []string{name, "none (every LR diverged or is unfinished)", "—", "—"})
			continue
		}
		tab.Rows = append(tab.Rows, []string{name, FormatLR(c.LR), strconv.FormatFloat(c.Validation, 'f', prec, 64), t.Test[name].String(prec)})
	}
	return tab
}

// TunedSentences states each pair's tuned comparison in words.
func (o *Outcome) TunedSentences(t Tuned, pairs []Pair, prec int) []string {
	var out []string
	for _, p := range o.Pairs(pairs) {
		iv, ok := t.Pair(p.A, p.B)
		if !ok {
			out = append(out, fmt.Sprintf("Tuned %s vs %s: at least one has no learning rate at which every seed finished.", p.A, p.B))
			continue
		}
		out = append(out, fmt.Sprintf("Tuned (%s at %s, %s at %s), test: %s", p.A, FormatLR(t.Choice[p.A].LR), p.B, FormatLR(t.Choice[p.B].LR),
			iv.Sentence(o.Info.Metric, prec)))
	}
	return out
}

// SensitivityPlot is the final metric on split against the peak learning rate (log axis), one
// line per optimizer (the mean over seeds) with a min–max band; diverged runs leave gaps.
func (o *Outcome) SensitivityPlot(split Split) report.LinePlot {
	lp := report.LinePlot{Title: fmt.Sprintf("Learning-rate sensitivity (band: min–max over seeds; diverged runs left out)"),
		XLabel: "peak learning rate", YLabel: fmt.Sprintf("final %s %s", split, o.Info.Metric), LogX: true}
	for _, name := range o.Names {
		ser := report.Series{Name: name}
		for _, seed := range o.Seeds {
			var c report.Curve
			for _, lr := range o.LRs {
				v := math.NaN()
				for _, r := range o.Runs {
					if r.Spec.Optimizer == name && r.Spec.LR == lr && r.Spec.Seed == seed {
						if x, ok := o.value(r, split); ok {
							v = x
						}
					}
				}
				c.X, c.Y = append(c.X, lr), append(c.Y, v)
			}
			ser.Runs = append(ser.Runs, c)
		}
		lp.Series = append(lp.Series, ser)
	}
	return lp
}

// DiffPlot is the paired difference of the curve metric, a − b, against step, each optimizer
// at lrOf(its name), one line per pair: the mean over seeds with its 95% Student-t interval as
// the band (no band with fewer than two seeds).
func (o *Outcome) DiffPlot(pairs []Pair, lrOf func(name string) (float64, bool)) report.LinePlot {
	lp := report.LinePlot{Title: "Paired difference against step (below 0: A lower; band: 95% interval over seeds)",
		XLabel: "step", YLabel: fmt.Sprintf("Δ %s (A − B)", o.Info.CurveMetric), Band: report.BandMinMax}
	for _, p := range o.Pairs(pairs) {
		la, okA := lrOf(p.A)
		lb, okB := lrOf(p.B)
		if !okA || !okB {
			continue
		}
		lp.Series = append(lp.Series, report.Series{
			Name: fmt.Sprintf("%s@%s − %s@%s", p.A, FormatLR(la), p.B, FormatLR(lb)),
			Runs: intervalBounds(o.curveDiff(p.A, la, p.B, lb)),
		})
	}
	return lp
}

// intervalBounds turns per-seed curves into two curves, the lower and upper ends of the 95%
// Student-t interval of their mean at each x, so that a min–max band over the two shows the
// interval and their midpoint, the mean line, is the mean (the interval is symmetric). With
// fewer than two seeds both curves are the mean itself.
func intervalBounds(runs []report.Curve) []report.Curve {
	if len(runs) == 0 {
		return nil
	}
	var lo, hi report.Curve
	for i, x := range runs[0].X {
		var ys []float64
		for _, r := range runs {
			if i < len(r.X) && r.X[i] == x {
				ys = append(ys, r.Y[i])
			}
		}
		m, l, h := TInterval(ys)
		if len(ys) < 2 {
			l, h = m, m
		}
		lo.X, lo.Y = append(lo.X, x), append(lo.Y, l)
		hi.X, hi.Y = append(hi.X, x), append(hi.Y, h)
	}
	return []report.Curve{lo, hi}
}

// Sections writes the sweep's tables and plots: the per-LR table on the test split, the
// same-LR comparison of each pair, the tuned comparison, the sensitivity plot (with more than
// one learning rate) and the paired-difference plot; plots go to dir as stem-*.png/svg.
func (o *Outcome) Sections(d *report.Doc, dir, stem string, pairs []Pair, prec int) error {
	d.Heading(2, "Final "+o.Info.Metric+" per optimizer and learning rate")
	d.Para("Test %s (%s) at the end of training, mean ± sample std over %d seeds; a run that diverged (a non-finite loss or gradient, or a loss above the untrained model's by more than %g) is marked, not averaged.",
		o.Info.Metric, o.Info.Covers[Test], len(o.Seeds), o.Loop.DivergeMargin)
	d.Table(o.Table(Test, prec))
	if len(pairs) > 0 && len(o.Pairs(pairs)) > 0 {
		d.Heading(2, "Same learning rate, paired by seed")
		d.Para("Each pair at each learning rate: the per-seed difference of the test %s (same initialisation and data), its mean and 95%% Student-t interval.", o.Info.Metric)
		d.Table(o.SameLRTable(pairs, prec))
		for _, p := range o.Pairs(pairs) {
			for _, lr := range o.LRs {
				d.Para("At peak LR %s: %s", FormatLR(lr), o.SameLR(p.A, p.B, lr, Test).Sentence("test "+o.Info.Metric, prec))
			}
		}
	}
	t := o.Tuned()
	if len(o.LRs) > 1 {
		d.Heading(2, "Tuned: each optimizer at its own best learning rate")
		d.Para("Each optimizer's learning rate is the one with the lowest mean validation %s (%s) among those at which every seed finished; the numbers reported are on the test split (%s), which the selection never read.",
			o.Info.Metric, o.Info.Covers[Validation], o.Info.Covers[Test])
		d.Table(o.TunedTable(t, prec))
		for _, s := range o.TunedSentences(t, pairs, prec) {
			d.Para("%s", s)
		}
		if err := o.savePlot(d, o.SensitivityPlot(Test), dir, stem+"-lr", "final test metric against learning rate", o.lrTicks); err != nil {
			return err
		}
	}
	lrOf := func(name string) (float64, bool) { c := t.Choice[name]; return c.LR, c.OK }
	what := "at the tuned learning rates"
	if len(o.LRs) == 1 {
		lrOf = func(string) (float64, bool) { return o.LRs[0], true }
		what = "at the common learning rate"
	}
	if len(o.Pairs(pairs)) > 0 {
		d.Para("Paired difference of the curve %s (%s) against step, %s:", o.Info.CurveMetric, o.Info.Covers[Curve], what)
		if err := o.savePlot(d, o.DiffPlot(pairs, lrOf), dir, stem+"-diff", "paired difference against step", nil); err != nil {
			return err
		}
	}
	return nil
}

// savePlot saves lp as dir/name.png and .svg, after adjust (if not nil) has changed it, and
// links it from d; a plot with nothing to draw is noted in the report instead.
func (o *Outcome) savePlot(d *report.Doc, lp report.LinePlot, dir, name, alt string, adjust func(*plot.Plot)) error {
	p, err := lp.Plot()
	if err != nil {
		d.Para("(No plot of the %s: %v.)", alt, err)
		return nil
	}
	if adjust != nil {
		adjust(p)
	}
	if err := report.SavePlot(p, filepath.Join(dir, name)); err != nil {
		return err
	}
	d.Image(alt, name+".png")
	return nil
}

// lrTicks labels the log x axis at every learning rate of the grid that has a finished run, and
// pads it so that no point sits on the frame.
func (o *Outcome) lrTicks(p *plot.Plot) {
	var ticks []plot.Tick
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, lr := range o.LRs {
		for _, name := range o.Names {
			if c := o.Cell(name, lr, Test); len(c.Values) > 0 {
				ticks = append(ticks, plot.Tick{Value: lr, Label: FormatLR(lr)})
				lo, hi = math.Min(lo, lr), math.Max(hi, lr)
				break
			}
		}
	}
	if len(ticks) == 0 {
		return
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = lo/1.3, hi*1.3
}

// Print writes the per-LR table, the same-LR intervals and the tuned comparison to w as text.
func (o *Outcome) Print(w io.Writer, pairs []Pair, prec int) {
	fmt.Fprintln(w, o.Table(Test, prec).Markdown())
	if len(o.Pairs(pairs)) > 0 {
		fmt.Fprintln(w, o.SameLRTable(pairs, prec).Markdown())
	}
	if len(o.LRs) > 1 {
		t := o.Tuned()
		fmt.Fprintln(w, o.TunedTable(t, prec).Markdown())
		for _, s := range o.TunedSentences(t, pairs, prec) {
			fmt.Fprintln(w, s)
		}
	}
}

// CSVHeader and CSVRows give every curve point of every run, then its final metrics.
var CSVHeader = []string{"optimizer", "lr", "seed", "step", "train_loss", "curve_metric", "elapsed_s", "status", "validation", "test"}

// CSVRows lists every evaluation of every run, for report.WriteCSV with CSVHeader.
func (o *Outcome) CSVRows() [][]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	var rows [][]string
	for _, r := range o.Runs {
		val, test := "", ""
		if v, ok := o.value(r, Validation); ok {
			val = f(v)
		}
		if v, ok := o.value(r, Test); ok {
			test = f(v)
		}
		status := r.Result.Status(o.Loop.Steps)
		for _, p := range r.Result.Curve {
			rows = append(rows, []string{r.Spec.Optimizer, f(r.Spec.LR), strconv.FormatUint(r.Spec.Seed, 10), strconv.Itoa(p.Step),
				f(p.TrainLoss), f(p.Value), strconv.FormatFloat(p.Elapsed.Seconds(), 'f', 3, 64), status, val, test})
		}
	}
	return rows
}

// Unfinished counts the runs that neither completed nor diverged (cut short or never started).
func (o *Outcome) Unfinished() int {
	n := 0
	for _, r := range o.Runs {
		if !r.Result.Diverged() && (r.Err != nil || !r.Result.Complete(o.Loop.Steps)) {
			n++
		}
	}
	return n
}

// Describe is one line on what the sweep ran: grid size, reuse and the code revisions that
// trained the runs.
func (o *Outcome) Describe() string {
	lrs := make([]string, len(o.LRs))
	for i, lr := range o.LRs {
		lrs[i] = FormatLR(lr)
	}
	s := fmt.Sprintf("%d runs (%s × peak LR %s × %d seeds), %d steps each; %d reused from a previous run of the same configuration",
		len(o.Runs), strings.Join(o.Names, ", "), strings.Join(lrs, ", "), len(o.Seeds), o.Loop.Steps, o.Reused)
	if rev := o.Revisions(); rev != "" {
		s += "; " + rev
	}
	return s
}
