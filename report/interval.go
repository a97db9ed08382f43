package report

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// IntervalSeries is one named quantity measured at several x with an interval at each: for
// example a paired difference and its 95% confidence interval at each model size.
type IntervalSeries struct {
	Name         string
	X, Y, Lo, Hi []float64 // Lo[i] ≤ Y[i] ≤ Hi[i]; a non-finite Lo or Hi draws the point without a bar
}

// IntervalPlot describes a plot of points with error bars, one line per series, and a dashed
// reference line at y = 0 when zero lies in the range (a difference that crosses it is not
// resolved).
type IntervalPlot struct {
	Title, XLabel, YLabel string
	Series                []IntervalSeries
	LogX                  bool
	Zero                  bool // draw the y = 0 reference line
}

// Plot builds the plot. It fails when a series' slices differ in length or when nothing is
// finite to draw.
func (ip IntervalPlot) Plot() (*plot.Plot, error) {
	p := newPlot(ip.Title, ip.XLabel, ip.YLabel, ip.LogX, false)
	drawn := 0
	xmin, xmax := 0.0, 0.0
	for i, s := range ip.Series {
		if len(s.Y) != len(s.X) || len(s.Lo) != len(s.X) || len(s.Hi) != len(s.X) {
			return nil, fmt.Errorf("report: interval series %q: %d x, %d y, %d lo, %d hi", s.Name, len(s.X), len(s.Y), len(s.Lo), len(s.Hi))
		}
		var ep, bare errPoints
		for j := range s.X {
			if !isFinite(s.X[j]) || !isFinite(s.Y[j]) || (ip.LogX && s.X[j] <= 0) {
				continue
			}
			pt := plotter.XY{X: s.X[j], Y: s.Y[j]}
			if drawn == 0 && len(ep.XYs)+len(bare.XYs) == 0 {
				xmin, xmax = pt.X, pt.X
			}
			xmin, xmax = min(xmin, pt.X), max(xmax, pt.X)
			if isFinite(s.Lo[j]) && isFinite(s.Hi[j]) {
				ep.XYs = append(ep.XYs, pt)
				ep.lo, ep.hi = append(ep.lo, s.Y[j]-s.Lo[j]), append(ep.hi, s.Hi[j]-s.Y[j])
			} else {
				bare.XYs = append(bare.XYs, pt)
			}
		}
		all := append(append(plotter.XYs{}, ep.XYs...), bare.XYs...)
		if len(all) == 0 {
			continue
		}
		col := plotutil.Color(i)
		line, marks, err := plotter.NewLinePoints(sortXY(all))
		if err != nil {
			return nil, fmt.Errorf("report: series %q: %w", s.Name, err)
		}
		line.Color, line.Dashes = col, plotutil.Dashes(i)
		marks.Color, marks.Shape = col, plotutil.Shape(i)
		p.Add(line, marks)
		if len(ep.XYs) > 0 {
			bars, err := plotter.NewYErrorBars(ep)
			if err != nil {
				return nil, fmt.Errorf("report: series %q error bars: %w", s.Name, err)
			}
			bars.Color = col
			p.Add(bars)
		}
		p.Legend.Add(s.Name, line, marks)
		drawn++
	}
	if drawn == 0 {
		return nil, fmt.Errorf("report: plot %q has no finite points to draw", ip.Title)
	}
	if ip.Zero {
		if xmin == xmax {
			xmin, xmax = xmin*0.9, xmax*1.1
		}
		zero, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: 0}, {X: xmax, Y: 0}})
		if err == nil {
			zero.Color = color.Gray{Y: 0x80}
			zero.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(zero)
		}
	}
	// Keep the outermost error bars clear of the frame.
	if ip.LogX {
		p.X.Min, p.X.Max = xmin/1.25, xmax*1.25
	} else if pad := 0.05 * (xmax - xmin); pad > 0 {
		p.X.Min, p.X.Max = xmin-pad, xmax+pad
	}
	p.Legend.Left = true
	return p, nil
}

// sortXY sorts points by x (insertion sort: series are short).
func sortXY(xy plotter.XYs) plotter.XYs {
	for i := 1; i < len(xy); i++ {
		for j := i; j > 0 && xy[j].X < xy[j-1].X; j-- {
			xy[j], xy[j-1] = xy[j-1], xy[j]
		}
	}
	return xy
}
