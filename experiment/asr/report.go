package asr

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fadam-go/fadam/report"
)

// ReportInfo is what the report says about how the runs were made.
type ReportInfo struct {
	Command     string // the exact command line
	Date        time.Time
	Machine     report.MachineInfo
	WallTime    time.Duration
	CorpusTime  time.Duration // synthesis (or cache check) and feature extraction
	Data        string        // description of the corpus (Markdown)
	Params      int           // trainable parameters of the model
	Interrupted bool          // the sweep was cut short by Ctrl-C
	// OptimizerNote states the constants that belong to each algorithm rather than to the
	// comparison (clipping, ε₂, ρ).
	OptimizerNote string
}

// WriteReport writes asr.md, asr.csv and the training-curve plots (asr_train_loss and
// asr_test_wer, SVG and PNG) of runs into dir. Runs that did not complete are listed but left
// out of the means.
func WriteReport(dir string, cfg Config, opts []string, runs []Run, info ReportInfo) error {
	// CSV: every evaluation point of every run.
	var rows [][]string
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	for _, r := range runs {
		for _, p := range r.Result.Points {
			rows = append(rows, []string{r.Optimizer, strconv.FormatUint(r.Seed, 10), strconv.Itoa(p.Step),
				f(p.TrainLoss), f(p.TestLoss), f(p.WER), f(p.CER), f(p.Elapsed.Seconds()), strconv.FormatBool(r.Completed(cfg.Steps))})
		}
	}
	if err := report.WriteCSV(filepath.Join(dir, "asr.csv"),
		[]string{"optimizer", "seed", "step", "train_loss", "test_loss", "wer", "cer", "elapsed_s", "completed"}, rows); err != nil {
		return err
	}

	// Plots: mean over seeds with a min–max band.
	var lossSeries, werSeries []report.Series
	for _, o := range opts {
		ls, ws := report.Series{Name: o}, report.Series{Name: o}
		for _, r := range runs {
			if r.Optimizer != o || len(r.Result.Points) == 0 {
				continue
			}
			var lc, wc report.Curve
			for _, p := range r.Result.Points {
				lc.X, lc.Y = append(lc.X, float64(p.Step)), append(lc.Y, p.TrainLoss)
				wc.X, wc.Y = append(wc.X, float64(p.Step)), append(wc.Y, 100*p.WER)
			}
			ls.Runs, ws.Runs = append(ls.Runs, lc), append(ws.Runs, wc)
		}
		lossSeries, werSeries = append(lossSeries, ls), append(werSeries, ws)
	}
	plots := []struct {
		file string
		lp   report.LinePlot
	}{
		{"asr_train_loss", report.LinePlot{Title: "Training CTC loss (mean over seeds, min–max band)", XLabel: "step", YLabel: "CTC loss (nats/utterance)", Series: lossSeries, LogY: true}},
		{"asr_test_wer", report.LinePlot{Title: "Held-out word error rate (greedy decoding)", XLabel: "step", YLabel: "WER (%), log scale", Series: werSeries, LogY: true}},
	}
	for _, pl := range plots {
		p, err := pl.lp.Plot()
		if err != nil {
			return fmt.Errorf("asr: plot %s: %w", pl.file, err)
		}
		if err := report.SavePlot(p, filepath.Join(dir, pl.file)); err != nil {
			return err
		}
	}

	var d report.Doc
	d.Heading(1, "Speech recognition: FAdam vs Adam on synthesised spoken digits")
	d.Para("Paper §4.2 (Table 1) reports that FAdam beats Adam in word error rate on LibriSpeech. " +
		"This is the same comparison at laptop scale: a small CTC recogniser trained with each optimizer " +
		"under identical hyperparameters and seeds, scored on voices and speaker settings never seen in training.")
	if info.Interrupted {
		d.Para("**This sweep was interrupted (Ctrl-C); only the runs that finished are summarised.**")
	}
	d.Code(info.Command)
	d.Para("Date: %s. Wall time: %s, of which preparing the corpus took %s.", info.Date.UTC().Format("2006-01-02 15:04 MST"),
		info.WallTime.Round(time.Second), info.CorpusTime.Round(time.Second))
	d.Machine(info.Machine)

	d.Heading(2, "Result")
	t := report.Table{Header: []string{"optimizer", "runs", "test WER (%)", "test CER (%)", "test CTC loss", "train time / run"}}
	for _, o := range opts {
		var wer, cer, tl []float64
		var tt time.Duration
		n := 0
		for _, r := range runs {
			if r.Optimizer != o {
				continue
			}
			n++
			if !r.Completed(cfg.Steps) {
				continue
			}
			p, _ := r.Result.Final()
			wer, cer, tl = append(wer, 100*p.WER), append(cer, 100*p.CER), append(tl, p.TestLoss)
			tt += r.Result.TrainTime
		}
		row := []string{o, fmt.Sprintf("%d/%d", len(wer), n), "–", "–", "–", "–"}
		if len(wer) > 0 {
			row[2], row[3], row[4] = report.MeanStdString(wer, 2), report.MeanStdString(cer, 2), report.MeanStdString(tl, 3)
			row[5] = (tt / time.Duration(len(wer))).Round(time.Second).String()
		}
		t.Rows = append(t.Rows, row)
	}
	d.Table(t)
	d.Para("Mean ± sample standard deviation over seeds of the final evaluation (greedy CTC decoding, " +
		"WER over digit words, CER over the characters of the space-joined transcript). Runs column: completed/attempted.")
	d.Image("training loss", "asr_train_loss.png")
	d.Image("test WER", "asr_test_wer.png")

	d.Heading(2, "Runs")
	rt := report.Table{Header: []string{"optimizer", "seed", "steps", "status", "test WER (%)", "test CER (%)", "test loss", "train time"}}
	for _, r := range runs {
		status := "completed"
		switch {
		case r.Err != nil:
			status = "not finished: " + r.Err.Error()
		case r.Result.DivergedAt > 0:
			status = fmt.Sprintf("diverged at step %d", r.Result.DivergedAt)
		case r.Result.Steps != cfg.Steps:
			status = "incomplete"
		}
		row := []string{r.Optimizer, strconv.FormatUint(r.Seed, 10), strconv.Itoa(r.Result.Steps), status, "–", "–", "–", r.Result.TrainTime.Round(time.Second).String()}
		if p, ok := r.Result.Final(); ok {
			row[4], row[5], row[6] = fmt.Sprintf("%.2f", 100*p.WER), fmt.Sprintf("%.2f", 100*p.CER), fmt.Sprintf("%.3f", p.TestLoss)
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
		"%d classes (blank + %d words); %d parameters.", mc.Layers, mc.Dim, mc.Heads, mc.FF, mc.Classes, mc.Classes-1, info.Params)
	o := cfg.Opt
	d.Para("Optimization, identical for every optimizer: peak LR %g, linear warmup %d steps then cosine decay to %g×peak, "+
		"%d steps of %d utterances; β1=%g, β2=%g, ε=%g, decoupled weight decay λ=%g on matrices only (not biases or LayerNorm). "+
		"%s Test-set evaluation every %d steps.",
		o.LR, cfg.Warmup, cfg.MinLRFrac, cfg.Steps, cfg.Batch, o.Beta1, o.Beta2, o.Eps, o.WeightDecay, info.OptimizerNote, cfg.EvalEvery)
	d.Para("Files: `asr.csv` (every evaluation of every run), `asr_train_loss.svg/.png`, `asr_test_wer.svg/.png`.")
	return d.WriteFile(filepath.Join(dir, "asr.md"))
}

// CommandLine returns args (such as os.Args) as a copyable shell command, quoting where needed.
func CommandLine(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'$\\") {
			q[i] = strconv.Quote(a)
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}
