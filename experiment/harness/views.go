package harness

import (
	"fmt"

	"github.com/fadam-go/fadam/report"
)

// For returns a view of the outcome whose final metric is metric instead of Info.Metric, so
// that the tables and intervals written for the selection metric can show a task's other
// metrics too (CER beside WER, MSE beside FID). The view shares the runs. Learning-rate
// selection belongs to the original outcome: take tuned choices from o.Tuned, not from the view.
func (o *Outcome) For(metric string) *Outcome {
	v := *o
	v.Info.Metric = metric
	return &v
}

// CurvePlot is the curve metric against step, one line per optimizer at the learning rate
// lrOf gives it (the mean over seeds with a min–max band); runs that did not finish are left
// out.
func (o *Outcome) CurvePlot(title string, lrOf func(name string) (float64, bool)) report.LinePlot {
	lp := report.LinePlot{Title: title, XLabel: "step", YLabel: o.Info.CurveMetric + " (" + o.Info.Covers[Curve] + ")", LogY: true}
	for _, name := range o.Names {
		lr, ok := lrOf(name)
		if !ok {
			continue
		}
		s := report.Series{Name: name + "@" + FormatLR(lr)}
		for _, r := range o.Runs {
			if r.Spec.Optimizer != name || r.Spec.LR != lr || r.Err != nil || !r.Result.Complete(o.Loop.Steps) {
				continue
			}
			var c report.Curve
			for _, p := range r.Result.Curve {
				c.X, c.Y = append(c.X, float64(p.Step)), append(c.Y, p.Value)
			}
			s.Runs = append(s.Runs, c)
		}
		lp.Series = append(lp.Series, s)
	}
	return lp
}

// LROf returns, for the report's plots, each optimizer's learning rate: the tuned choice with
// more than one learning rate in the grid, the only one otherwise.
func (o *Outcome) LROf(t Tuned) func(name string) (float64, bool) {
	if len(o.LRs) == 1 {
		return func(string) (float64, bool) { return o.LRs[0], true }
	}
	return func(name string) (float64, bool) { c := t.Choice[name]; return c.LR, c.OK }
}

// Headline is the comparison of pair p a report leads with: the tuned comparison on the test
// split with more than one learning rate, otherwise the same-learning-rate one; with a
// description of which it is.
func (o *Outcome) Headline(t Tuned, p Pair) (Interval, string) {
	if len(o.LRs) == 1 {
		return o.SameLR(p.A, p.B, o.LRs[0], Test), "at the common peak learning rate " + FormatLR(o.LRs[0])
	}
	iv, ok := t.Pair(p.A, p.B)
	if !ok {
		return Interval{A: p.A, B: p.B}, "tuned (no eligible learning rate for one of them)"
	}
	return iv, fmt.Sprintf("tuned (%s at %s, %s at %s, chosen on validation)", p.A, FormatLR(t.Choice[p.A].LR), p.B, FormatLR(t.Choice[p.B].LR))
}

// AddPlot saves lp as dir/name.svg and dir/name.png and links the PNG from d; a plot with
// nothing to draw is noted in d instead, since a sweep may end with no finished run. It is the
// report sections' own plot writer, for an experiment's extra plots.
func AddPlot(d *report.Doc, lp report.LinePlot, dir, name, alt string) error {
	var o Outcome
	return o.savePlot(d, lp, dir, name, alt, nil)
}
