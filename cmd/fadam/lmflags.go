package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"

	"github.com/fadam-go/fadam/data/text"
	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/experiment/lm"
	"github.com/fadam-go/fadam/models/gpt"
	"github.com/fadam-go/fadam/report"
)

// lmStepHook, when set (by tests), is called after every training step with the number of
// steps done over all runs of an LM sweep.
var lmStepHook func(done int)

// lmFlags are the model, training, evaluation and sweep flags shared by the commands that train
// the byte-level GPT (compare, ablate, scale).
type lmFlags struct {
	steps, warmup                int
	lrs                          string
	d, layers, heads, ctx, batch int
	evalEvery, curveBatches      int
	valTokens, testTokens        int
	divergeMargin                float64
	corpus                       string
	seeds, parallel              int
	out                          string
	quiet                        bool
}

// Defaults of the LM commands.
const (
	compareSteps     = 1200
	lmMinLRFrac      = 0.1 // the cosine decay ends at this fraction of the peak learning rate
	lmDivergeMargin  = 1.0 // nats/byte above the untrained model's loss
	lmValTokens      = 1 << 18
	lmCurveBatches   = 8
	compareDefaultLR = "3e-3"
)

// addLMFlags registers the shared flags on fs, with steps, lrs and seeds as the defaults of
// --steps, --lr and --seeds.
func addLMFlags(fs *flag.FlagSet, steps int, lrs string, seeds int) *lmFlags {
	f := addSweepFlags(fs, lrs, seeds)
	fs.IntVar(&f.steps, "steps", steps, "training steps per run")
	fs.IntVar(&f.warmup, "warmup", 50, "linear warmup steps before the cosine decay")
	fs.IntVar(&f.d, "d", 64, "model width")
	fs.IntVar(&f.layers, "layers", 2, "transformer blocks")
	fs.IntVar(&f.heads, "heads", 4, "attention heads")
	fs.IntVar(&f.ctx, "ctx", 64, "context length in bytes")
	fs.IntVar(&f.batch, "batch", 16, "sequences per batch")
	fs.IntVar(&f.evalEvery, "eval-every", 50, "evaluate the curve every this many steps (and after the last)")
	return f
}

// addSweepFlags registers the flags of any LM sweep: learning rates, seeds, evaluation sizes,
// divergence, corpus and parallelism.
func addSweepFlags(fs *flag.FlagSet, lrs string, seeds int) *lmFlags {
	f := &lmFlags{}
	fs.StringVar(&f.lrs, "lr", lrs, "comma-separated peak learning rates, each run by every optimizer (e.g. 1e-3,3e-3,1e-2)")
	fs.IntVar(&f.curveBatches, "curve-batches", lmCurveBatches, "validation batches behind each point of the curve")
	fs.IntVar(&f.valTokens, "val-tokens", lmValTokens, "tokens of validation text behind the final validation loss (learning-rate selection)")
	fs.IntVar(&f.testTokens, "test-tokens", lm.DefaultEvalTokens, "tokens of test text behind the final test loss (or the whole test split when smaller)")
	fs.Float64Var(&f.divergeMargin, "diverge-margin", lmDivergeMargin, "a run whose loss exceeds the untrained model's by this many nats/byte is recorded as diverged")
	fs.StringVar(&f.corpus, "corpus", "", "text file or directory to train on (default: the Go standard library source)")
	fs.IntVar(&f.seeds, "seeds", seeds, "seeds per optimizer and learning rate (1, 2, …)")
	fs.IntVar(&f.parallel, "parallel", runtime.GOMAXPROCS(0), "runs trained at once")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	return f
}

// parseFloats parses a comma-separated list of finite numbers; name is the flag, for errors.
func parseFloats(name, list string) ([]float64, error) {
	out, err := harness.ParseFloats(list, nil)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", name, err)
	}
	return out, nil
}

// check validates the flags that do not need the corpus.
func (f *lmFlags) check() error {
	if f.seeds <= 0 || f.parallel <= 0 {
		return fmt.Errorf("--seeds (%d) and --parallel (%d) must be positive", f.seeds, f.parallel)
	}
	lrs, err := f.lrList()
	if err != nil {
		return err
	}
	for _, lr := range lrs {
		if lr <= 0 {
			return fmt.Errorf("--lr: %v is not positive", lr)
		}
	}
	if err := f.loop().Validate(); err != nil {
		return err
	}
	return f.taskConfig().Validate()
}

func (f *lmFlags) lrList() ([]float64, error) { return parseFloats("lr", f.lrs) }

func (f *lmFlags) seedList() []uint64 {
	s := make([]uint64, f.seeds)
	for i := range s {
		s[i] = uint64(i + 1)
	}
	return s
}

func (f *lmFlags) model() gpt.Config {
	return gpt.Config{D: f.d, Layers: f.layers, Heads: f.heads, Ctx: f.ctx, Batch: f.batch}
}

func (f *lmFlags) taskConfig() lm.Config {
	return lm.Config{Model: f.model(), CurveBatches: f.curveBatches, ValTokens: f.valTokens, TestTokens: f.testTokens}
}

func (f *lmFlags) loop() harness.Loop {
	return harness.Loop{Steps: f.steps, Warmup: f.warmup, MinLRFrac: lmMinLRFrac, EvalEvery: f.evalEvery, DivergeMargin: f.divergeMargin}
}

// loadCorpus loads --corpus, or the Go standard library source without it.
func (f *lmFlags) loadCorpus() (*text.Corpus, error) {
	if f.corpus == "" {
		return text.LoadGoSource()
	}
	return text.Load(f.corpus)
}

// prepare checks the flags, that --out is writable and that the runs fit in memory, before
// anything is loaded or trained.
func (f *lmFlags) prepare(models ...gpt.Config) error {
	if err := f.check(); err != nil {
		return asUsage(err)
	}
	if err := harness.CheckWritable(f.out); err != nil {
		return err
	}
	if len(models) == 0 {
		models = []gpt.Config{f.model()}
	}
	for _, m := range models {
		if err := lm.CheckMemory(m, f.parallel); err != nil {
			return asUsage(err)
		}
	}
	return nil
}

// sweep runs opts over the flags' learning rates and seeds on task, with a progress bar, and
// says on stdout how many runs it reused.
func (f *lmFlags) sweep(ctx context.Context, stdout io.Writer, label string, task *lm.Task, loop harness.Loop, opts []harness.Optimizer, lrs []float64) (*harness.Outcome, error) {
	s := harness.Sweep{Task: task, Loop: loop, Optimizers: opts, LRs: lrs, Seeds: f.seedList(), Dir: f.out, Parallel: f.parallel}
	specs, err := s.Specs()
	if err != nil {
		return nil, err
	}
	bar := report.NewProgress(len(specs)*loop.Steps, label, f.quiet)
	var done atomic.Int64
	s.OnStep = func() {
		n := int(done.Add(1))
		bar.Set(n, "")
		if lmStepHook != nil {
			lmStepHook(n)
		}
	}
	out, err := s.Run(ctx)
	bar.Finish()
	if out != nil {
		fmt.Fprintf(stdout, "%s: %s.\n", label, out.Describe())
	}
	return out, err
}
