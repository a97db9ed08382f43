package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Curve is one run's measurements: Y[i] observed at X[i], for example the validation loss at
// training step X[i].
type Curve struct {
	X, Y []float64
}

// Series is a named group of runs of the same configuration, for example one optimizer over
// several seeds. It is drawn as the mean over runs with a shaded band showing their spread.
type Series struct {
	Name string
	Runs []Curve
}

// Band selects what the shaded area around a series' mean line shows.
type Band int

const (
	// BandMinMax shades from the minimum to the maximum over runs (the default).
	BandMinMax Band = iota
	// BandStd shades mean ± one sample standard deviation.
	BandStd
	// BandNone draws only the mean line.
	BandNone
)

// LinePlot describes a plot of curves: one mean line and band per series, with a legend.
//
// At each x the mean and spread are taken over the runs that have a finite y there, so runs may
// stop early or diverge (NaN, ±Inf) without breaking the plot. On a log x axis (LogX), points
// with x ≤ 0 are left out. On a log y axis (LogY) zeros still count towards the mean (a word
// error rate of 0 % in one seed of three pulls the mean down as it should); a mean ≤ 0 is left
// out, and a band reaching to or below zero is cut at the least positive value.
type LinePlot struct {
	Title, XLabel, YLabel string
	Series                []Series
	LogX, LogY            bool
	Band                  Band
}

// summary is a series reduced to one point per distinct x.
type summary struct {
	x, mean, lo, hi []float64
}

func (lp LinePlot) summarise(s Series) (summary, error) {
	byX := map[float64][]float64{}
	for i, r := range s.Runs {
		if len(r.X) != len(r.Y) {
			return summary{}, fmt.Errorf("report: series %q run %d has %d x values and %d y values", s.Name, i, len(r.X), len(r.Y))
		}
		for j, x := range r.X {
			y := r.Y[j]
			if !isFinite(x) || !isFinite(y) || lp.LogX && x <= 0 {
				continue
			}
			byX[x] = append(byX[x], y)
		}
	}
	var sm summary
	for x := range byX {
		sm.x = append(sm.x, x)
	}
	slices.Sort(sm.x)
	keep := sm.x[:0]
	for _, x := range sm.x {
		ys := byX[x]
		m, sd := MeanStd(ys)
		lo, hi := slices.Min(ys), slices.Max(ys)
		if lp.Band == BandStd {
			lo, hi = m-sd, m+sd
		}
		if lp.LogY {
			if !(m > 0) {
				continue
			}
			if lo <= 0 {
				lo = m // the least positive value, or the mean if it is the only one
				for _, y := range ys {
					if y > 0 {
						lo = min(lo, y)
					}
				}
			}
		}
		keep = append(keep, x)
		sm.mean = append(sm.mean, m)
		sm.lo = append(sm.lo, lo)
		sm.hi = append(sm.hi, hi)
	}
	sm.x = keep
	return sm, nil
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// translucent returns c with the given alpha (0–255).
func translucent(c color.Color, alpha uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: alpha}
}

func newPlot(title, xlabel, ylabel string, logX, logY bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Tick.Marker, p.Y.Tick.Marker = linearTicks{}, linearTicks{}
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	return p
}

// linearTicks places gonum's default ticks but labels the major ones with as many decimals as
// they need to read back as their values: over a narrow range such as 2.98–3.11 gonum's own
// labels round 3.05 to "3", printing one label twice.
type linearTicks struct{}

func (linearTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for prec := 0; prec <= 12; prec++ {
		ok, seen := true, map[string]bool{}
		for _, t := range ticks {
			if t.Label == "" {
				continue
			}
			l := strconv.FormatFloat(t.Value, 'f', prec, 64)
			back, _ := strconv.ParseFloat(l, 64)
			if seen[l] || math.Abs(back-t.Value) > 1e-9*math.Max(1, math.Abs(t.Value)) {
				ok = false
				break
			}
			seen[l] = true
		}
		if ok {
			for i := range ticks {
				if ticks[i].Label != "" {
					ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', prec, 64)
				}
			}
			break
		}
	}
	return ticks
}

// logTicks labels the powers of ten on a log axis as "1e-06", "0.01", "100" (gonum's LogTicks
// prints 1e-05 as 9.9999…e-06), with unlabelled minor ticks at 2–9 times each power. A range of
// less than two decades also labels 2 and 5 times each power, and one of less than half a
// decade labels every minor tick, so that a short log axis still reads at a glance. A range
// that would get fewer than two labels gets linear ticks (such as 99.2, 99.6, 100.0).
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	decades := math.Log10(hi / lo)
	label := func(m int) bool {
		switch {
		case decades < 0.5:
			return true
		case decades < 2:
			return m == 1 || m == 2 || m == 5
		}
		return m == 1
	}
	var ticks []plot.Tick
	labelled := 0
	for k := int(math.Floor(math.Log10(lo))); k <= int(math.Ceil(math.Log10(hi))); k++ {
		for m := 1; m <= 9; m++ {
			v, _ := strconv.ParseFloat(strconv.Itoa(m)+"e"+strconv.Itoa(k), 64) // exact decimal, unlike m·10^k
			if v < lo*(1-1e-12) || v > hi*(1+1e-12) {
				continue
			}
			t := plot.Tick{Value: v}
			if label(m) {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
				labelled++
			}
			ticks = append(ticks, t)
		}
	}
	if labelled < 2 { // too narrow for the powers and their multiples to show the scale
		return linearTicks{}.Ticks(lo, hi)
	}
	return ticks
}

// Plot builds the plot. It fails when a run's X and Y differ in length or when no series has a
// point to draw.
func (lp LinePlot) Plot() (*plot.Plot, error) {
	p := newPlot(lp.Title, lp.XLabel, lp.YLabel, lp.LogX, lp.LogY)
	drawn := 0
	for i, s := range lp.Series {
		sm, err := lp.summarise(s)
		if err != nil {
			return nil, err
		}
		if len(sm.x) == 0 {
			continue
		}
		col := plotutil.Color(i)
		if lp.Band != BandNone && len(sm.x) > 1 {
			pts := make(plotter.XYs, 0, 2*len(sm.x))
			for j := range sm.x {
				pts = append(pts, plotter.XY{X: sm.x[j], Y: sm.hi[j]})
			}
			for j := len(sm.x) - 1; j >= 0; j-- {
				pts = append(pts, plotter.XY{X: sm.x[j], Y: sm.lo[j]})
			}
			band, err := plotter.NewPolygon(pts)
			if err != nil {
				return nil, fmt.Errorf("report: series %q band: %w", s.Name, err)
			}
			band.Color = translucent(col, 0x40)
			band.LineStyle.Width = 0
			p.Add(band)
		}
		pts := make(plotter.XYs, len(sm.x))
		for j := range sm.x {
			pts[j] = plotter.XY{X: sm.x[j], Y: sm.mean[j]}
		}
		line, marks, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, fmt.Errorf("report: series %q: %w", s.Name, err)
		}
		line.Color = col
		line.Width = vg.Points(1.5)
		line.Dashes = plotutil.Dashes(i)
		p.Add(line)
		if len(pts) <= 30 { // mark the points of sparse curves such as sweeps
			marks.Color = col
			marks.Shape = plotutil.Shape(i)
			p.Add(marks)
			p.Legend.Add(s.Name, line, marks)
		} else {
			p.Legend.Add(s.Name, line)
		}
		drawn++
	}
	if drawn == 0 {
		return nil, fmt.Errorf("report: plot %q has no finite points to draw", lp.Title)
	}
	widenLogRange(&p.X, lp.LogX)
	widenLogRange(&p.Y, lp.LogY)
	return p, nil
}

// widenLogRange gives a log axis whose data sit at a single value a range around it: gonum
// would widen it by ±1, below zero, and panic when drawing.
func widenLogRange(a *plot.Axis, log bool) {
	if log && a.Min == a.Max && a.Min > 0 {
		a.Min, a.Max = a.Min/2, a.Max*2
	}
}

// CategorySeries is one named configuration measured at each category: Values[i] holds the
// samples (for example one per seed) at Categories[i] of the plot.
type CategorySeries struct {
	Name   string
	Values [][]float64
}

// CategoryPlot describes a plot with a categorical x axis, for sweeps over settings that are
// not numbers (or not evenly spaced): each series is drawn as its mean at each category,
// joined by a line, with min–max error bars. Non-finite samples are left out.
type CategoryPlot struct {
	Title, XLabel, YLabel string
	Categories            []string
	Series                []CategorySeries
	LogY                  bool
}

// errPoints are XY points with asymmetric error bars, as plotter.YErrorBars wants.
type errPoints struct {
	plotter.XYs
	lo, hi []float64 // distances below and above Y
}

func (e errPoints) YError(i int) (float64, float64) { return e.lo[i], e.hi[i] }

// Plot builds the plot. Each series must have one entry in Values per category.
func (cp CategoryPlot) Plot() (*plot.Plot, error) {
	if len(cp.Categories) == 0 {
		return nil, fmt.Errorf("report: category plot %q has no categories", cp.Title)
	}
	p := newPlot(cp.Title, cp.XLabel, cp.YLabel, false, cp.LogY)
	p.NominalX(cp.Categories...)
	drawn := 0
	for i, s := range cp.Series {
		if len(s.Values) != len(cp.Categories) {
			return nil, fmt.Errorf("report: series %q has values for %d categories, the plot has %d", s.Name, len(s.Values), len(cp.Categories))
		}
		// Shift each series a little so the error bars of different series do not overlap.
		shift := 0.08 * (float64(i) - float64(len(cp.Series)-1)/2)
		var ep errPoints
		for c, vals := range s.Values {
			var ys []float64
			for _, v := range vals {
				if isFinite(v) && (!cp.LogY || v > 0) {
					ys = append(ys, v)
				}
			}
			if len(ys) == 0 {
				continue
			}
			m, _ := MeanStd(ys)
			ep.XYs = append(ep.XYs, plotter.XY{X: float64(c) + shift, Y: m})
			ep.lo = append(ep.lo, m-slices.Min(ys))
			ep.hi = append(ep.hi, slices.Max(ys)-m)
		}
		if len(ep.XYs) == 0 {
			continue
		}
		col := plotutil.Color(i)
		line, marks, err := plotter.NewLinePoints(ep.XYs)
		if err != nil {
			return nil, fmt.Errorf("report: series %q: %w", s.Name, err)
		}
		line.Color = col
		line.Dashes = plotutil.Dashes(i)
		marks.Color = col
		marks.Shape = plotutil.Shape(i)
		bars, err := plotter.NewYErrorBars(ep)
		if err != nil {
			return nil, fmt.Errorf("report: series %q error bars: %w", s.Name, err)
		}
		bars.Color = col
		p.Add(line, marks, bars)
		p.Legend.Add(s.Name, line, marks)
		drawn++
	}
	if drawn == 0 {
		return nil, fmt.Errorf("report: plot %q has no finite points to draw", cp.Title)
	}
	// Keep the outermost error bars clear of the frame.
	p.X.Min, p.X.Max = -0.5, float64(len(cp.Categories))-0.5
	return p, nil
}

// Plot size and PNG resolution used by SavePlot.
const (
	plotWidth  = 16 * vg.Centimeter
	plotHeight = 10 * vg.Centimeter
	pngDPI     = 150
)

// SavePlot writes p as pathWithoutExt+".svg" and pathWithoutExt+".png" (16 cm × 10 cm, the PNG
// at 150 dpi), each atomically.
func SavePlot(p *plot.Plot, pathWithoutExt string) error {
	svg := vgsvg.New(plotWidth, plotHeight)
	p.Draw(draw.New(svg))
	var buf bytes.Buffer
	if _, err := svg.WriteTo(&buf); err != nil {
		return fmt.Errorf("report: rendering %s.svg: %w", pathWithoutExt, err)
	}
	if err := WriteFileAtomic(pathWithoutExt+".svg", buf.Bytes()); err != nil {
		return err
	}

	img := vgimg.NewWith(vgimg.UseWH(plotWidth, plotHeight), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.New(img))
	buf.Reset()
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return fmt.Errorf("report: rendering %s.png: %w", pathWithoutExt, err)
	}
	return WriteFileAtomic(pathWithoutExt+".png", buf.Bytes())
}
