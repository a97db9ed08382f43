package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/cache"
	"github.com/fadam-go/fadam/data/digits"
	easr "github.com/fadam-go/fadam/experiment/asr"
	"github.com/fadam-go/fadam/experiment/lm"
	model "github.com/fadam-go/fadam/models/asr"
	"github.com/fadam-go/fadam/nn"
	"github.com/fadam-go/fadam/report"
)

func init() {
	register(command{
		name:    "asr",
		summary: "speech: CTC recogniser on synthesised spoken digits, FAdam vs Adam (paper §4.2)",
		run:     runASR,
	})
}

// asrSettings are the values of the command's flags.
type asrSettings struct {
	optimizers        []string
	steps, seeds      int
	train, test       int
	batch, parallel   int
	lr                float64
	out, cache        string
	quick, quiet      bool
	evalEvery, warmup int
}

func parseASRFlags(args []string) (asrSettings, error) {
	var s asrSettings
	fs := flag.NewFlagSet("asr", flag.ContinueOnError)
	opts := fs.String("optimizers", "fadam,adam", "comma-separated optimizers to compare (fadam, adam, fadafactor, adafactor)")
	fs.IntVar(&s.steps, "steps", 800, "training steps per run")
	fs.IntVar(&s.seeds, "seeds", 3, "seeds per optimizer (1..N)")
	fs.IntVar(&s.train, "utterances", 2000, "training utterances (the held-out set has 15% as many, at least 40)")
	fs.IntVar(&s.batch, "batch", 16, "utterances per step")
	fs.Float64Var(&s.lr, "lr", 3e-3, "peak learning rate (the same for every optimizer)")
	fs.IntVar(&s.parallel, "parallel", 2, "runs trained at the same time")
	fs.StringVar(&s.out, "out", "./fadam-out", "output directory")
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
	case s.steps < 1 || s.seeds < 1 || s.batch < 1 || s.parallel < 1:
		return s, usagef("--steps %d, --seeds %d, --batch %d, --parallel %d must be positive", s.steps, s.seeds, s.batch, s.parallel)
	case s.train < 2:
		return s, usagef("--utterances %d: need at least 2", s.train)
	case !(s.lr > 0):
		return s, usagef("--lr %g must be positive", s.lr)
	}
	for _, o := range s.optimizers {
		if _, err := asrOptimizer(o); err != nil {
			return s, asUsage(err)
		}
	}
	s.test = max(40, s.train*15/100)
	s.evalEvery = max(1, s.steps/10)
	s.warmup = s.steps / 10
	return s, nil
}

// asrHyper is the paper's ASR setting (β1=0.9, β2=0.98, ε=1e-8, λ=0.001) shared by every
// optimizer; each algorithm's own constants (clipping, ε₂, ρ) are set by asrOptimizer.
func asrHyper(lr float64) fadam.Config {
	c := fadam.Defaults()
	c.LR, c.Beta1, c.Beta2, c.Eps, c.WeightDecay = lr, 0.9, 0.98, 1e-8, 0.001
	return c
}

// asrOptimizer returns the named optimizer with the algorithm's own constants, exactly as the
// language-model comparison sets them (lm.NamedOptimizer): FAdam keeps Algorithm 1's ε₂, c and
// ρ; Adam is PyTorch's AdamW without update clipping. "adam" is accepted for "adamw".
func asrOptimizer(name string) (easr.Optimizer, error) {
	key := strings.ToLower(name)
	if key == "adam" {
		key = "adamw"
	}
	o, err := lm.NamedOptimizer(key)
	if err != nil {
		return easr.Optimizer{}, err
	}
	return easr.Optimizer{Name: name, New: easr.OptimizerFactory(o.New)}, nil
}

func runASR(ctx context.Context, args []string) error {
	s, err := parseASRFlags(args)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := os.MkdirAll(s.out, 0o755); err != nil {
		return err
	}
	if _, err := digits.EspeakVersion(ctx); err != nil {
		return err
	}
	dir, err := cache.Dir(s.cache, "asr-digits")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "asr: preparing %d training, %d dev and %d test utterances in %s\n", s.train, s.test, s.test, dir)
	corpus, err := easr.LoadCorpus(ctx, dir, digits.Counts{Train: s.train, Dev: s.test, Test: s.test})
	if err != nil {
		return err
	}
	corpusTime := time.Since(start)
	fmt.Fprintf(os.Stderr, "asr: corpus ready in %s (%d reused, %d synthesised)\n",
		corpusTime.Round(time.Second), corpus.Stats.Reused, corpus.Stats.Synthesized)

	cfg := easr.Config{
		Model: model.DefaultConfig(), Opt: asrHyper(s.lr),
		Steps: s.steps, Batch: s.batch, Warmup: s.warmup, MinLRFrac: 0.1, EvalEvery: s.evalEvery,
	}
	m, err := model.New(cfg.Model, 0)
	if err != nil {
		return err
	}
	var opts []easr.Optimizer
	for _, name := range s.optimizers {
		o, err := asrOptimizer(name)
		if err != nil {
			return err
		}
		opts = append(opts, o)
	}
	seeds := make([]uint64, s.seeds)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	total := len(opts) * len(seeds) * s.steps
	bar := report.NewProgress(total, "asr", s.quiet)
	var mu sync.Mutex
	done := 0
	runs := easr.Sweep(ctx, corpus.Train, corpus.Test, cfg, opts, seeds, s.parallel, func() {
		mu.Lock()
		done++
		bar.Set(done, "")
		mu.Unlock()
	})
	bar.Finish()

	interrupted := ctx.Err() != nil
	info := easr.ReportInfo{
		Command: easr.CommandLine(append([]string{"fadam"}, os.Args[1:]...)), Date: start, Machine: report.Machine(),
		WallTime: time.Since(start), CorpusTime: corpusTime, Data: corpus.Describe(), Params: nn.Count(m.Params()), Interrupted: interrupted,
		OptimizerNote: "Each algorithm keeps its own constants, as in `fadam compare`: FAdam ε₂=0.01, c=1, ρ=0.5 (Algorithm 1); " +
			"Adam is PyTorch's AdamW without update clipping (FAdafactor as FAdam; Adafactor ε=1e-30, c=1).",
	}
	if err := easr.WriteReport(s.out, cfg, s.optimizers, runs, info); err != nil {
		return err
	}
	for _, r := range runs {
		if r.Err != nil && !errors.Is(r.Err, context.Canceled) {
			return fmt.Errorf("%s seed %d: %w", r.Optimizer, r.Seed, r.Err)
		}
	}
	fmt.Fprintf(os.Stderr, "asr: wrote %s (%s)\n", filepath.Join(s.out, "asr.md"), time.Since(start).Round(time.Second))
	if interrupted {
		fmt.Fprintln(os.Stderr, "asr: interrupted; the report covers the runs that finished")
	}
	return nil
}
