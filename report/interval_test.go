package report

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestIntervalPlot(t *testing.T) {
	ip := IntervalPlot{Title: "gap", XLabel: "parameters", YLabel: "Δ loss", LogX: true, Zero: true, Series: []IntervalSeries{
		{Name: "a − b", X: []float64{4e5, 4e4, 1.4e5}, Y: []float64{-0.02, 0.01, -0.01}, Lo: []float64{-0.03, -0.02, math.NaN()}, Hi: []float64{-0.01, 0.04, math.NaN()}},
	}}
	p, err := ip.Plot()
	if err != nil {
		t.Fatal(err)
	}
	if p.X.Min > 4e4 || p.X.Max < 4e5 || p.Y.Min > -0.03 || p.Y.Max < 0.04 {
		t.Fatalf("axes x [%v, %v], y [%v, %v] do not cover the bars", p.X.Min, p.X.Max, p.Y.Min, p.Y.Max)
	}
	path := filepath.Join(t.TempDir(), "gap")
	if err := SavePlot(p, path); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path + ".png"); err != nil || st.Size() == 0 {
		t.Fatal(err)
	}
	bad := IntervalPlot{Series: []IntervalSeries{{Name: "x", X: []float64{1}, Y: []float64{1, 2}, Lo: []float64{1}, Hi: []float64{1}}}}
	if _, err := bad.Plot(); err == nil {
		t.Fatal("mismatched lengths accepted")
	}
	empty := IntervalPlot{Series: []IntervalSeries{{Name: "x", X: []float64{1}, Y: []float64{math.NaN()}, Lo: []float64{0}, Hi: []float64{0}}}}
	if _, err := empty.Plot(); err == nil {
		t.Fatal("nothing finite accepted")
	}
}
