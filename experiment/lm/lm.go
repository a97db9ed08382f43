// Package lm trains the byte-level GPT of models/gpt on a text corpus with any optimizer, and
// records train and evaluation loss along the way. It is the engine of `fadam compare` and
// `fadam ablate`.
package lm

import (
	"context"
	"fmt"
	"github.com/fadam-go/fadam/experiment/paramgroup"
	"math"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/text"
	"github.com/fadam-go/fadam/models/gpt"
	"github.com/fadam-go/fadam/nn"
	"github.com/fadam-go/fadam/schedule"
)

// OptimizerFactory builds an optimizer for the given hyperparameters. Train calls it twice: once
// for the tensors that take weight decay and once, with WeightDecay = 0, for those that do not.
type OptimizerFactory func(fadam.Config) (fadam.Stepper, error)

// LRSetter is implemented by optimizers whose learning rate can change between steps; Train
// needs it to follow its warmup-cosine schedule.
type LRSetter = paramgroup.LRSetter

// Config describes one training run.
type Config struct {
	Model       gpt.Config
	Steps       int          // optimizer steps
	Warmup      int          // linear warmup steps (capped at Steps−1)
	Opt         fadam.Config // hyperparameters; Opt.LR is the peak learning rate
	MinLRFrac   float64      // the cosine decay ends at MinLRFrac·Opt.LR
	EvalEvery   int          // evaluate every EvalEvery steps, and after the last step
	EvalBatches int          // number of fixed validation batches per evaluation
	Seed        uint64       // model initialisation and training batches
}

// EvalSeed seeds the validation batches: the same for every run, optimizer and seed.
const EvalSeed = 0x6576616c

// Point is one evaluation.
type Point struct {
	Step      int
	TrainLoss float64       // mean training loss over the steps since the previous point
	EvalLoss  float64       // mean loss over the validation batches
	Elapsed   time.Duration // wall time since the run started, evaluations included
}

// Result is what a run produced, complete or not.
type Result struct {
	Points     []Point
	Steps      int           // optimizer steps completed
	DivergedAt int           // the step whose training or evaluation loss was NaN or Inf; 0 if none
	TrainTime  time.Duration // time spent in training steps (evaluations excluded)
	Tokens     int           // training tokens processed
	Params     int           // model parameters
}

// Diverged reports whether the run stopped on a NaN or Inf loss.
func (r Result) Diverged() bool { return r.DivergedAt > 0 }

// TokensPerSec is the training throughput, evaluations excluded.
func (r Result) TokensPerSec() float64 {
	if r.TrainTime <= 0 {
		return 0
	}
	return float64(r.Tokens) / r.TrainTime.Seconds()
}

// Final returns the last evaluation point, and false if there is none.
func (r Result) Final() (Point, bool) {
	if len(r.Points) == 0 {
		return Point{}, false
	}
	return r.Points[len(r.Points)-1], true
}

// Status is "ok", "diverged at step N" or "stopped at step N" for a run that did not finish.
func (r Result) Status(want int) string {
	switch {
	case r.Diverged():
		return fmt.Sprintf("diverged at step %d", r.DivergedAt)
	case r.Steps < want:
		return fmt.Sprintf("stopped at step %d", r.Steps)
	}
	return "ok"
}

// Validate reports what is wrong with c, if anything.
func (c Config) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	switch {
	case c.Steps <= 0:
		return fmt.Errorf("lm: steps must be positive, got %d", c.Steps)
	case c.Warmup < 0:
		return fmt.Errorf("lm: warmup must be non-negative, got %d", c.Warmup)
	case c.EvalEvery <= 0 || c.EvalBatches <= 0:
		return fmt.Errorf("lm: eval-every (%d) and eval batches (%d) must be positive", c.EvalEvery, c.EvalBatches)
	case !(c.Opt.LR > 0) || math.IsInf(c.Opt.LR, 0):
		return fmt.Errorf("lm: learning rate must be positive and finite, got %v", c.Opt.LR)
	case c.MinLRFrac < 0 || c.MinLRFrac > 1:
		return fmt.Errorf("lm: min-lr fraction must be in [0, 1], got %v", c.MinLRFrac)
	}
	return nil
}

// ErrNoLRSetter is wrapped by the error Train returns for an optimizer without SetLR.
var ErrNoLRSetter = paramgroup.ErrNoLRSetter

// Train trains a fresh model (initialised from cfg.Seed) on corpus.Train and evaluates it on a
// fixed set of batches from corpus.Val. Weight decay applies to matrices only (gpt.Decays); the
// biases and LayerNorm parameters get their own optimizer with WeightDecay = 0, so every
// optimizer sees the same exclusion. onStep, if not nil, is called after every step.
//
// A NaN or Inf loss ends the run early with Result.DivergedAt set and a nil error, so a sweep
// can go on. When ctx is cancelled, Train returns what it finished and ctx's error.
func Train(ctx context.Context, corpus *text.Corpus, cfg Config, newOpt OptimizerFactory, onStep func(step int, loss float64)) (Result, error) {
	var res Result
	if err := cfg.Validate(); err != nil {
		return res, err
	}
	mc := cfg.Model
	model, err := gpt.New(mc, cfg.Seed)
	if err != nil {
		return res, err
	}
	res.Params = nn.Count(model.Params())
	train, err := text.NewSampler(corpus.Train, mc.Batch, mc.Ctx, cfg.Seed)
	if err != nil {
		return res, fmt.Errorf("lm: training text: %w", err)
	}
	val, err := text.NewSampler(corpus.Val, mc.Batch, mc.Ctx, EvalSeed)
	if err != nil {
		return res, fmt.Errorf("lm: validation text: %w", err)
	}
	bt := mc.Batch * mc.Ctx
	evalIn, evalTg := make([][]int32, cfg.EvalBatches), make([][]int32, cfg.EvalBatches)
	for i := range evalIn {
		evalIn[i], evalTg[i] = make([]int32, bt), make([]int32, bt)
		val.Next(evalIn[i], evalTg[i])
	}
	sched, err := schedule.WarmupCosine(cfg.Opt.LR, cfg.Opt.LR*cfg.MinLRFrac, min(cfg.Warmup, cfg.Steps-1), cfg.Steps)
	if err != nil {
		return res, fmt.Errorf("lm: %w", err)
	}

	groups, err := paramgroup.New(model.Params(), gpt.Decays, cfg.Opt, newOpt)
	if err != nil {
		return res, fmt.Errorf("lm: %w", err)
	}

	in, tg := make([]int32, bt), make([]int32, bt)
	start := time.Now()
	var sinceEval float64
	var nSince int
	for step := 1; step <= cfg.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		t0 := time.Now()
		train.Next(in, tg)
		loss, err := model.Forward(in, tg)
		if err != nil {
			return res, err
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			res.DivergedAt = step
			return res, nil
		}
		model.Backward()
		if err := groups.Step(sched.LR(step)); err != nil {
			return res, fmt.Errorf("lm: step %d: %w", step, err)
		}
		res.TrainTime += time.Since(t0)
		res.Steps, res.Tokens = step, res.Tokens+bt
		sinceEval += loss
		nSince++
		if onStep != nil {
			onStep(step, loss)
		}
		if step%cfg.EvalEvery == 0 || step == cfg.Steps {
			var sum float64
			for i := range evalIn {
				l, err := model.Forward(evalIn[i], evalTg[i])
				if err != nil {
					return res, err
				}
				sum += l
			}
			ev := sum / float64(len(evalIn))
			if math.IsNaN(ev) || math.IsInf(ev, 0) {
				res.DivergedAt = step
				return res, nil
			}
			res.Points = append(res.Points, Point{Step: step, TrainLoss: sinceEval / float64(nSince), EvalLoss: ev, Elapsed: time.Since(start)})
			sinceEval, nSince = 0, 0
		}
	}
	return res, nil
}
