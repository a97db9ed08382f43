package harness

import (
	"math"
	"strings"
	"testing"

	"github.com/fadam-go/fadam/report"
)

func TestFor(t *testing.T) {
	f := func(n string, lr float64, s uint64) float64 {
		return map[string]float64{"a": 1, "b": 2}[n] + lr + float64(s)
	}
	o := outcome([]string{"a", "b"}, []float64{0.1, 1}, []uint64{1, 2}, f, f)
	for _, r := range o.Runs { // a second metric: ten times the first
		r.Result.Test["cer"] = 10 * r.Result.Test["loss"]
	}
	v := o.For("cer")
	if v.Info.Metric != "cer" || o.Info.Metric != "loss" {
		t.Fatalf("view metric %q, original %q", v.Info.Metric, o.Info.Metric)
	}
	// a at 0.1: seeds 1, 2 → 10·(2.1, 3.1): mean 26, std √50 = 7.0711.
	if got := v.Table(Test, 2).Rows[0][1]; got != "26.00 ± 7.07" {
		t.Errorf("view table cell %q", got)
	}
}

func TestHeadlineAndCurvePlot(t *testing.T) {
	f := func(n string, lr float64, s uint64) float64 {
		return map[string]float64{"a": 1, "b": 2}[n] + lr + float64(s)/100
	}
	one := outcome([]string{"a", "b"}, []float64{0.1}, []uint64{1, 2, 3}, f, f)
	iv, how := one.Headline(one.Tuned(), Pair{"a", "b"})
	if iv.N() != 3 || math.Abs(iv.Mean+1) > 1e-12 || !strings.Contains(how, "common peak learning rate 0.1") {
		t.Errorf("one LR: %+v, %q", iv, how)
	}
	grid := outcome([]string{"a", "b"}, []float64{0.1, 1}, []uint64{1, 2, 3}, f, f)
	iv, how = grid.Headline(grid.Tuned(), Pair{"a", "b"})
	if iv.N() != 3 || !strings.Contains(how, "tuned (a at 0.1, b at 0.1") {
		t.Errorf("grid: %+v, %q", iv, how)
	}
	lp := grid.CurvePlot("curves", grid.LROf(grid.Tuned()))
	if len(lp.Series) != 2 || lp.Series[0].Name != "a@0.1" || len(lp.Series[0].Runs) != 3 || !lp.LogY {
		t.Fatalf("curve plot %+v", lp)
	}
	var d report.Doc
	dir := t.TempDir()
	if err := AddPlot(&d, lp, dir, "c", "curves"); err != nil || !strings.Contains(d.String(), "c.png") {
		t.Errorf("AddPlot: %v\n%s", err, d.String())
	}
	if err := AddPlot(&d, report.LinePlot{Title: "empty"}, dir, "e", "nothing"); err != nil || !strings.Contains(d.String(), "No plot of the nothing") {
		t.Errorf("AddPlot of an empty plot: %v", err)
	}
}
