package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMeanStd(t *testing.T) {
	tests := []struct {
		xs        []float64
		mean, std float64
	}{
		{[]float64{3}, 3, 0},
		{[]float64{1, 3}, 2, math.Sqrt2},
		// mean 5, squared deviations 9+1+1+1+0+0+4+16 = 32, /7 → std √(32/7).
		{[]float64{2, 4, 4, 4, 5, 5, 7, 9}, 5, math.Sqrt(32.0 / 7)},
		{[]float64{-1e9, 1e9}, 0, math.Sqrt(2e18)},
	}
	for _, tt := range tests {
		m, s := MeanStd(tt.xs)
		if math.Abs(m-tt.mean) > 1e-12*math.Max(1, math.Abs(tt.mean)) || math.Abs(s-tt.std) > 1e-12*math.Max(1, tt.std) {
			t.Errorf("MeanStd(%v) = %v, %v; want %v, %v", tt.xs, m, s, tt.mean, tt.std)
		}
	}
	if m, s := MeanStd(nil); !math.IsNaN(m) || !math.IsNaN(s) {
		t.Errorf("MeanStd(nil) = %v, %v; want NaN, NaN", m, s)
	}
	if got := FormatMeanStd(2.34549, 0.0123, 3); got != "2.345 ± 0.012" {
		t.Errorf("FormatMeanStd = %q", got)
	}
	if got := MeanStdString([]float64{1, 3}, 2); got != "2.00 ± 1.41" {
		t.Errorf("MeanStdString = %q", got)
	}
	if got := MeanStdString([]float64{1.5}, 1); got != "1.5" {
		t.Errorf("MeanStdString of one sample = %q", got)
	}
}

func TestTableMarkdown(t *testing.T) {
	tb := Table{
		Header: []string{"optimizer", "loss"},
		Rows:   [][]string{{"fadam", "2.345 ± 0.012"}, {"a|b"}},
	}
	want := "" +
		"| optimizer | loss          |\n" +
		"| --------- | ------------- |\n" +
		"| fadam     | 2.345 ± 0.012 |\n" +
		"| a\\|b      |               |\n"
	if got := tb.Markdown(); got != want {
		t.Errorf("Markdown:\n%s\nwant:\n%s", got, want)
	}
	if got := (Table{}).Markdown(); got != "" {
		t.Errorf("empty table: %q", got)
	}
}

func TestMachine(t *testing.T) {
	m := Machine()
	if m.Cores < 1 || m.GOMAXPROCS < 1 || !strings.HasPrefix(m.GoVersion, "go") || m.OS == "" || m.CPU == "" {
		t.Errorf("Machine() = %+v", m)
	}
	dir := t.TempDir()
	info := filepath.Join(dir, "cpuinfo")
	os.WriteFile(info, []byte("processor\t: 0\nmodel name\t: Test  CPU @ 2.0GHz\nflags\t: x\n"), 0o644)
	if got := cpuModel(info); got != "Test CPU @ 2.0GHz" {
		t.Errorf("cpuModel = %q", got)
	}
	if got := cpuModel(filepath.Join(dir, "missing")); got != "unknown" {
		t.Errorf("cpuModel of a missing file = %q", got)
	}
	if s := m.String(); !strings.Contains(s, fmt.Sprintf("GOMAXPROCS=%d", m.GOMAXPROCS)) {
		t.Errorf("String() = %q", s)
	}
}

func TestDoc(t *testing.T) {
	var d Doc
	d.Heading(1, "Compare")
	d.Para("Best loss %.2f.", 1.234)
	d.Table(Table{Header: []string{"a"}, Rows: [][]string{{"1"}}})
	d.Image("curves", "curves.svg")
	d.Code("fadam compare --steps 10")
	want := "# Compare\n\nBest loss 1.23.\n\n| a   |\n| --- |\n| 1   |\n\n![curves](curves.svg)\n\n```\nfadam compare --steps 10\n```\n"
	if d.String() != want {
		t.Errorf("Doc:\n%q\nwant\n%q", d.String(), want)
	}
	path := filepath.Join(t.TempDir(), "report.md")
	if err := d.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != want {
		t.Errorf("file holds %q", b)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	for _, s := range []string{"one", "two"} {
		if err := WriteFileAtomic(path, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != s {
			t.Errorf("file holds %q, want %q", b, s)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries in the directory, want 1", len(entries))
	}
	if err := WriteFileAtomic(filepath.Join(dir, "no", "f"), nil); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func TestWriteCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	rows := [][]string{{"fadam", "1", "2.5"}, {"adam, w", "2", "NaN"}}
	if err := WriteCSV(path, []string{"optimizer", "seed", "loss"}, rows); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	got, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(append([][]string{{"optimizer", "seed", "loss"}}, rows...)) {
		t.Errorf("read back %v", got)
	}
	if err := WriteCSV(path, []string{"a", "b"}, [][]string{{"1"}}); err == nil || !strings.Contains(err.Error(), "row 0 has 1 fields") {
		t.Errorf("short row: got %v", err)
	}
}

// checkPlotFiles checks base.svg is SVG and base.png decodes as a PNG of plausible size.
func checkPlotFiles(t *testing.T, base string) {
	t.Helper()
	svg, err := os.ReadFile(base + ".svg")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("</svg>")) || len(svg) < 2000 {
		t.Errorf("%s.svg does not look like a drawn SVG (%d bytes)", base, len(svg))
	}
	f, err := os.Open(base + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s.png: %v", base, err)
	}
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 400 {
		t.Errorf("%s.png is only %v", base, b)
	}
	st, _ := f.Stat()
	if st.Size() < 5000 {
		t.Errorf("%s.png is only %d bytes", base, st.Size())
	}
}

func seedCurves(offset float64) []Curve {
	var runs []Curve
	for seed := range 3 {
		var c Curve
		for step := 0; step <= 100; step += 10 {
			c.X = append(c.X, float64(step))
			c.Y = append(c.Y, offset+3/(1+float64(step)/20)+0.1*float64(seed))
		}
		runs = append(runs, c)
	}
	return runs
}

func TestLinePlot(t *testing.T) {
	dir := t.TempDir()
	diverged := Curve{X: []float64{0, 10, 20}, Y: []float64{3, math.NaN(), math.Inf(1)}}
	for _, tt := range []struct {
		name string
		lp   LinePlot
	}{
		{"minmax", LinePlot{Title: "Validation loss", XLabel: "step", YLabel: "loss",
			Series: []Series{{"fadam", seedCurves(0)}, {"adamw", append(seedCurves(0.2), diverged)}}}},
		{"std-logx", LinePlot{Title: "ε sweep", XLabel: "ε", YLabel: "loss", LogX: true, LogY: true, Band: BandStd,
			Series: []Series{{"fadam", []Curve{{X: []float64{1e-8, 1e-6, 1e-4}, Y: []float64{2, 2.1, 2.5}}, {X: []float64{1e-8, 1e-6, 1e-4}, Y: []float64{2.2, 2.0, 2.7}}}}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.lp.Plot()
			if err != nil {
				t.Fatal(err)
			}
			base := filepath.Join(dir, tt.name)
			if err := SavePlot(p, base); err != nil {
				t.Fatal(err)
			}
			checkPlotFiles(t, base)
		})
	}

	// The mean and band follow the finite runs only.
	lp := LinePlot{Series: []Series{{"s", []Curve{{X: []float64{1, 2}, Y: []float64{1, 4}}, {X: []float64{1, 2}, Y: []float64{3, math.NaN()}}}}}}
	sm, err := lp.summarise(lp.Series[0])
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sm) != fmt.Sprint(summary{x: []float64{1, 2}, mean: []float64{2, 4}, lo: []float64{1, 4}, hi: []float64{3, 4}}) {
		t.Errorf("summary = %+v", sm)
	}
	// On a log y axis zeros count towards the mean (x=1: (0+2+4)/3 = 2, band cut at the least
	// positive value 2); an all-zero mean is left out (x=2).
	lp = LinePlot{LogY: true, Series: []Series{{"wer", []Curve{{X: []float64{1, 2}, Y: []float64{0, 0}}, {X: []float64{1, 2}, Y: []float64{2, 0}}, {X: []float64{1, 2}, Y: []float64{4, 0}}}}}}
	if sm, err = lp.summarise(lp.Series[0]); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sm) != fmt.Sprint(summary{x: []float64{1}, mean: []float64{2}, lo: []float64{2}, hi: []float64{4}}) {
		t.Errorf("log-y summary = %+v", sm)
	}

	// A log axis whose points share one value still draws (gonum would widen it below zero).
	for _, one := range []LinePlot{
		{Title: "one x", LogX: true, Series: []Series{{"s", []Curve{{X: []float64{3e-3, 1e4}, Y: []float64{2, math.NaN()}}}}}},
		{Title: "one y", LogY: true, Series: []Series{{"s", []Curve{{X: []float64{1, 2}, Y: []float64{100, 100}}}}}},
	} {
		p, err := one.Plot()
		if err != nil {
			t.Fatalf("%s: %v", one.Title, err)
		}
		if err := SavePlot(p, filepath.Join(dir, strings.ReplaceAll(one.Title, " ", "-"))); err != nil {
			t.Fatalf("%s: %v", one.Title, err)
		}
	}

	for _, bad := range []LinePlot{
		{Title: "empty"},
		{Title: "all NaN", Series: []Series{{"s", []Curve{{X: []float64{1}, Y: []float64{math.NaN()}}}}}},
		{Title: "log of zero", LogX: true, Series: []Series{{"s", []Curve{{X: []float64{0}, Y: []float64{1}}}}}},
		{Title: "lengths", Series: []Series{{"s", []Curve{{X: []float64{1, 2}, Y: []float64{1}}}}}},
	} {
		if _, err := bad.Plot(); err == nil {
			t.Errorf("%s: Plot succeeded", bad.Title)
		}
	}
}

func TestCategoryPlot(t *testing.T) {
	cp := CategoryPlot{
		Title: "ρ sweep", XLabel: "ρ", YLabel: "loss",
		Categories: []string{"0.25", "0.5", "0.75", "1"},
		Series: []CategorySeries{
			{"fadam", [][]float64{{2.1, 2.2}, {2.0, 2.05}, {2.3, 2.2}, {math.NaN()}}},
			{"fadafactor", [][]float64{{2.2}, {2.1, 2.0}, {2.4, 2.5}, {2.9, 3.0}}},
		},
	}
	p, err := cp.Plot()
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(t.TempDir(), "rho")
	if err := SavePlot(p, base); err != nil {
		t.Fatal(err)
	}
	checkPlotFiles(t, base)

	cp.Series[0].Values = cp.Series[0].Values[:2]
	if _, err := cp.Plot(); err == nil || !strings.Contains(err.Error(), "2 categories") {
		t.Errorf("mismatched series: got %v", err)
	}
}

func TestSaveImageGrid(t *testing.T) {
	const w, h, scale = 3, 2, 2
	grid := [][][]float32{
		{{0, 0.5, 1, 2, -1, float32(math.NaN())}, {1, 1, 1, 1, 1, 1}},
		{{0.2, 0.2, 0.2, 0.2, 0.2, 0.2}},
	}
	path := filepath.Join(t.TempDir(), "grid.png")
	if err := SaveImageGrid(path, grid, w, h, scale); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// 2 columns of (3·2+2) plus 2 border = 18 wide; 2 rows of (2·2+2) plus 2 = 14 high.
	if b := img.Bounds(); b.Dx() != 18 || b.Dy() != 14 {
		t.Fatalf("grid is %v, want 18×14", b)
	}
	gray := func(x, y int) uint32 { r, _, _, _ := img.At(x, y).RGBA(); return r >> 8 }
	checks := []struct {
		x, y int
		want uint32
	}{
		{0, 0, 128},             // border
		{2, 2, 0},               // image [0][0] pixel (0,0) = 0
		{2 + 2, 2, 128},         // pixel (1,0) = 0.5 → 128
		{2 + 4 + 1, 2 + 1, 255}, // pixel (2,0) = 1, lower-right of its 2×2 block
		{2, 2 + 2, 255},         // pixel (0,1) = 2, clamped
		{2 + 2, 2 + 2, 0},       // pixel (1,1) = −1, clamped
		{2 + 4, 2 + 2, 0},       // pixel (2,1) = NaN → black
		{10, 2, 255},            // image [0][1]
		{2, 8, 51},              // image [1][0] = 0.2 → 51
		{10, 8, 128},            // row 1 has no second image: background
	}
	for _, c := range checks {
		if got := gray(c.x, c.y); got != c.want {
			t.Errorf("pixel (%d,%d) = %d, want %d", c.x, c.y, got, c.want)
		}
	}
	if err := SaveImageGrid(path, [][][]float32{{{1}}}, w, h, scale); err == nil {
		t.Error("wrong image size accepted")
	}
	if err := SaveImageGrid(path, nil, w, h, scale); err == nil {
		t.Error("empty grid accepted")
	}
}

func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, 4, "adamw seed 2", true)
	for step := 1; step <= 4; step++ {
		p.Set(step, fmt.Sprintf("loss %.3f", 1/float64(step)))
	}
	p.Finish()
	out := buf.String()
	if !strings.Contains(out, "adamw seed 2  loss 0.250") || !strings.Contains(out, "4/4") || !strings.HasSuffix(out, "\n") {
		t.Errorf("visible bar wrote %q", out)
	}

	// Stopped early: the bar stays where it was and the line still ends.
	buf.Reset()
	p = newProgress(&buf, 10, "x", true)
	p.Set(3, "")
	p.Finish()
	if out := buf.String(); strings.Contains(out, "10/10") || !strings.HasSuffix(out, "\n") {
		t.Errorf("stopped bar wrote %q", out)
	}

	// Quiet bars and nil bars write nothing and do not panic.
	buf.Reset()
	q := newProgress(&buf, 4, "quiet", false)
	q.Set(2, "loss 1")
	q.Finish()
	var nilBar *Progress
	nilBar.Set(1, "")
	nilBar.Finish()
	NewProgress(3, "test", true).Set(1, "")
	if buf.Len() != 0 {
		t.Errorf("quiet bar wrote %q", buf.String())
	}
}

func TestLogTicks(t *testing.T) {
	var labels []string
	for _, tk := range (logTicks{}).Ticks(3e-6, 2e-3) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "1e-05 0.0001 0.001" {
		t.Errorf("labels %q", got)
	}
	if n := len((logTicks{}).Ticks(2, 5)); n == 0 {
		t.Error("no ticks for a range without a power of ten")
	}
	// Shorter ranges label more: 1-2-5 under two decades, every tick under half a decade.
	for _, c := range []struct {
		lo, hi float64
		want   string
	}{
		{0.06, 0.4, "0.1 0.2"},
		{3, 90, "5 10 20 50"},
		{20, 40, "20 30 40"},
		{99.16, 100, "99.2 99.6 100.0"}, // linear ticks
	} {
		labels = labels[:0]
		for _, tk := range (logTicks{}).Ticks(c.lo, c.hi) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if got := strings.Join(labels, " "); got != c.want {
			t.Errorf("range %g–%g: labels %q, want %q", c.lo, c.hi, got, c.want)
		}
	}
}

func TestImageGridLabels(t *testing.T) {
	const w, h, scale = 4, 4, 3
	white := make([]float32, w*h)
	for i := range white {
		white[i] = 1
	}
	g := ImageGrid{
		Title:     "reconstructions",
		RowLabels: []string{"original", "L2, FAdam, seed 1"},
		ColLabels: []string{"7", "2"},
		Images:    [][][]float32{{white, white}, {white, white}},
		Width:     w, Height: h, Scale: scale,
	}
	img, err := g.Render()
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ImageGrid{Images: g.Images, Width: w, Height: h, Scale: scale}.Render()
	if err != nil {
		t.Fatal(err)
	}
	b, pb := img.Bounds(), plain.Bounds()
	if b.Dx() <= pb.Dx()+40 || b.Dy() <= pb.Dy()+20 {
		t.Fatalf("labelled grid %v is not larger than the plain %v by room for its labels", b, pb)
	}
	// The plain grid sits in the lower right corner: its pixels (images and border) reappear there.
	dx, dy := b.Dx()-pb.Dx(), b.Dy()-pb.Dy()
	for y := range pb.Dy() {
		for x := range pb.Dx() {
			if got, want := img.GrayAt(x+dx, y+dy).Y, plain.GrayAt(x, y).Y; got != want {
				t.Fatalf("grid pixel (%d,%d) = %d, want %d", x, y, got, want)
			}
		}
	}
	// Each label draws dark pixels in its band: the row labels left of the grid, the column
	// labels and title above it.
	dark := func(r image.Rectangle) bool {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if img.GrayAt(x, y).Y < 100 {
					return true
				}
			}
		}
		return false
	}
	cell := h*scale + scale
	for r := range 2 {
		if !dark(image.Rect(0, dy+scale+r*cell, dx, dy+scale+r*cell+h*scale)) {
			t.Errorf("row %d has no label", r)
		}
	}
	if !dark(image.Rect(dx, dy-16, b.Dx(), dy)) || !dark(image.Rect(0, 0, b.Dx(), 16)) {
		t.Error("column labels or title missing")
	}
	for _, bad := range []ImageGrid{
		{RowLabels: []string{"one"}, Images: g.Images, Width: w, Height: h, Scale: scale},
		{ColLabels: []string{"a", "b", "c"}, Images: g.Images, Width: w, Height: h, Scale: scale},
		{Images: g.Images, Width: w, Height: h, Scale: 0},
	} {
		if _, err := bad.Render(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
