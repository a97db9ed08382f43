package lm

import (
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"

	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/models/gpt"
	"github.com/fadam-go/fadam/report"
)

// ScaleLadder is the default ladder of `fadam scale`: three byte-level GPTs from 44k to 391k
// parameters (8.9×), each with context 64 and batch 16.
var ScaleLadder = []gpt.Config{
	{D: 32, Layers: 2, Heads: 4, Ctx: 64, Batch: 16},
	{D: 64, Layers: 2, Heads: 4, Ctx: 64, Batch: 16},
	{D: 96, Layers: 3, Heads: 4, Ctx: 64, Batch: 16},
}

// QuickLadder is the miniature ladder of `fadam scale --quick`: 5k to 42k parameters (8.3×),
// context 16, batch 4.
var QuickLadder = []gpt.Config{
	{D: 8, Layers: 1, Heads: 2, Ctx: 16, Batch: 4},
	{D: 16, Layers: 1, Heads: 2, Ctx: 16, Batch: 4},
	{D: 32, Layers: 2, Heads: 2, Ctx: 16, Batch: 4},
}

// ScaleLoop is the training loop of one rung: tokensPerParam training tokens per parameter
// (rounded up to whole steps), linear warmup over the first 1/24 of the steps, cosine decay to
// 0.1× the peak, and 20 evaluations of the curve.
func ScaleLoop(m gpt.Config, tokensPerParam, divergeMargin float64) harness.Loop {
	steps := max(1, int(math.Ceil(tokensPerParam*float64(m.ParamCount())/float64(m.Batch*m.Ctx))))
	return harness.Loop{Steps: steps, Warmup: max(1, steps/24), MinLRFrac: 0.1, EvalEvery: max(1, steps/20), DivergeMargin: divergeMargin}
}

// Rung is one size of a finished scale ladder.
type Rung struct {
	Task    *Task
	Outcome *harness.Outcome
}

// Params is the rung's parameter count.
func (r Rung) Params() int { return r.Task.cfg.Model.ParamCount() }

// ScaleReport is the report of `fadam scale`: the tuned comparison at each size.
type ScaleReport struct {
	Command        string
	Rungs          []Rung
	Pairs          []harness.Pair
	TokensPerParam float64
	Parallel       int
	Stopped        error
	Wall           time.Duration
}

func sizeName(m gpt.Config) string {
	layers := "layers"
	if m.Layers == 1 {
		layers = "layer"
	}
	return fmt.Sprintf("d=%d, %d %s (%s params)", m.D, m.Layers, layers, group(m.ParamCount()))
}

// sizeTicks labels the x axis at the rungs' parameter counts ("44k") and pads it on the log
// scale, so that every size is named and no point sits on the frame.
func (r ScaleReport) sizeTicks(p *plot.Plot) {
	var ticks []plot.Tick
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, g := range r.Rungs {
		x := float64(g.Params())
		ticks = append(ticks, plot.Tick{Value: x, Label: strconv.FormatFloat(x/1000, 'g', 3, 64) + "k"})
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if len(ticks) == 0 {
		return
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = lo/1.25, hi*1.25
}

// Table is the tuned result at every size: each optimizer's selected learning rate and its test
// loss.
func (r ScaleReport) Table() report.Table {
	t := report.Table{Header: []string{"size", "optimizer", "steps (tokens)", "selected peak LR", "validation loss", "test loss (mean ± std)"}}
	for _, g := range r.Rungs {
		o, tu := g.Outcome, g.Outcome.Tuned()
		m := g.Task.cfg.Model
		for _, name := range o.Names {
			c := tu.Choice[name]
			row := []string{sizeName(m), name, fmt.Sprintf("%d (%s)", o.Loop.Steps, group(o.Loop.Steps*m.Batch*m.Ctx)), "none", "—", "—"}
			if c.OK {
				row[3], row[4], row[5] = harness.FormatLR(c.LR), strconv.FormatFloat(c.Validation, 'f', 4, 64), tu.Test[name].String(4)
			}
			t.Rows = append(t.Rows, row)
		}
	}
	return t
}

// Gaps is the tuned paired difference of each pair at each size, in rung order.
func (r ScaleReport) Gaps(p harness.Pair) []harness.Interval {
	var out []harness.Interval
	for _, g := range r.Rungs {
		iv, _ := g.Outcome.Tuned().Pair(p.A, p.B)
		iv.A, iv.B = p.A, p.B
		out = append(out, iv)
	}
	return out
}

// GapTable is the tuned paired difference A − B of each pair at each size with its interval.
func (r ScaleReport) GapTable() report.Table {
	t := report.Table{Header: []string{"pair", "size", "tuned test loss A − B [95% interval]", "seeds", "verdict (A lower?)"}}
	for _, p := range r.pairs() {
		for i, iv := range r.Gaps(p) {
			t.Rows = append(t.Rows, []string{p.A + " − " + p.B, sizeName(r.Rungs[i].Task.cfg.Model), iv.String(4), strconv.Itoa(iv.N()), iv.Verdict()})
		}
	}
	return t
}

func (r ScaleReport) pairs() []harness.Pair {
	if len(r.Rungs) == 0 {
		return nil
	}
	return r.Rungs[0].Outcome.Pairs(r.Pairs)
}

// lossPlot is the tuned test loss against parameters, one line per optimizer with its seed band.
func (r ScaleReport) lossPlot() report.LinePlot {
	lp := report.LinePlot{Title: "Test loss at each optimizer's tuned learning rate (band: min–max over seeds)",
		XLabel: "parameters", YLabel: "test loss (nats/byte)", LogX: true}
	if len(r.Rungs) == 0 {
		return lp
	}
	for _, name := range r.Rungs[0].Outcome.Names {
		ser := report.Series{Name: name}
		for _, seed := range r.Rungs[0].Outcome.Seeds {
			var c report.Curve
			for _, g := range r.Rungs {
				cell := g.Outcome.Tuned().Test[name]
				v := math.NaN()
				for i, s := range cell.Seeds {
					if s == seed {
						v = cell.Values[i]
					}
				}
				c.X, c.Y = append(c.X, float64(g.Params())), append(c.Y, v)
			}
			ser.Runs = append(ser.Runs, c)
		}
		lp.Series = append(lp.Series, ser)
	}
	return lp
}

// gapPlot is each pair's tuned gap against parameters with its 95% interval.
func (r ScaleReport) gapPlot() report.IntervalPlot {
	ip := report.IntervalPlot{Title: "Tuned paired gap A − B (bars: 95% Student-t interval over seeds; below 0: A lower)",
		XLabel: "parameters", YLabel: "Δ test loss (nats/byte)", LogX: true, Zero: true}
	for _, p := range r.pairs() {
		s := report.IntervalSeries{Name: p.A + " − " + p.B}
		for i, iv := range r.Gaps(p) {
			s.X = append(s.X, float64(r.Rungs[i].Params()))
			s.Y, s.Lo, s.Hi = append(s.Y, iv.Mean), append(s.Lo, iv.Lo), append(s.Hi, iv.Hi)
		}
		ip.Series = append(ip.Series, s)
	}
	return ip
}

// Write writes scale.md, scale.csv and the plots scale-loss and scale-gap (.png/.svg) into dir
// and returns the Markdown file's path.
func (r ScaleReport) Write(dir string) (string, error) {
	var rows [][]string
	for _, g := range r.Rungs {
		for _, row := range g.Outcome.CSVRows() {
			rows = append(rows, append([]string{strconv.Itoa(g.Params())}, row...))
		}
	}
	if err := report.WriteCSV(filepath.Join(dir, "scale.csv"), append([]string{"params"}, harness.CSVHeader...), rows); err != nil {
		return "", err
	}
	var d report.Doc
	d.Heading(1, "Scale ladder: the optimizers' gap against model size")
	d.Para("Command (%s):", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	d.Code(r.Command)
	d.Machine(report.Machine())
	d.Para("Wall time %v, %d runs at a time on %d cores.", r.Wall.Round(time.Second), r.Parallel, runtime.NumCPU())
	if r.Stopped != nil {
		d.Para("**Interrupted** (%v): the tables count finished runs only. Rerun the same command to train the rest; finished runs are reused.", r.Stopped)
	}
	d.Heading(2, "Claim and result")
	d.Para("The paper's claims (FAdam below AdamW; FAdafactor below Adafactor, Fig. 1a) are made on a 1B-parameter LLM. What can be measured here is the trend: " +
		"the tuned gap at each size of a byte-level GPT, with a token budget proportional to its parameter count, and whether it grows, shrinks or keeps its sign with size.")
	for _, p := range r.pairs() {
		for i, iv := range r.Gaps(p) {
			d.Para("At %s: **%s**. %s", sizeName(r.Rungs[i].Task.cfg.Model), iv.Verdict(), iv.Sentence("tuned test loss", 4))
		}
	}
	d.Table(r.GapTable())
	if p, err := r.gapPlot().Plot(); err == nil {
		r.sizeTicks(p)
		if err := report.SavePlot(p, filepath.Join(dir, "scale-gap")); err != nil {
			return "", err
		}
		d.Image("tuned gap against parameters", "scale-gap.png")
	}
	d.Heading(2, "Tuned result at each size")
	d.Para("Each optimizer's learning rate is selected at each size on the validation loss (the lowest mean among the learning rates at which every seed finished); the test loss is on held-out test text that selection never read.")
	d.Table(r.Table())
	if p, err := r.lossPlot().Plot(); err == nil {
		r.sizeTicks(p)
		if err := report.SavePlot(p, filepath.Join(dir, "scale-loss")); err != nil {
			return "", err
		}
		d.Image("tuned test loss against parameters", "scale-loss.png")
	}
	d.Heading(2, "Every learning rate")
	for _, g := range r.Rungs {
		d.Para("%s: %s.", sizeName(g.Task.cfg.Model), g.Outcome.Describe())
		d.Table(g.Outcome.Table(harness.Test, 4))
	}
	d.Heading(2, "Setup")
	if len(r.Rungs) > 0 {
		g := r.Rungs[0]
		c, info := g.Task.corpus, g.Task.Info()
		m := g.Task.cfg.Model
		d.Para("Token budget: %g training tokens per parameter at every size (rounded up to whole steps of %d sequences × %d bytes). Schedule: linear warmup over the first 1/24 of the steps, cosine decay to 0.1× the peak; the curve is evaluated 20 times per run. A run diverges when its loss or a gradient becomes non-finite, or its loss exceeds the untrained model's by more than %g nats/byte. Seeds %v.",
			r.TokensPerParam, m.Batch, m.Ctx, g.Outcome.Loop.DivergeMargin, g.Outcome.Seeds)
		d.Para("Data: %s split by file into %d training, %d validation and %d test files. Final test loss of the smallest size over %s (larger sizes: the same windows).",
			c.Source, c.TrainFiles, c.ValFiles, c.TestFiles, info.Covers[harness.Test])
		if len(g.Outcome.Runs) > 0 {
			h := g.Outcome.Runs[0].Spec.Config
			var wds []string
			seen := map[float64]bool{}
			for _, run := range g.Outcome.Runs {
				if wd := run.Spec.Config.WeightDecay; !seen[wd] {
					seen[wd] = true
					wds = append(wds, strconv.FormatFloat(wd, 'g', -1, 64))
				}
			}
			d.Para("Hyperparameters shared by every optimizer: β₁ = %g, β₂ = %g, λ = %s on matrices only; ε, ε₂ and the clipping threshold are each algorithm's own (as in `fadam compare`).", h.Beta1, h.Beta2, strings.Join(wds, ", "))
		}
	}
	d.Para("Every evaluation of every run: [scale.csv](scale.csv); each run's configuration and result: `%s/`.", harness.RunsDir)
	path := filepath.Join(dir, "scale.md")
	return path, d.WriteFile(path)
}
