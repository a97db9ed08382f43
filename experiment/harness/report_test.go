package harness

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fadam-go/fadam/report"
)

func TestSectionsAndPrint(t *testing.T) {
	val := func(n string, lr float64, s uint64) float64 {
		if n == "b" && lr == 1 {
			return math.NaN()
		}
		return 1 + lr + float64(s)/10
	}
	o := outcome([]string{"a", "b"}, []float64{0.1, 1}, []uint64{1, 2}, val, val)
	o.Info.Covers = map[Split]string{Curve: "c", Validation: "v", Test: "1,000 tokens"}
	dir := t.TempDir()
	var d report.Doc
	if err := o.Sections(&d, dir, "x", []Pair{{"a", "b"}, {"a", "missing"}}, 3); err != nil {
		t.Fatal(err)
	}
	md := d.String()
	for _, want := range []string{"1,000 tokens", "diverged (2/2 seeds, first at step 3)", "Tuned (a at 0.1, b at 0.1)", "x-lr.png", "x-diff.png", "which the selection never read"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	for _, f := range []string{"x-lr.png", "x-lr.svg", "x-diff.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	var b bytes.Buffer
	o.Print(&b, []Pair{{"a", "b"}}, 3)
	if !strings.Contains(b.String(), "2.150 ± 0.071 ") || !strings.Contains(b.String(), "includes zero") {
		t.Errorf("printed:\n%s", b.String())
	}
	if rows := o.CSVRows(); len(rows) != 6*3 || rows[0][7] != "ok" {
		t.Errorf("csv rows %d: %v", len(rows), rows[0])
	}
}

func TestIntervalBounds(t *testing.T) {
	runs := []report.Curve{
		{X: []float64{0, 10}, Y: []float64{0, 1}},
		{X: []float64{0, 10}, Y: []float64{0, 2}},
		{X: []float64{0, 10}, Y: []float64{0, 3}},
	}
	b := intervalBounds(runs)
	// At x = 10: mean 2, s = 1, t(0.975, 2) = 4.3026527, half-width 4.3026527/√3 = 2.4841377.
	if len(b) != 2 || b[0].Y[0] != 0 || b[1].Y[0] != 0 || math.Abs(b[0].Y[1]-(2-2.4841377)) > 1e-6 || math.Abs(b[1].Y[1]-(2+2.4841377)) > 1e-6 {
		t.Fatalf("bounds %+v", b)
	}
	one := intervalBounds(runs[:1])
	if one[0].Y[1] != 1 || one[1].Y[1] != 1 {
		t.Fatalf("one seed: %+v", one)
	}
	if intervalBounds(nil) != nil {
		t.Fatal("bounds without runs")
	}
}
