package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/cache"
	"github.com/fadam-go/fadam/data/digits"
	easr "github.com/fadam-go/fadam/experiment/asr"
	"github.com/fadam-go/fadam/experiment/harness"
	model "github.com/fadam-go/fadam/models/asr"
	"github.com/fadam-go/fadam/nn"
	"github.com/fadam-go/fadam/report"
)

func init() {
	register(command{
		name:    "asr",
		summary: "speech: CTC recogniser on synthesised spoken digits, FAdam vs Adam (paper §4.2)",
		run:     func(ctx context.Context, args []string) error { return runASR(ctx, args, os.Stdout) },
	})
}

// asrSettings are the values of the command's flags.
type asrSettings struct {
	optimizers      []string
	lrs             harness.LRList
	steps, seeds    int
	train, held     int // training utterances; dev and test utterances each
	batch, parallel int
	curve           int
	out, cache      string
	quick, quiet    bool
}

// asrDivergeMargin is how far (in nats per utterance) a run's loss may rise above the untrained
// model's dev CTC loss before the run counts as diverged.
const asrDivergeMargin = 40

func parseASRFlags(args []string) (asrSettings, error) {
	s := asrSettings{lrs: harness.LRList{3e-3}}
	fs := flag.NewFlagSet("asr", flag.ContinueOnError)
	opts := fs.String("optimizers", "fadam,adamw", "comma-separated optimizers to compare (fadam, adamw (or adam), fadafactor, adafactor)")
	fs.Var(&s.lrs, "lr", "peak learning rates, comma-separated (`LIST`, e.g. 1e-3,3e-3,1e-2); with more than one, each optimizer is also compared at its own best rate, chosen on the dev split")
	fs.IntVar(&s.steps, "steps", 800, "training steps per run")
	fs.IntVar(&s.seeds, "seeds", 3, "seeds per optimizer and learning rate (1..N)")
	fs.IntVar(&s.train, "utterances", 2000, "training utterances (the dev and test splits have 15% as many each, at least 40)")
	fs.IntVar(&s.batch, "batch", 16, "utterances per step")
	fs.IntVar(&s.curve, "curve-utterances", 100, "dev utterances behind each point of the training curves")
	fs.IntVar(&s.parallel, "parallel", 2, "runs trained at the same time")
	fs.StringVar(&s.out, "out", "./fadam-out", "output directory: asr.md, asr.csv, plots, and runs/ (finished runs, reused when the same command runs again)")
	fs.StringVar(&s.cache, "cache", "", "cache directory for the synthesised corpus (default $"+cache.EnvVar+", else fadam-go in the user cache directory)")
	fs.BoolVar(&s.quick, "quick", false, "tiny run for checks (1 seed, 400 utterances, 150 steps; finishes within 2 minutes)")
	fs.BoolVar(&s.quiet, "quiet", false, "no progress bar")
	if err := parseFlags(fs, args); err != nil {
		return s, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if s.quick {
		for name, v := range map[string]*int{"steps": &s.steps, "seeds": &s.seeds, "utterances": &s.train} {
			if !set[name] {
				*v = map[string]int{"steps": 150, "seeds": 1, "utterances": 400}[name]
			}
		}
	}
	for _, o := range strings.Split(*opts, ",") {
		if o = strings.TrimSpace(o); o != "" {
			s.optimizers = append(s.optimizers, o)
		}
	}
	switch {
	case len(s.optimizers) == 0:
		return s, usagef("--optimizers is empty")
	case s.steps < 1 || s.seeds < 1 || s.batch < 1 || s.parallel < 1 || s.curve < 1:
		return s, usagef("--steps %d, --seeds %d, --batch %d, --parallel %d and --curve-utterances %d must be positive", s.steps, s.seeds, s.batch, s.parallel, s.curve)
	case s.train < 2:
		return s, usagef("--utterances %d: need at least 2", s.train)
	}
	for i, o := range s.optimizers {
		opt, err := asrOptimizer(o)
		if err != nil {
			return s, asUsage(err)
		}
		s.optimizers[i] = opt.Name
	}
	s.held = max(40, s.train*15/100)
	return s, nil
}

// asrHyper is the paper's ASR setting (β1=0.9, β2=0.98, ε=1e-8, λ=0.001) shared by every
// optimizer; each algorithm's own constants (clipping, ε₂, ρ) are set by asrOptimizer. The
// learning rate is set per run from --lr.
func asrHyper() fadam.Config {
	c := fadam.Defaults()
	c.Beta1, c.Beta2, c.Eps, c.WeightDecay = 0.9, 0.98, 1e-8, 0.001
	return c
}

// asrOptimizer returns the named optimizer with the ASR hyperparameters and the algorithm's
// own constants, exactly as the language-model comparison sets them (harness.Named): FAdam
// keeps Algorithm 1's ε₂, c and ρ; AdamW is PyTorch's, without update clipping. "adam" names
// AdamW (the paper's "Adam" has decoupled weight decay).
func asrOptimizer(name string) (harness.Optimizer, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	if key == "adam" {
		key = "adamw"
	}
	return harness.Named(key, asrHyper())
}

func runASR(ctx context.Context, args []string, stdout io.Writer) error {
	s, err := parseASRFlags(args)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := harness.CheckWritable(s.out); err != nil {
		return err
	}
	if _, err := digits.EspeakVersion(ctx); err != nil {
		return err
	}
	dir, err := cache.Dir(s.cache, "asr-digits")
	if err != nil {
		return err
	}
	n := digits.Counts{Train: s.train, Dev: s.held, Test: s.held}
	fmt.Fprintf(os.Stderr, "asr: preparing %d training, %d dev and %d test utterances in %s\n", n.Train, n.Dev, n.Test, dir)
	corpus, err := easr.LoadCorpus(ctx, dir, n)
	if err != nil {
		return err
	}
	corpusTime := time.Since(start)
	fmt.Fprintf(os.Stderr, "asr: corpus ready in %s (%d reused, %d synthesised)\n",
		corpusTime.Round(time.Second), corpus.Stats.Reused, corpus.Stats.Synthesized)

	cfg := easr.Config{Model: model.DefaultConfig(), Batch: s.batch, CurveUtterances: s.curve, Corpus: n, CorpusSeed: easr.CorpusSeed}
	task, err := easr.NewTask(corpus, cfg)
	if err != nil {
		return err
	}
	sw := harness.Sweep{
		Task: task,
		Loop: harness.Loop{Steps: s.steps, Warmup: s.steps / 10, MinLRFrac: 0.1, EvalEvery: max(1, s.steps/10), DivergeMargin: asrDivergeMargin},
		LRs:  s.lrs, Dir: s.out, Parallel: s.parallel,
	}
	for i := range s.seeds {
		sw.Seeds = append(sw.Seeds, uint64(i+1))
	}
	for _, name := range s.optimizers {
		o, err := asrOptimizer(name)
		if err != nil {
			return err
		}
		sw.Optimizers = append(sw.Optimizers, o)
	}
	if err := sw.Validate(); err != nil {
		return asUsage(err)
	}
	bar := report.NewProgress(len(s.optimizers)*len(s.lrs)*s.seeds*s.steps, "asr", s.quiet)
	var done atomic.Int64
	sw.OnStep = func() { bar.Set(int(done.Add(1)), "") }
	sw.OnRun = func(r harness.Run) {
		if r.Reused {
			bar.Set(int(done.Add(int64(s.steps))), "")
		}
	}
	o, runErr := sw.Run(ctx)
	bar.Finish()
	if o == nil {
		return runErr
	}
	m, err := model.New(cfg.Model, 0)
	if err != nil {
		return err
	}
	info := easr.ReportInfo{
		Command: commandLine("asr", args), Date: start, Machine: report.Machine(),
		WallTime: time.Since(start), CorpusTime: corpusTime, Data: corpus.Describe(), Params: nn.Count(m.Params()), Batch: s.batch,
		Interrupted: ctx.Err() != nil,
		OptimizerNote: "Shared: β₁=0.9, β₂=0.98, ε=1e-8, λ=0.001 (the paper's ASR setting). Each algorithm keeps its own constants, as in `fadam compare`: FAdam ε₂=0.01, c=1, ρ=0.5 (Algorithm 1); " +
			"AdamW is PyTorch's, without update clipping (FAdafactor as FAdam; Adafactor ε=1e-30, c=1).",
	}
	werr := easr.WriteReport(s.out, o, cfg, info)
	fmt.Fprint(stdout, easr.Summary(o))
	if werr == nil {
		fmt.Fprintf(stdout, "wrote %s (%s)\n", filepath.Join(s.out, "asr.md"), time.Since(start).Round(time.Second))
	}
	for _, r := range o.Runs {
		if r.Err != nil && !errors.Is(r.Err, context.Canceled) {
			return errors.Join(fmt.Errorf("%s at %s seed %d: %w", r.Spec.Optimizer, harness.FormatLR(r.Spec.LR), r.Spec.Seed, r.Err), werr, runErr)
		}
	}
	if err := ctx.Err(); err != nil {
		return errors.Join(fmt.Errorf("interrupted; the report covers the %d runs that finished, and the same command continues the sweep: %w", len(o.Runs)-o.Unfinished(), err), werr, runErr)
	}
	return errors.Join(werr, runErr)
}
