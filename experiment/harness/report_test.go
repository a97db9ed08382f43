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
