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
	"github.com/fadam-go/fadam/data/mnist"
	"github.com/fadam-go/fadam/experiment/harness"
	expvq "github.com/fadam-go/fadam/experiment/vqvae"
	"github.com/fadam-go/fadam/models/vqvae"
	"github.com/fadam-go/fadam/report"
)

func init() {
	register(command{
		name:    "vqvae",
		summary: "VQ-VAE on MNIST: 256-way cross-entropy vs L2, FAdam vs AdamW (paper §4.3)",
		run:     func(ctx context.Context, args []string) error { return runVQVAE(ctx, args, os.Stdout) },
	})
}

// vqvaeSettings are the values of the command's flags.
type vqvaeSettings struct {
	losses               []vqvae.Loss
	optimizers           []string
	lrs                  harness.LRList
	steps, seeds, batch  int
	warmup, evalEvery    int
	curve, restartEvery  int
	clsSteps, validation int
	samples, parallel    int
	data, out, cache     string
	quiet                bool
}

// vqvaeDivergeMargin is how far a run's objective may rise above the untrained model's before
// the run counts as diverged: in squared error per pixel for L2, in nats per pixel for CE.
var vqvaeDivergeMargin = map[vqvae.Loss]float64{vqvae.L2: 1, vqvae.CE: 2}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(strings.ToLower(f)); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parseVQVAEFlags(args []string) (vqvaeSettings, error) {
	s := vqvaeSettings{lrs: harness.LRList{2e-3}}
	fs := flag.NewFlagSet("vqvae", flag.ContinueOnError)
	lossFlag := fs.String("loss", "l2,ce", "reconstruction losses, comma-separated: l2, ce")
	optFlag := fs.String("optimizers", "fadam,adamw", "optimizers, comma-separated: fadam, adamw")
	fs.Var(&s.lrs, "lr", "peak learning rates, comma-separated (`LIST`, e.g. 1e-3,2e-3,4e-3); with more than one, each optimizer is also compared at its own best rate, chosen on the validation images")
	fs.IntVar(&s.steps, "steps", 400, "training steps per run")
	fs.IntVar(&s.seeds, "seeds", 3, "seeds per (loss, optimizer, learning rate)")
	fs.IntVar(&s.batch, "batch", 32, "images per training step")
	fs.IntVar(&s.warmup, "warmup", 50, "linear warmup steps (then cosine decay to a tenth)")
	fs.IntVar(&s.curve, "curve-images", 256, "validation images behind each point of the training curves")
	fs.IntVar(&s.evalEvery, "eval-every", 50, "steps between curve points")
	fs.IntVar(&s.restartEvery, "restart-every", 50, "steps between dead-code restarts (0: none)")
	fs.IntVar(&s.clsSteps, "cls-steps", 1500, "training steps of the feature classifier when it is not cached")
	fs.IntVar(&s.validation, "validation", mnist.DefaultValidation, "training images held out for choosing the learning rate (the last N; at most a sixth of the set)")
	fs.IntVar(&s.samples, "samples", 10, "test reconstructions kept per run and shown in the grid")
	fs.IntVar(&s.parallel, "parallel", 2, "runs trained at the same time")
	fs.StringVar(&s.data, "data", "", "directory of the MNIST IDX files (default: the GoMNIST module's data folder)")
	fs.StringVar(&s.out, "out", "./fadam-out", "output directory: vqvae.md, vqvae.csv, plots, runs/ (finished runs, reused when the same command runs again) and samples/")
	fs.StringVar(&s.cache, "cache", "", "cache directory for the feature classifier (default $"+cache.EnvVar+", else fadam-go in the user cache directory)")
	fs.BoolVar(&s.quiet, "quiet", false, "no progress bar")
	if err := parseFlags(fs, args); err != nil {
		return s, err
	}
	seen := map[vqvae.Loss]bool{}
	for _, f := range splitList(*lossFlag) {
		l, err := vqvae.ParseLoss(f)
		if err != nil {
			return s, asUsage(err)
		}
		if !seen[l] {
			s.losses, seen[l] = append(s.losses, l), true
		}
	}
	s.optimizers = splitList(*optFlag)
	for _, o := range s.optimizers {
		if o != "fadam" && o != "adamw" {
			return s, usagef("--optimizers: unknown optimizer %q (want fadam or adamw)", o)
		}
	}
	switch {
	case len(s.losses) == 0 || len(s.optimizers) == 0:
		return s, usagef("--loss and --optimizers must each name at least one")
	case s.steps <= 0 || s.seeds <= 0 || s.batch <= 0 || s.evalEvery <= 0 || s.clsSteps <= 0 || s.parallel <= 0 || s.curve <= 0 || s.validation <= 0:
		return s, usagef("--steps, --seeds, --batch, --eval-every, --cls-steps, --parallel, --curve-images and --validation must be positive")
	case s.restartEvery < 0 || s.warmup < 0 || s.samples < 0:
		return s, usagef("--restart-every, --warmup and --samples must be non-negative")
	}
	return s, nil
}

// vqvaeOptimizer is the named optimizer with the paper's VQ-VAE hyperparameters (β₁ = 0.9,
// β₂ = 0.99, ε = 1e-8, λ = 1e-4) and the algorithm's own constants as in `fadam compare`
// (harness.Named): FAdam Algorithm 1's ε₂, c and ρ; AdamW is PyTorch's, without update
// clipping.
func vqvaeOptimizer(name string) (harness.Optimizer, error) {
	return harness.Named(name, vqvaeHyper())
}

func vqvaeHyper() fadam.Config {
	hp := fadam.Defaults()
	hp.Beta1, hp.Beta2, hp.Eps, hp.WeightDecay = 0.9, 0.99, 1e-8, 1e-4
	return hp
}

// loadVQVAEData reads MNIST and holds the last n training images out for validation.
func loadVQVAEData(dir string, n int) (expvq.Data, error) {
	if dir == "" {
		d, err := mnist.DefaultDir()
		if err != nil {
			return expvq.Data{}, err
		}
		dir = d
	}
	full, test, err := mnist.Load(dir)
	if err != nil {
		return expvq.Data{}, err
	}
	if n > full.N/6 {
		return expvq.Data{}, usagef("--validation %d: hold out at most a sixth of the %d training images", n, full.N)
	}
	train, val, err := full.HoldOut(n)
	if err != nil {
		return expvq.Data{}, asUsage(err)
	}
	return expvq.Data{Train: train, Validation: val, Test: test}, nil
}

func runVQVAE(ctx context.Context, args []string, stdout io.Writer) error {
	s, err := parseVQVAEFlags(args)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := harness.CheckWritable(s.out); err != nil {
		return err
	}
	data, err := loadVQVAEData(s.data, s.validation)
	if err != nil {
		return err
	}

	// The feature classifier: AdamW at a constant 1e-3, trained once and cached.
	adamw, err := harness.Named("adamw", vqvaeHyper())
	if err != nil {
		return err
	}
	clsCfg := expvq.ClassifierConfig{Steps: s.clsSteps, Batch: 64, Seed: 1, Opt: adamw.Config, MinAccuracy: 0.98}
	clsCfg.Opt.LR = 1e-3
	clsDir, err := cache.Dir(s.cache, "mnistcls")
	if err != nil {
		return err
	}
	clsPath, err := expvq.ClassifierPath(clsDir, data.Train, clsCfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "vqvae: feature classifier %s\n", clsPath)
	cls, clsInfo, err := expvq.Classifier(ctx, clsPath, data.Train, data.Validation, clsCfg, adamw.New)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "vqvae: classifier held-out accuracy %.4f (%s)\n", clsInfo.Accuracy, map[bool]string{true: "trained", false: "cached"}[clsInfo.Trained])

	var opts []harness.Optimizer
	for _, name := range s.optimizers {
		o, err := vqvaeOptimizer(name)
		if err != nil {
			return err
		}
		opts = append(opts, o)
	}
	var seeds []uint64
	for i := range s.seeds {
		seeds = append(seeds, uint64(i+1))
	}
	store := &expvq.SampleStore{Dir: filepath.Join(s.out, "samples"), N: s.samples}
	var sweeps []harness.Sweep
	var firstCfg expvq.Config
	for i, l := range s.losses {
		cfg := expvq.Config{Model: vqvae.DefaultConfig(l, s.batch), RestartEvery: s.restartEvery, CurveImages: s.curve,
			Data: data.Fingerprint(), Classifier: filepath.Base(clsPath)}
		if i == 0 {
			firstCfg = cfg
		}
		task, err := expvq.NewTask(cfg, data, cls, store)
		if err != nil {
			return asUsage(err)
		}
		task.StopOn(ctx)
		sw := harness.Sweep{Task: task, Optimizers: opts, LRs: s.lrs, Seeds: seeds, Dir: s.out, Parallel: s.parallel,
			Loop: harness.Loop{Steps: s.steps, Warmup: s.warmup, MinLRFrac: 0.1, EvalEvery: s.evalEvery, DivergeMargin: vqvaeDivergeMargin[l]}}
		if err := sw.Validate(); err != nil {
			return asUsage(err)
		}
		sweeps = append(sweeps, sw)
	}

	bar := report.NewProgress(len(sweeps)*len(opts)*len(s.lrs)*s.seeds*s.steps, "vqvae", s.quiet)
	var done atomic.Int64
	var outs []expvq.Outcome
	var runErr error
	for i, sw := range sweeps {
		sw.OnStep = func() { bar.Set(int(done.Add(1)), "") }
		sw.OnRun = func(r harness.Run) {
			if r.Reused {
				bar.Set(int(done.Add(int64(s.steps))), "")
			}
		}
		o, err := sw.Run(ctx)
		runErr = errors.Join(runErr, err)
		if o == nil {
			break
		}
		outs = append(outs, expvq.Outcome{Loss: s.losses[i], Outcome: o})
	}
	bar.Finish()

	info := expvq.ReportInfo{Command: commandLine("vqvae", args), Date: start, Machine: report.Machine(),
		WallTime: time.Since(start), Classifier: clsInfo, Data: data, Config: firstCfg, Hyper: vqvaeHyper(), Interrupted: ctx.Err() != nil}
	werr := expvq.WriteReport(s.out, outs, store, info)
	fmt.Fprint(stdout, expvq.Summary(outs))
	if werr == nil {
		fmt.Fprintf(stdout, "wrote %s (%s)\n", filepath.Join(s.out, "vqvae.md"), time.Since(start).Round(time.Second))
	}
	for _, o := range outs {
		for _, r := range o.Runs {
			if r.Err != nil && !errors.Is(r.Err, context.Canceled) {
				return errors.Join(fmt.Errorf("%s %s at %s seed %d: %w", o.Loss, r.Spec.Optimizer, harness.FormatLR(r.Spec.LR), r.Spec.Seed, r.Err), werr, runErr)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return errors.Join(fmt.Errorf("interrupted; the report covers the runs that finished, and the same command continues the sweep: %w", err), werr, runErr)
	}
	return errors.Join(werr, runErr)
}
