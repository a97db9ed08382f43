package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fadam-go/fadam/data/text"
	"github.com/fadam-go/fadam/experiment/lm"
	"github.com/fadam-go/fadam/models/gpt"
	"github.com/fadam-go/fadam/report"
)

func init() {
	register(command{
		name:    "compare",
		summary: "train a byte-level GPT with FAdam vs AdamW (and FAdafactor vs Adafactor)",
		run:     func(ctx context.Context, args []string) error { return runCompare(ctx, args, os.Stdout) },
	})
}

// compareEvalBatches is the number of fixed validation batches behind each evaluation.
const compareEvalBatches = 8

// compareMinLRFrac is where the cosine decay ends, as a fraction of the peak learning rate.
const compareMinLRFrac = 0.1

// compareStepHook, when set (by tests), is called after every training step with the number of
// steps done over all runs.
var compareStepHook func(done int)

// lmFlags are the model, training and data flags shared by `fadam compare` and the commands
// that reuse its training run (`fadam ablate`).
type lmFlags struct {
	steps, warmup                int
	lr                           float64
	d, layers, heads, ctx, batch int
	evalEvery                    int
	corpus                       string
}

// compareSteps is compare's default number of training steps.
const compareSteps = 1200

// addLMFlags registers the shared flags on fs with the defaults of `fadam compare`, sized so
// that the default comparison (3 seeds × 2 optimizers) finishes within a few minutes on 2 cores;
// --steps defaults to steps, which a command that trains many runs (ablate) sets lower.
func addLMFlags(fs *flag.FlagSet, steps int) *lmFlags {
	f := &lmFlags{}
	fs.IntVar(&f.steps, "steps", steps, "training steps per run")
	fs.Float64Var(&f.lr, "lr", 3e-3, "peak learning rate, the same for every optimizer")
	fs.IntVar(&f.warmup, "warmup", 50, "linear warmup steps before the cosine decay")
	fs.IntVar(&f.d, "d", 64, "model width")
	fs.IntVar(&f.layers, "layers", 2, "transformer blocks")
	fs.IntVar(&f.heads, "heads", 4, "attention heads")
	fs.IntVar(&f.ctx, "ctx", 64, "context length in bytes")
	fs.IntVar(&f.batch, "batch", 16, "sequences per batch")
	fs.IntVar(&f.evalEvery, "eval-every", 50, "evaluate every this many steps (and after the last)")
	fs.StringVar(&f.corpus, "corpus", "", "text file or directory to train on (default: the Go standard library source)")
	return f
}

// config is the training run the flags describe, with the shared hyperparameters of
// lm.SharedConfig (β₁ = 0.9, β₂ = 0.99, λ = 0.001) at the flags' learning rate.
func (f *lmFlags) config() (lm.Config, error) {
	cfg := lm.Config{
		Model:       gpt.Config{D: f.d, Layers: f.layers, Heads: f.heads, Ctx: f.ctx, Batch: f.batch},
		Steps:       f.steps,
		Warmup:      f.warmup,
		Opt:         lm.SharedConfig(f.lr),
		MinLRFrac:   compareMinLRFrac,
		EvalEvery:   f.evalEvery,
		EvalBatches: compareEvalBatches,
	}
	return cfg, cfg.Validate()
}

// loadCorpus loads --corpus, or the Go standard library source without it.
func (f *lmFlags) loadCorpus() (*text.Corpus, error) {
	if f.corpus == "" {
		return text.LoadGoSource()
	}
	return text.Load(f.corpus)
}

// compareFlags are the options of `fadam compare`.
type compareFlags struct {
	*lmFlags
	optimizers string
	seeds      int
	out        string
}

func parseCompareFlags(args []string) (compareFlags, error) {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	f := compareFlags{lmFlags: addLMFlags(fs, compareSteps)}
	fs.StringVar(&f.optimizers, "optimizers", "fadam,adamw", "comma-separated optimizers: "+strings.Join(lm.OptimizerNames, ", "))
	fs.IntVar(&f.seeds, "seeds", 3, "seeds per optimizer (1, 2, …)")
	fs.StringVar(&f.out, "out", "./fadam-out", "directory for compare.md, compare.csv, compare.svg and compare.png")
	if err := parseFlags(fs, args); err != nil {
		return f, err
	}
	if f.seeds <= 0 {
		return f, usagef("--seeds must be positive, got %d", f.seeds)
	}
	return f, nil
}

func runCompare(ctx context.Context, args []string, stdout io.Writer) error {
	f, err := parseCompareFlags(args)
	if err != nil {
		return err
	}
	var opts []lm.Optimizer
	for _, name := range strings.Split(f.optimizers, ",") {
		o, err := lm.NamedOptimizer(strings.TrimSpace(name))
		if err != nil {
			return asUsage(err)
		}
		opts = append(opts, o)
	}
	cfg, err := f.config()
	if err != nil {
		return asUsage(err)
	}
	corpus, err := f.loadCorpus()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	seeds := make([]uint64, f.seeds)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	nRuns := len(opts) * len(seeds)
	// Runs are independent, so they share the cores: on a small model two single-threaded runs
	// train faster together than one run whose matmuls are split over two cores.
	parallel := min(runtime.GOMAXPROCS(0), nRuns)
	fmt.Fprintf(stdout, "fadam compare: %d runs (%s × %d seeds), %d steps each, %d at a time; corpus %s (%d train / %d validation bytes)\n",
		nRuns, f.optimizers, f.seeds, f.steps, parallel, corpus.Source, len(corpus.Train), len(corpus.Val))

	total := nRuns * f.steps
	bar := report.NewProgress(total, "compare", false)
	var mu sync.Mutex
	done := 0
	start := time.Now()
	runs := lm.Sweep(ctx, corpus, cfg, opts, seeds, parallel, func() {
		mu.Lock()
		done++
		bar.Set(done, "")
		n := done
		mu.Unlock()
		if compareStepHook != nil {
			compareStepHook(n)
		}
	})
	bar.Finish()
	wall := time.Since(start)

	rep := compareReport{flags: f, args: args, cfg: cfg, corpus: corpus, runs: runs, parallel: parallel, wall: wall}
	rep.summaries = lm.Summarize(runs, f.steps)
	fmt.Fprintln(stdout, rep.table().Markdown())
	for _, line := range rep.pairedLines() {
		fmt.Fprintln(stdout, line)
	}
	werr := rep.write()
	if werr == nil {
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(f.out, "compare.md"))
	}
	for _, r := range runs {
		if r.Err != nil && !errors.Is(r.Err, context.Canceled) && !errors.Is(r.Err, context.DeadlineExceeded) {
			return errors.Join(fmt.Errorf("%s seed %d: %w", r.Optimizer, r.Seed, r.Err), werr)
		}
	}
	if err := ctx.Err(); err != nil {
		return errors.Join(fmt.Errorf("interrupted after %v; the report covers what finished: %w", wall.Round(time.Second), err), werr)
	}
	return werr
}

// compareReport is everything `fadam compare` writes.
type compareReport struct {
	flags     compareFlags
	args      []string
	cfg       lm.Config
	corpus    *text.Corpus
	runs      []lm.Run
	summaries []lm.Summary
	parallel  int
	wall      time.Duration
}

func fmtLoss(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

func (r compareReport) table() report.Table {
	t := report.Table{Header: []string{"optimizer", "final train loss", "eval loss (mean ± std)", "seeds done", "tokens/s per run", "notes"}}
	for _, s := range r.summaries {
		eval := "—"
		switch {
		case s.Completed == 1:
			eval = fmtLoss(s.EvalMean)
		case s.Completed > 1:
			eval = report.FormatMeanStd(s.EvalMean, s.EvalStd, 4)
		}
		tps := "—"
		if !math.IsNaN(s.TokensPerSec) {
			tps = strconv.FormatFloat(s.TokensPerSec, 'f', 0, 64)
		}
		t.Rows = append(t.Rows, []string{s.Optimizer, fmtLoss(s.TrainMean), eval,
			fmt.Sprintf("%d/%d", s.Completed, s.Runs), tps, strings.Join(s.Divergence, "; ")})
	}
	return t
}

// comparePairs are the paper's pairs: each correction against the optimizer it corrects.
var comparePairs = [][2]string{{"fadam", "adamw"}, {"fadafactor", "adafactor"}}

// pairedLines states, for each of the paper's pairs that ran, the seed-paired difference of
// the final evaluation loss.
func (r compareReport) pairedLines() []string {
	var lines []string
	for _, p := range comparePairs {
		m, s, n := lm.PairedDifference(r.runs, p[0], p[1], r.cfg.Steps)
		if n == 0 {
			continue
		}
		spread := ""
		if n > 1 {
			spread = " ± " + strconv.FormatFloat(s, 'f', 4, 64)
		}
		lines = append(lines, fmt.Sprintf("Paired by seed (same initialisation and batches), eval loss %s − %s = %+.4f%s over %d seeds (negative: %s lower).",
			p[0], p[1], m, spread, n, p[0]))
	}
	return lines
}

func (r compareReport) csvRows() [][]string {
	var rows [][]string
	for _, run := range r.runs {
		for _, p := range run.Result.Points {
			rows = append(rows, []string{run.Optimizer, strconv.FormatUint(run.Seed, 10), strconv.Itoa(p.Step),
				strconv.FormatFloat(p.TrainLoss, 'g', 6, 64), strconv.FormatFloat(p.EvalLoss, 'g', 6, 64),
				strconv.FormatFloat(p.Elapsed.Seconds(), 'f', 3, 64)})
		}
	}
	return rows
}

func (r compareReport) plot() report.LinePlot {
	lp := report.LinePlot{Title: "Validation loss (band: min–max over seeds; y zoomed past the first quarter)", XLabel: "step", YLabel: "eval loss (nats/byte)"}
	for _, s := range r.summaries {
		ser := report.Series{Name: s.Optimizer}
		for _, run := range r.runs {
			if run.Optimizer != s.Optimizer {
				continue
			}
			var c report.Curve
			for _, p := range run.Result.Points {
				c.X, c.Y = append(c.X, float64(p.Step)), append(c.Y, p.EvalLoss)
			}
			ser.Runs = append(ser.Runs, c)
		}
		lp.Series = append(lp.Series, ser)
	}
	return lp
}

// commandLine is `fadam <sub> args…`, with args quoted the way a shell would need them.
func commandLine(sub string, args []string) string {
	parts := []string{"fadam", sub}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$\\`*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func (r compareReport) write() error {
	out := r.flags.out
	if err := report.WriteCSV(filepath.Join(out, "compare.csv"),
		[]string{"optimizer", "seed", "step", "train_loss", "eval_loss", "elapsed"}, r.csvRows()); err != nil {
		return err
	}
	var plotErr error
	if p, err := r.plot().Plot(); err != nil {
		plotErr = err
	} else {
		// The first evaluations sit far above the rest; zoom the y axis on the evaluations after
		// the first quarter of training, where the optimizers differ (lines are clipped).
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, run := range r.runs {
			for _, pt := range run.Result.Points {
				if pt.Step*4 >= r.cfg.Steps {
					lo, hi = math.Min(lo, pt.EvalLoss), math.Max(hi, pt.EvalLoss)
				}
			}
		}
		if lo < hi && !math.IsInf(hi, 0) {
			pad := 0.05 * (hi - lo)
			p.Y.Min, p.Y.Max = lo-pad, hi+pad
		}
		if err := report.SavePlot(p, filepath.Join(out, "compare")); err != nil {
			return err
		}
	}

	m := r.cfg.Model
	var d report.Doc
	d.Heading(1, "FAdam vs AdamW on a byte-level GPT")
	d.Para("Command (%s):", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	d.Code(commandLine("compare", r.args))
	d.Machine(report.Machine())
	if n := countUnfinished(r.runs, r.cfg.Steps); n > 0 {
		d.Para("**Interrupted:** %d of %d runs did not finish; the table counts finished runs only, the CSV and plot hold every evaluation made.", n, len(r.runs))
	}
	d.Table(r.table())
	for _, line := range r.pairedLines() {
		d.Para("%s", line)
	}
	if plotErr == nil {
		d.Image("eval loss against step", "compare.png")
		d.Para("Vector version: [compare.svg](compare.svg). Every evaluation of every seed: [compare.csv](compare.csv).")
	} else {
		d.Para("No plot: %v.", plotErr)
	}
	d.Heading(2, "Setup")
	params := 0
	for _, run := range r.runs {
		params = max(params, run.Result.Params)
	}
	d.Para("Model: byte-level GPT (vocabulary 256), d=%d, %d layers, %d heads, context %d, pre-LN blocks, untied output projection, %d parameters. Batch %d sequences × %d bytes = %d tokens per step; %d steps per run; %d seeds per optimizer (seed sets the initialisation and the training batches, so optimizers with the same seed see the same data); %d runs at a time on %d cores, wall time %v.",
		m.D, m.Layers, m.Heads, m.Ctx, params, m.Batch, m.Ctx, m.Batch*m.Ctx, r.cfg.Steps, r.flags.seeds, r.parallel, runtime.NumCPU(), r.wall.Round(time.Second))
	d.Para("Data: %s — %d training files (%d bytes), %d validation files (%d bytes), split by file (every %dth file to validation). Evaluation: the mean loss over the same %d validation batches for every run, every %d steps and after the last. Final train loss: mean training loss over the last evaluation interval.",
		r.corpus.Source, r.corpus.TrainFiles, len(r.corpus.Train), r.corpus.ValFiles, len(r.corpus.Val), text.ValEvery, compareEvalBatches, r.cfg.EvalEvery)
	o := r.cfg.Opt
	d.Para("Hyperparameters, the same for every optimizer: peak learning rate %g, linear warmup over %d steps then cosine decay to %g× the peak, β₁=%g, β₂=%g, λ=%g. Weight decay applies to matrices (weights and embeddings) only, not to biases and LayerNorm parameters, for every optimizer. ε and the clipping threshold are each algorithm's own (FAdam/FAdafactor: ε=1e-8, ε₂=0.01, c=1, ρ=0.5; AdamW: ε=1e-8, no clipping; Adafactor: ε=1e-30, c=1).",
		o.LR, min(r.cfg.Warmup, r.cfg.Steps-1), compareMinLRFrac, o.Beta1, o.Beta2, o.WeightDecay)
	wd := report.Table{Header: []string{"optimizer", "what λ does"}}
	for _, s := range r.summaries {
		wd.Rows = append(wd.Rows, []string{s.Optimizer, lm.WeightDecayMeaning(s.Optimizer)})
	}
	d.Table(wd)
	d.Para("tokens/s is training throughput per run (evaluations excluded) while %d runs share the machine.", r.parallel)
	return d.WriteFile(filepath.Join(out, "compare.md"))
}

func countUnfinished(runs []lm.Run, steps int) int {
	n := 0
	for _, r := range runs {
		if r.Err != nil || (!r.Result.Diverged() && r.Result.Steps < steps) {
			n++
		}
	}
	return n
}
