package ablate

import (
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/experiment/lm"
	"github.com/fadam-go/fadam/report"
)

// Table is our result table: one row per swept value, one column per contender.
func Table(sw Sweep, outcomes []Outcome) report.Table {
	t := report.Table{Header: []string{sw.Symbol}}
	if len(outcomes) > 0 {
		cs := outcomes[0].Setting.Contenders
		for _, c := range cs {
			h := c.Name + " test loss"
			if len(cs) == 1 {
				h = "test loss"
			}
			t.Header = append(t.Header, h)
		}
	}
	for _, o := range outcomes {
		row := []string{o.Setting.Label}
		for _, cell := range o.Cells {
			row = append(row, cell.String(4))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// ReportInput is what WriteReport needs.
type ReportInput struct {
	Sweep    Sweep
	Harness  *harness.Outcome
	Outcomes []Outcome
	Task     *lm.Task
	Command  string // the exact command line
	Note     string // e.g. why the sweep stopped early; empty when it finished
}

// WriteReport writes ablate-<name>.md, ablate-<name>.csv and the plot ablate-<name>.svg/.png
// into dir, and returns the path of the Markdown report.
func WriteReport(dir string, in ReportInput) (string, error) {
	sw, h := in.Sweep, in.Harness
	base := filepath.Join(dir, "ablate-"+sw.Name)
	if err := report.WriteCSV(base+".csv", harness.CSVHeader, h.CSVRows()); err != nil {
		return "", err
	}

	// The plot: final test loss against the swept value, one series per contender, seeds as
	// error bars; diverged runs are left out (they are in the table).
	cp := report.CategoryPlot{
		Title:  fmt.Sprintf("fadam ablate %s: test loss after %d steps", sw.Name, h.Loop.Steps),
		XLabel: sw.Symbol, YLabel: "test loss (nats/byte)",
	}
	if sw.Name == "components" {
		cp.XLabel = "stage on the path from AdamW (0) to FAdam (5)"
	}
	if len(in.Outcomes) > 0 {
		for ci, c := range in.Outcomes[0].Setting.Contenders {
			s := report.CategorySeries{Name: c.Name}
			for _, o := range in.Outcomes {
				s.Values = append(s.Values, o.Cells[ci].Values)
			}
			cp.Series = append(cp.Series, s)
		}
		for i, o := range in.Outcomes {
			cp.Categories = append(cp.Categories, strconv.Itoa(i))
			if sw.Name != "components" {
				cp.Categories[i] = o.Setting.Label
			}
		}
	}
	plotted := false
	if p, err := cp.Plot(); err == nil {
		if err := report.SavePlot(p, base); err != nil {
			return "", err
		}
		plotted = true
	}

	var d report.Doc
	d.Heading(1, "fadam ablate "+sw.Name)
	d.Para("%s", sw.Doc)
	d.Para("Command:")
	d.Code(in.Command)
	m := in.Task.Settings().Model
	loop := h.Loop
	var hp string
	if len(h.Runs) > 0 {
		c := h.Runs[0].Spec.Config
		hp = fmt.Sprintf("β₁ = %g, β₂ = %g, λ = %g", c.Beta1, c.Beta2, c.WeightDecay)
	}
	layers := "layers"
	if m.Layers == 1 {
		layers = "layer"
	}
	d.Para("Byte-level GPT: d=%d, %d %s, %d heads, context %d, batch %d, %d parameters; %d steps (warmup %d, cosine decay to %.2g·η), peak η = %s, %s unless swept (biases and LayerNorm never decay); seeds %v. "+
		"Cells are the final test loss (nats/byte, %s) mean ± sample std over the seeds that finished; a run whose loss or gradient became non-finite, or whose loss rose more than %g above the untrained model's, is reported as diverged and the sweep went on.",
		m.D, m.Layers, layers, m.Heads, m.Ctx, m.Batch, m.ParamCount(), loop.Steps, min(loop.Warmup, loop.Steps-1), loop.MinLRFrac, harness.FormatLR(h.LRs[0]),
		hp, h.Seeds, in.Task.Info().Covers[harness.Test], loop.DivergeMargin)
	d.Para("Date: %s. %s; wall time %s.", time.Now().UTC().Format("2006-01-02 15:04 MST"), h.Describe(), h.Wall.Round(time.Second))
	d.Machine(report.Machine())
	if in.Note != "" {
		d.Para("**Note:** %s", in.Note)
	}
	d.Heading(2, "Ours")
	d.Table(Table(sw, in.Outcomes))
	if plotted {
		d.Image("test loss against "+sw.Symbol, "ablate-"+sw.Name+".png")
	}
	d.Heading(2, "Paired comparisons")
	cs, found := Comparisons(sw, in.Outcomes)
	switch {
	case !found:
		d.Para("The reference value %s = %s is not among the values run, so there is no paired comparison with it.", sw.Symbol, sw.Reference)
	case sw.Reference == "":
		d.Para("Each stage against the one before it, and the last against the first, paired by seed: the difference in final test loss with its 95%% Student-t interval; \"first lower\" or \"first higher\" only when the interval excludes zero.")
	default:
		d.Para("Each value against the paper's default %s = %s, paired by seed: the difference in final test loss with its 95%% Student-t interval; \"first lower\" or \"first higher\" only when the interval excludes zero.", sw.Symbol, sw.Reference)
	}
	if len(cs) > 0 {
		d.Table(ComparisonTable(cs))
	}
	if len(sw.Paper) > 0 {
		d.Heading(2, "The paper's")
		for _, pt := range sw.Paper {
			d.Para("%s", pt.Caption)
			d.Table(pt.Table)
		}
	}
	path := base + ".md"
	return path, d.WriteFile(path)
}
