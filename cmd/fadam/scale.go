package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/experiment/lm"
	"github.com/fadam-go/fadam/models/gpt"
)

func init() {
	register(command{
		name:    "scale",
		summary: "the tuned FAdam − AdamW gap at three GPT sizes with a token budget proportional to size",
		about: fmt.Sprintf("Trains the byte-level GPT at %d sizes (%s parameters, context 64, batch 16) with a token budget\n"+
			"proportional to size, every optimizer at every learning rate and seed, and reports the tuned comparison\n"+
			"at each size (LR selected on validation, loss on test) and the paired gap against size.\n"+
			"The default (2 optimizers × 3 LRs × 3 seeds × 3 sizes = 54 runs) takes about 1h40m on 2 cores, estimated\n"+
			"from the CPU time per training step of the three sizes (17, 28 and 66 ms, measured one run per core),\n"+
			"two runs at a time, with the final evaluations at a third of a step per token. Interrupted, the same\n"+
			"command resumes where it stopped.",
			len(lm.ScaleLadder), paramsRange(lm.ScaleLadder)),
		run: func(ctx context.Context, args []string) error { return runScale(ctx, args, os.Stdout) },
	})
}

// Defaults of `fadam scale`.
const (
	scaleTokensPerParam = 20
	scaleLRs            = "1e-3,3e-3,1e-2"
	scaleSeeds          = 3
	quickTokensPerParam = 0.1
	quickLRs            = "3e-3,1e-2"
	quickSeeds          = 2
	quickEvalTokens     = 4096
)

func runScale(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	f := addSweepFlags(fs, scaleLRs, scaleSeeds)
	optimizers := fs.String("optimizers", "fadam,adamw", "comma-separated optimizers: "+strings.Join(harness.OptimizerNames, ", "))
	wdList := fs.String("wd", "1e-3", "comma-separated weight decays λ; with more than one, every optimizer runs at each (λ = 0 isolates FAdafactor's Fisher correction from Adafactor's unscaled λθ)")
	ratio := fs.Float64("tokens-per-param", scaleTokensPerParam, "training tokens per model parameter at every size")
	quick := fs.Bool("quick", false, fmt.Sprintf("a miniature ladder (%s params, %g tokens/param, LRs %s, %d seeds, %d test tokens) that runs in seconds",
		paramsRange(lm.QuickLadder), quickTokensPerParam, quickLRs, quickSeeds, quickEvalTokens))
	fs.StringVar(&f.out, "out", "./fadam-out/scale", "directory for scale.md, scale.csv, the plots and the run store runs/ (rerunning the same command reuses finished runs)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ladder := lm.ScaleLadder
	if *quick {
		ladder = lm.QuickLadder
		set := map[string]bool{}
		fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
		if !set["tokens-per-param"] {
			*ratio = quickTokensPerParam
		}
		if !set["lr"] {
			f.lrs = quickLRs
		}
		if !set["seeds"] {
			f.seeds = quickSeeds
		}
		if !set["test-tokens"] {
			f.testTokens = quickEvalTokens
		}
		if !set["val-tokens"] {
			f.valTokens = quickEvalTokens
		}
		if !set["curve-batches"] {
			f.curveBatches = 4
		}
	}
	if !(*ratio > 0) || math.IsInf(*ratio, 0) {
		return usagef("--tokens-per-param must be positive and finite, got %v", *ratio)
	}
	wds, err := parseFloats("wd", *wdList)
	if err != nil {
		return asUsage(err)
	}
	opts, pairs, err := compareOptimizers(*optimizers, wds)
	if err != nil {
		return asUsage(err)
	}
	// prepare checks the flags against the first rung's shape and loop.
	f.d, f.layers, f.heads, f.ctx, f.batch = ladder[0].D, ladder[0].Layers, ladder[0].Heads, ladder[0].Ctx, ladder[0].Batch
	loop0 := lm.ScaleLoop(ladder[0], *ratio, f.divergeMargin)
	f.steps, f.warmup, f.evalEvery = loop0.Steps, loop0.Warmup, loop0.EvalEvery
	if err := f.prepare(ladder...); err != nil {
		return err
	}
	lrs, _ := f.lrList()
	corpus, err := f.loadCorpus()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fadam scale: %d sizes, %g tokens/param; corpus %s\n", len(ladder), *ratio, corpus.Source)
	start := time.Now()
	rep := lm.ScaleReport{Command: commandLine("scale", args), Pairs: pairs, TokensPerParam: *ratio, Parallel: f.parallel}
	var runErr error
	for _, m := range ladder {
		cfg := f.taskConfig()
		cfg.Model = m
		task, err := lm.NewTask(corpus, cfg)
		if err != nil {
			return err
		}
		out, err := f.sweep(ctx, stdout, fmt.Sprintf("scale d=%d×%d", m.D, m.Layers), task, lm.ScaleLoop(m, *ratio, f.divergeMargin), opts, lrs)
		if out == nil {
			return err
		}
		runErr = errors.Join(runErr, finish(ctx, out, err))
		rep.Rungs = append(rep.Rungs, lm.Rung{Task: task, Outcome: out})
		if ctx.Err() != nil {
			break
		}
	}
	rep.Wall, rep.Stopped = time.Since(start), ctx.Err()
	fmt.Fprintln(stdout, rep.Table().Markdown())
	fmt.Fprintln(stdout, rep.GapTable().Markdown())
	path, werr := rep.Write(f.out)
	if werr == nil {
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	return errors.Join(runErr, werr)
}

// paramsRange is "44k–391k (8.9×)" for a ladder.
func paramsRange(ladder []gpt.Config) string {
	lo, hi := ladder[0].ParamCount(), ladder[len(ladder)-1].ParamCount()
	return fmt.Sprintf("%.0fk–%.0fk (%.1f×)", float64(lo)/1000, float64(hi)/1000, float64(hi)/float64(lo))
}
