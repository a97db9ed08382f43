package lm

import (
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"gonum.org/v1/plot"

	"github.com/fadam-go/fadam/data/text"
	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/report"
)

// Claims are the paper's claims about each pair of base optimizer names, as the reports quote
// them.
var Claims = map[harness.Pair]string{
	{A: "fadam", B: "adamw"}: "The paper (§4.1, Appendix B) presents FAdam as Adam with its Fisher-information corrections and " +
		"reports that it improves on Adam(W); this report tests the claim that FAdam reaches a lower test loss than AdamW on a byte-level GPT.",
	{A: "fadafactor", B: "adafactor"}: "The paper (§4.1, Fig. 1a) reports that FAdafactor reaches a lower eval loss than Adafactor on a 1B-parameter LLM; " +
		"this report tests the same claim on a byte-level GPT small enough for this machine.",
}

// baseName is an optimizer's name without a variant suffix ("fadafactor λ=0" → "fadafactor").
func baseName(name string) string {
	n, _, _ := strings.Cut(name, " ")
	return n
}

// Report is the Markdown report of an LM sweep (`fadam compare`), with its CSV and plots.
type Report struct {
	Title    string // first heading
	Stem     string // file names: <Stem>.md, <Stem>.csv, <Stem>-*.png/svg
	Command  string // the command line that produced it
	Outcome  *harness.Outcome
	Task     *Task
	Pairs    []harness.Pair
	Parallel int   // runs trained at once
	Stopped  error // why the sweep stopped early, nil if it finished
}

// Headline is each pair's main comparison: tuned when the grid has more than one learning
// rate, at the common learning rate otherwise.
func (r Report) Headline() []harness.Interval {
	o := r.Outcome
	var out []harness.Interval
	t := o.Tuned()
	for _, p := range o.Pairs(r.Pairs) {
		if len(o.LRs) > 1 {
			iv, _ := t.Pair(p.A, p.B)
			iv.A, iv.B = p.A, p.B
			out = append(out, iv)
		} else {
			out = append(out, o.SameLR(p.A, p.B, o.LRs[0], harness.Test))
		}
	}
	return out
}

// Verdicts are one line per pair: the claim, what was measured, and whether it holds here.
func (r Report) Verdicts() []string {
	kind := "at the common peak learning rate " + harness.FormatLR(r.Outcome.LRs[0])
	if len(r.Outcome.LRs) > 1 {
		kind = "each at its own learning rate selected on validation"
	}
	var out []string
	for _, iv := range r.Headline() {
		verdict := iv.Verdict()
		if _, claim := Claims[harness.Pair{A: baseName(iv.A), B: baseName(iv.B)}]; !claim {
			verdict = difference(iv) // no claim of the paper to judge, such as bf16 against float32 state
		}
		out = append(out, fmt.Sprintf("**%s vs %s: %s.** Test loss %s: %s", iv.A, iv.B, verdict, kind, iv.Sentence("test loss (nats/byte)", 4)))
	}
	return out
}

// difference says which side of zero the interval lies on, without judging a claim.
func difference(iv harness.Interval) string {
	switch {
	case iv.N() >= 2 && iv.Hi < 0:
		return iv.A + " lower"
	case iv.N() >= 2 && iv.Lo > 0:
		return iv.B + " lower"
	}
	return "no resolved difference"
}

// decaySplit reports whether the optimizers ran at several weight decays (names "x λ=…").
func (r Report) decaySplit() bool {
	for _, name := range r.Outcome.Names {
		if strings.Contains(name, " λ=") {
			return true
		}
	}
	return false
}

// curvePlot is the curve loss against step, one series per optimizer at lrOf(name): the
// harness's curve plot, on a linear axis in nats/byte.
func (r Report) curvePlot(lrOf func(string) (float64, bool)) report.LinePlot {
	lp := r.Outcome.CurvePlot("Validation loss during training (band: min–max over seeds; y zoomed past the first quarter)", lrOf)
	lp.YLabel, lp.LogY = "curve loss (nats/byte)", false
	return lp
}

// Write writes the report into dir and returns the Markdown file's path.
func (r Report) Write(dir string) (string, error) {
	o := r.Outcome
	if err := report.WriteCSV(filepath.Join(dir, r.Stem+".csv"), harness.CSVHeader, o.CSVRows()); err != nil {
		return "", err
	}
	var d report.Doc
	d.Heading(1, r.Title)
	d.Para("Command (%s):", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	d.Code(r.Command)
	d.Machine(report.Machine())
	d.Para("%s; %d runs at a time; wall time of this invocation %v.", o.Describe(), r.Parallel, o.Wall.Round(time.Second))
	if r.Stopped != nil {
		d.Para("**Interrupted** (%v): %d of %d runs did not finish; the tables count finished runs only. Rerun the same command to train the rest; finished runs are reused.", r.Stopped, o.Unfinished(), len(o.Runs))
	}
	d.Heading(2, "Claim and result")
	seen := map[harness.Pair]bool{}
	for _, p := range o.Pairs(r.Pairs) {
		bp := harness.Pair{A: baseName(p.A), B: baseName(p.B)}
		if c, ok := Claims[bp]; ok && !seen[bp] {
			d.Para("%s", c)
			seen[bp] = true
		}
	}
	for _, v := range r.Verdicts() {
		d.Para("%s", v)
	}
	if r.decaySplit() {
		d.Para("Each pair ran at several weight decays λ (the names carry it). At λ = 0 neither optimizer decays its weights, so the gap there is the Fisher correction alone; " +
			"how the gap changes from λ = 0 to λ > 0 is what weight decay adds, which differs between the optimizers (see the last column of the hyperparameter table: Algorithm 4's Adafactor subtracts λθ per step, not scaled by η).")
	}
	if err := o.Sections(&d, dir, r.Stem, r.Pairs, 4); err != nil {
		return "", err
	}
	t := o.Tuned()
	lrOf := func(name string) (float64, bool) { c := t.Choice[name]; return c.LR, c.OK }
	if len(o.LRs) == 1 {
		lrOf = func(string) (float64, bool) { return o.LRs[0], true }
	}
	if p, err := r.curvePlot(lrOf).Plot(); err == nil {
		zoom(p, o)
		if err := report.SavePlot(p, filepath.Join(dir, r.Stem)); err != nil {
			return "", err
		}
		d.Image("curve loss against step", r.Stem+".png")
	}
	d.Para("Every evaluation of every run: [%s.csv](%s.csv); each run's configuration and result: `%s/`.", r.Stem, r.Stem, harness.RunsDir)
	r.setup(&d)
	path := filepath.Join(dir, r.Stem+".md")
	return path, d.WriteFile(path)
}

// zoom sets the y axis to the curve values after the first quarter of training, where the
// optimizers differ (the first evaluations sit far above the rest).
func zoom(p *plot.Plot, o *harness.Outcome) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, run := range o.Runs {
		if run.Result.Diverged() {
			continue
		}
		for _, pt := range run.Result.Curve {
			if pt.Step*4 >= o.Loop.Steps {
				lo, hi = math.Min(lo, pt.Value), math.Max(hi, pt.Value)
			}
		}
	}
	if lo < hi && !math.IsInf(hi, 0) {
		pad := 0.05 * (hi - lo)
		p.Y.Min, p.Y.Max = lo-pad, hi+pad
	}
}

func (r Report) setup(d *report.Doc) {
	o, cfg, c := r.Outcome, r.Task.cfg, r.Task.corpus
	m := cfg.Model
	info := r.Task.Info()
	d.Heading(2, "Setup")
	d.Para("Model: byte-level GPT (vocabulary 256), d=%d, %d layers, %d heads, context %d, pre-LN blocks, untied output projection, %s parameters. Batch %d sequences × %d bytes = %d tokens per step; %d steps per run (%s tokens); seeds %v (a seed sets the initialisation and the training batches, so optimizers with the same seed see the same data); %d runs at a time on %d cores.",
		m.D, m.Layers, m.Heads, m.Ctx, group(m.ParamCount()), m.Batch, m.Ctx, m.Batch*m.Ctx, o.Loop.Steps, group(o.Loop.Steps*m.Batch*m.Ctx), o.Seeds, r.Parallel, runtime.NumCPU())
	d.Para("Data: %s, split by file: %d training files (%s bytes), %d validation files (%s bytes), %d test files (%s bytes); every %dth file is held out, alternately to validation and test.",
		c.Source, c.TrainFiles, group(len(c.Train)), c.ValFiles, group(len(c.Val)), c.TestFiles, group(len(c.Test)), text.ValEvery)
	d.Para("Evaluation: the curve every %d steps on %s; the final validation loss on %s; the final test loss on %s. Losses are mean cross-entropy in nats per byte.",
		o.Loop.EvalEvery, info.Covers[harness.Curve], info.Covers[harness.Validation], info.Covers[harness.Test])
	d.Para("Schedule: linear warmup over %d steps, then cosine decay to %g× the peak learning rate. A run diverges when its loss or a gradient becomes non-finite, or when its mean training loss over an evaluation interval or its curve loss exceeds the untrained model's curve loss by more than %g nats/byte.",
		min(o.Loop.Warmup, o.Loop.Steps-1), o.Loop.MinLRFrac, o.Loop.DivergeMargin)
	tab := report.Table{Header: []string{"optimizer", "β₁", "β₂", "λ", "ε", "ε₂", "c", "what λ does"}}
	for _, name := range o.Names {
		for _, run := range o.Runs {
			if run.Spec.Optimizer == name {
				h := run.Spec.Config
				eps2 := "—" // the baselines have no adaptive ε
				if b := baseName(name); b == "fadam" || b == "fadafactor" {
					eps2 = fmt.Sprint(h.Eps2)
				}
				tab.Rows = append(tab.Rows, []string{name, fmt.Sprint(h.Beta1), fmt.Sprint(h.Beta2), fmt.Sprint(h.WeightDecay), fmt.Sprint(h.Eps),
					eps2, fmt.Sprint(h.Clip), harness.WeightDecayMeaning(baseName(name))})
				break
			}
		}
	}
	d.Para("Hyperparameters (ε, ε₂ and the clipping threshold c are each algorithm's own; c = 0 means no update clipping). Weight decay applies to matrices (weights and embeddings) only, never to biases and LayerNorm parameters, for every optimizer:")
	d.Table(tab)
}
