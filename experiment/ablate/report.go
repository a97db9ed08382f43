package ablate

import (
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fadam-go/fadam/experiment/lm"
	"github.com/fadam-go/fadam/report"
)

// Table is our result table: one row per swept value, one column per contender.
func Table(sw Sweep, outcomes []Outcome, steps int) report.Table {
	t := report.Table{Header: []string{sw.Symbol}}
	if len(outcomes) > 0 {
		cs := outcomes[0].Setting.Contenders
		for _, c := range cs {
			h := c.Name + " eval loss"
			if len(cs) == 1 {
				h = "eval loss"
			}
			t.Header = append(t.Header, h)
		}
	}
	for _, o := range outcomes {
		row := []string{o.Setting.Label}
		for _, cell := range o.Summarise(steps) {
			row = append(row, cell.String())
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// ReportInput is what WriteReport needs besides the outcomes.
type ReportInput struct {
	Sweep    Sweep
	Outcomes []Outcome
	Config   lm.Config
	Seeds    []uint64
	Command  string // the exact command line
	Elapsed  time.Duration
	Note     string // e.g. why the sweep stopped early; empty when it finished
}

// WriteReport writes ablate-<name>.md, ablate-<name>.csv and the plot ablate-<name>.svg/.png
// into dir, and returns the path of the Markdown report.
func WriteReport(dir string, in ReportInput) (string, error) {
	sw, steps := in.Sweep, in.Config.Steps
	base := filepath.Join(dir, "ablate-"+sw.Name)

	// The plot: final eval loss against the swept value, one series per contender, seeds as
	// error bars; diverged runs are left out (they are in the table).
	cp := report.CategoryPlot{
		Title:  fmt.Sprintf("fadam ablate %s: eval loss after %d steps", sw.Name, steps),
		XLabel: sw.Symbol, YLabel: "eval loss (nats/byte)",
	}
	if sw.Name == "components" {
		cp.XLabel = "stage on the path from AdamW (0) to FAdam (5)"
	}
	var rows [][]string
	if len(in.Outcomes) > 0 {
		for ci, c := range in.Outcomes[0].Setting.Contenders {
			s := report.CategorySeries{Name: c.Name}
			for _, o := range in.Outcomes {
				s.Values = append(s.Values, o.Summarise(steps)[ci].Losses)
			}
			cp.Series = append(cp.Series, s)
		}
		for i, o := range in.Outcomes {
			cp.Categories = append(cp.Categories, strconv.Itoa(i))
			if sw.Name != "components" {
				cp.Categories[i] = o.Setting.Label
			}
			for _, r := range o.Runs {
				for _, p := range r.Result.Points {
					rows = append(rows, []string{o.Setting.Label, r.Optimizer, strconv.FormatUint(r.Seed, 10),
						strconv.Itoa(p.Step), fmtFloat(p.TrainLoss), fmtFloat(p.EvalLoss),
						strconv.Itoa(r.Result.DivergedAt)})
				}
				if len(r.Result.Points) == 0 && r.Result.Diverged() {
					rows = append(rows, []string{o.Setting.Label, r.Optimizer, strconv.FormatUint(r.Seed, 10),
						strconv.Itoa(r.Result.DivergedAt), "NaN", "NaN", strconv.Itoa(r.Result.DivergedAt)})
				}
			}
		}
	}
	if err := report.WriteCSV(base+".csv", []string{"value", "optimizer", "seed", "step", "train_loss", "eval_loss", "diverged_at"}, rows); err != nil {
		return "", err
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
	m := in.Config.Model
	d.Para("Byte-level GPT: d=%d, %d layers, %d heads, context %d, batch %d; %d steps (warmup %d, cosine decay to %.2g·η), peak η = %g, β₁ = %g, β₂ = %g, λ = %g (biases and LayerNorm excluded); seeds %v. "+
		"Cells are the final eval loss (nats/byte) mean ± sample std over the seeds that finished; a run whose loss became NaN or Inf is reported as diverged and the sweep went on.",
		m.D, m.Layers, m.Heads, m.Ctx, m.Batch, steps, in.Config.Warmup, in.Config.MinLRFrac, in.Config.Opt.LR,
		in.Config.Opt.Beta1, in.Config.Opt.Beta2, in.Config.Opt.WeightDecay, in.Seeds)
	d.Para("Date: %s. Wall time: %s.", time.Now().UTC().Format("2006-01-02 15:04 MST"), in.Elapsed.Round(time.Second))
	d.Machine(report.Machine())
	if in.Note != "" {
		d.Para("**Note:** %s", in.Note)
	}
	d.Heading(2, "Ours")
	d.Table(Table(sw, in.Outcomes, steps))
	if plotted {
		d.Image("eval loss against "+sw.Symbol, "ablate-"+sw.Name+".png")
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

func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
