package asr

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/report"
)

// ReportInfo is what the report says about how the runs were made.
type ReportInfo struct {
	Command    string // the exact command line
	Date       time.Time
	Machine    report.MachineInfo
	WallTime   time.Duration
	CorpusTime time.Duration // synthesis (or cache check) and feature extraction
	Data       string        // description of the corpus (Markdown)
	Params     int           // trainable parameters of the model
	Batch      int           // utterances per step
	// Interrupted is set when the sweep was cut short (Ctrl-C, SIGTERM).
	Interrupted bool
	// OptimizerNote states the shared hyperparameters and the constants that belong to each
	// algorithm (clipping, ε₂, ρ).
	OptimizerNote string
}

// Pairs are the paper's comparisons: each corrected optimizer against the one it corrects.
var Pairs = harness.PaperPairs

// werPrec is the number of decimals of WER, CER and loss in the tables.
const werPrec = 2

// WriteReport writes asr.md, asr.csv and the plots of outcome o into dir.
func WriteReport(dir string, o *harness.Outcome, cfg Config, info ReportInfo) error {
	if err := report.WriteCSV(filepath.Join(dir, "asr.csv"), harness.CSVHeader, o.CSVRows()); err != nil {
		return err
	}
	t := o.Tuned()
	var d report.Doc
	d.Heading(1, "Speech recognition: FAdam vs Adam on synthesised spoken digits")
	d.Para("**Paper's claim** (§4.2, Table 1): FAdam beats Adam in word error rate (600M Conformer, LibriSpeech). " +
		"Here: a small CTC recogniser trained with each optimizer under identical hyperparameters and seeds, " +
		"its learning rate chosen on dev voices and its word error rate reported on test voices, both never heard in training.")
	if info.Interrupted || o.Unfinished() > 0 {
		d.Para("**Incomplete:** %d of %d runs did not finish (the sweep was stopped); the tables hold what finished. Run the same command again to continue: finished runs are reused.", o.Unfinished(), len(o.Runs))
	}
	d.Code(info.Command)
	d.Para("Date: %s. Wall time: %s, of which preparing the corpus took %s. %s.", info.Date.UTC().Format("2006-01-02 15:04 MST"),
		info.WallTime.Round(time.Second), info.CorpusTime.Round(time.Second), o.Describe())
	d.Machine(info.Machine)

	d.Heading(2, "Verdict")
	for _, p := range o.Pairs(Pairs) {
		iv, how := o.Headline(t, p)
		d.Para("**%s vs %s, %s:** %s — %s", p.A, p.B, how, iv.Verdict(), iv.Sentence("test WER (%)", werPrec))
	}
	d.Para("Each test number covers %s; dev numbers (selection) cover %s.", o.Info.Covers[harness.Test], o.Info.Covers[harness.Validation])

	if err := o.Sections(&d, dir, "asr", Pairs, werPrec); err != nil {
		return err
	}
	if len(o.LRs) > 1 {
		lp := o.SensitivityPlot(harness.Test)
		lp.LogY, lp.Title, lp.YLabel = true, "Test WER against learning rate, log axis (band: min–max over seeds)", "final test WER (%), log scale"
		if err := harness.AddPlot(&d, lp, dir, "asr-wer-lr", "test WER against learning rate, log axis"); err != nil {
			return err
		}
	}
	d.Heading(2, "All test metrics")
	d.Para("Character error rate (%%) and CTC loss (nats per utterance) on the test split (%s), mean ± std over seeds:", o.Info.Covers[harness.Test])
	d.Table(o.For(MetricCER).Table(harness.Test, werPrec))
	d.Table(o.For(MetricLoss).Table(harness.Test, 3))
	if err := harness.AddPlot(&d, o.CurvePlot("Dev CTC loss during training (mean over seeds, min–max band)", o.LROf(t)), dir, "asr-curve", "dev CTC loss against step"); err != nil {
		return err
	}

	d.Heading(2, "Runs")
	rt := report.Table{Header: []string{"optimizer", "peak LR", "seed", "status", "dev WER (%)", "test WER (%)", "test CER (%)", "train time", "reused"}}
	for _, r := range o.Runs {
		status := r.Result.Status(o.Loop.Steps)
		if r.Err != nil {
			status = "not finished: " + r.Err.Error()
		}
		row := []string{r.Spec.Optimizer, harness.FormatLR(r.Spec.LR), strconv.FormatUint(r.Spec.Seed, 10), status, "–", "–", "–",
			r.Result.TrainTime.Round(time.Second).String(), strconv.FormatBool(r.Reused)}
		if r.Result.Complete(o.Loop.Steps) {
			row[4] = strconv.FormatFloat(r.Result.Validation[MetricWER], 'f', werPrec, 64)
			row[5] = strconv.FormatFloat(r.Result.Test[MetricWER], 'f', werPrec, 64)
			row[6] = strconv.FormatFloat(r.Result.Test[MetricCER], 'f', werPrec, 64)
		}
		rt.Rows = append(rt.Rows, row)
	}
	d.Table(rt)

	d.Heading(2, "Setup")
	d.Para("%s", info.Data)
	mc := cfg.Model
	d.Para("Model: two 1-D convolutions (kernel 3, stride 2, ReLU) subsample the 10 ms frames 4×, "+
		"sinusoidal positions are added, then %d pre-LayerNorm transformer blocks (width %d, %d heads, "+
		"bidirectional attention with key padding mask, GELU MLP of width %d) and a linear CTC head over "+
		"%d classes (blank + %d words); %d parameters. WER counts word substitutions, deletions and insertions of greedy CTC decoding "+
		"against the digit words; CER the same over the characters of the space-joined transcript.",
		mc.Layers, mc.Dim, mc.Heads, mc.FF, mc.Classes, mc.Classes-1, info.Params)
	l := o.Loop
	d.Para("Optimization, identical for every optimizer: linear warmup %d steps then cosine decay to %g × the peak learning rate, "+
		"%d steps of %d utterances; weight decay on matrices only (not biases or LayerNorm). %s "+
		"Curve every %d steps on %s. A run diverges when its loss or a gradient is non-finite or its loss exceeds the untrained model's dev CTC loss by more than %g.",
		l.Warmup, l.MinLRFrac, l.Steps, info.Batch, info.OptimizerNote, l.EvalEvery, o.Info.Covers[harness.Curve], l.DivergeMargin)
	d.Para("Files: `asr.csv` (every evaluation of every run), the plots beside this report, and `runs/` (one JSON file per finished run, reused by a rerun of the same command).")
	return d.WriteFile(filepath.Join(dir, "asr.md"))
}

// Summary is the text the command prints: the sweep line, the tables and the verdicts.
func Summary(o *harness.Outcome) string {
	var b strings.Builder
	fmt.Fprintln(&b, o.Describe())
	o.Print(&b, Pairs, werPrec)
	t := o.Tuned()
	for _, p := range o.Pairs(Pairs) {
		iv, how := o.Headline(t, p)
		fmt.Fprintf(&b, "%s vs %s, %s: %s\n", p.A, p.B, how, iv.Verdict())
	}
	return b.String()
}
