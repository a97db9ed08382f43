package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/nn"
	"github.com/fadam-go/fadam/schedule"
)

// Split names the data an evaluation reads.
type Split int

const (
	// Curve is a cheap fixed subset of the validation data, evaluated during training.
	Curve Split = iota
	// Validation is the validation data the tuned comparison selects learning rates on.
	Validation
	// Test is the held-out data the final numbers are reported on; selection never reads it.
	Test
)

// String returns "curve", "validation" or "test".
func (s Split) String() string {
	switch s {
	case Curve:
		return "curve"
	case Validation:
		return "validation"
	case Test:
		return "test"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// Metrics maps a metric's name to its value. Every metric is lower-is-better.
type Metrics map[string]float64

// Info describes a task to the harness and its reports.
type Info struct {
	Name string // short identifier: "lm", "asr", "vqvae"
	// Metric is the final metric, lower is better ("loss", "wer"); Model.Evaluate must return it
	// for Validation and Test. Tuned selection minimises it on Validation.
	Metric string
	// CurveMetric is the metric Evaluate(Curve) returns that curves and divergence checks
	// use; it must be on the scale of the training loss (the divergence threshold is stated in
	// its units).
	CurveMetric string
	// Covers says in words how much data each split's number covers ("1,048,576 tokens").
	Covers map[Split]string
}

// Task is one experiment: its model, data and metrics. A Task is shared by the runs of a sweep,
// so its methods must be safe for concurrent use.
type Task interface {
	Info() Info
	// Config is the task's whole configuration (model, data, batch size, …) as a value that
	// encodes to JSON. A stored run is reused only when this encodes to the same bytes.
	Config() any
	// Decays reports whether a parameter takes weight decay (matrices, typically).
	Decays(p *fadam.Param) bool
	// NewModel builds a fresh model initialised from seed, whose training batches are drawn
	// from seed too, so that runs with the same seed see the same initialisation and data.
	NewModel(seed uint64) (Model, error)
}

// Model is one run's model with its data.
type Model interface {
	// Params are the tensors the optimizer steps.
	Params() []*fadam.Param
	// TrainStep computes the loss on the next training batch and leaves its gradients in
	// Params.
	TrainStep() (loss float64, err error)
	// Evaluate returns the metrics on split without changing the model.
	Evaluate(split Split) (Metrics, error)
}

// Optimizer is one contender: a name, the hyperparameters it is built with (Config.LR is
// replaced by each learning rate of the grid) and its factory.
type Optimizer struct {
	Name string
	// Setting describes anything the factory changes that Config does not show (an ablation's
	// value, a variant); it is part of the run's identity.
	Setting string
	Config  fadam.Config
	New     func(fadam.Config) (fadam.Stepper, error)
}

// Loop is the training loop's configuration, the same for every run of a sweep.
type Loop struct {
	Steps     int     // optimizer steps
	Warmup    int     // linear warmup steps (capped at Steps−1), then cosine decay
	MinLRFrac float64 // the cosine decay ends at MinLRFrac × the peak learning rate
	EvalEvery int     // evaluate the curve every EvalEvery steps, and after the last step
	// DivergeMargin: a run whose mean training loss over an evaluation interval, or whose
	// curve metric, exceeds the untrained model's curve metric plus this margin has diverged.
	// Non-finite losses and gradients always count as divergence.
	DivergeMargin float64
}

// Validate reports what is wrong with l, if anything.
func (l Loop) Validate() error {
	switch {
	case l.Steps <= 0:
		return fmt.Errorf("harness: steps must be positive, got %d", l.Steps)
	case l.Warmup < 0:
		return fmt.Errorf("harness: warmup must be non-negative, got %d", l.Warmup)
	case l.EvalEvery <= 0:
		return fmt.Errorf("harness: eval-every must be positive, got %d", l.EvalEvery)
	case !(l.MinLRFrac >= 0 && l.MinLRFrac <= 1):
		return fmt.Errorf("harness: min-lr fraction must be in [0, 1], got %v", l.MinLRFrac)
	case !(l.DivergeMargin > 0) || math.IsInf(l.DivergeMargin, 0):
		return fmt.Errorf("harness: divergence margin must be positive and finite, got %v", l.DivergeMargin)
	}
	return nil
}

// Spec identifies one run completely: two runs with equal specs (as JSON) give the same result.
type Spec struct {
	Task       string          `json:"task"`
	TaskConfig json.RawMessage `json:"task_config"`
	Loop       Loop            `json:"loop"`
	Optimizer  string          `json:"optimizer"`
	Setting    string          `json:"setting,omitempty"`
	Config     fadam.Config    `json:"optimizer_config"` // with LR = the peak learning rate
	LR         float64         `json:"lr"`
	Seed       uint64          `json:"seed"`
}

// Point is one curve evaluation.
type Point struct {
	Step int `json:"step"`
	// TrainLoss is the mean training loss over the steps since the previous point (NaN at step 0).
	TrainLoss float64 `json:"train_loss"`
	// Value is the curve metric on the Curve split.
	Value   float64       `json:"value"`
	Elapsed time.Duration `json:"elapsed_ns"` // since the run started
}

// Result is what one run produced.
type Result struct {
	Steps int `json:"steps"` // optimizer steps completed
	// DivergedAt is the step at which the run diverged, 0 if it did not; Reason says how.
	DivergedAt int    `json:"diverged_at,omitempty"`
	Reason     string `json:"reason,omitempty"`
	// Threshold is the divergence threshold: the untrained model's curve metric plus the margin.
	Threshold float64 `json:"threshold"`
	Curve     []Point `json:"curve"`
	// Validation and Test are the final metrics of a run that finished without diverging.
	Validation Metrics       `json:"validation,omitempty"`
	Test       Metrics       `json:"test,omitempty"`
	TrainTime  time.Duration `json:"train_time_ns"` // training steps only
	Wall       time.Duration `json:"wall_ns"`       // the whole run, evaluations included
	Params     int           `json:"params"`
	// Code is the revision of the code that trained the run (see Revision); empty when the
	// build carried none.
	Code string `json:"code,omitempty"`
}

// Diverged reports whether the run diverged.
func (r Result) Diverged() bool { return r.DivergedAt > 0 }

// Complete reports whether the run took every step of loop without diverging and has its
// final metrics.
func (r Result) Complete(steps int) bool {
	return !r.Diverged() && r.Steps == steps && r.Validation != nil && r.Test != nil
}

// Status is "ok", "diverged at step N (reason)" or "stopped at step N".
func (r Result) Status(steps int) string {
	switch {
	case r.Diverged():
		return fmt.Sprintf("diverged at step %d (%s)", r.DivergedAt, r.Reason)
	case !r.Complete(steps):
		return fmt.Sprintf("stopped at step %d", r.Steps)
	}
	return "ok"
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// finiteGrads reports whether every gradient is finite.
func finiteGrads(ps []*fadam.Param) bool {
	for _, p := range ps {
		for _, g := range p.Grad {
			if g-g != 0 { // NaN or ±Inf
				return false
			}
		}
	}
	return true
}

// ErrMissingMetric is wrapped by the error Train returns when an evaluation lacks the task's
// metric.
var ErrMissingMetric = errors.New("harness: evaluation lacks the task's metric")

// Train runs one training run: it builds the model for seed and the optimizer (parameters for
// which Task.Decays is false get λ = 0), follows the warmup-cosine schedule from lr, evaluates the curve before
// training and every loop.EvalEvery steps, and the Validation and Test metrics after the last
// step. onStep, if not nil, is called after every step.
//
// Divergence (a non-finite loss or gradient, or a loss above Result.Threshold) ends the run
// with Result.DivergedAt set and a nil error. When ctx is cancelled, Train returns what it
// finished and ctx's error.
func Train(ctx context.Context, task Task, loop Loop, opt Optimizer, lr float64, seed uint64, onStep func()) (res Result, err error) {
	start := time.Now()
	defer func() { res.Wall, res.Code = time.Since(start), Revision() }()
	if err := loop.Validate(); err != nil {
		return res, err
	}
	if !(lr > 0) || math.IsInf(lr, 0) {
		return res, fmt.Errorf("harness: learning rate must be positive and finite, got %v", lr)
	}
	info := task.Info()
	model, err := task.NewModel(seed)
	if err != nil {
		return res, err
	}
	ps := model.Params()
	res.Params = nn.Count(ps)
	sched, err := schedule.WarmupCosine(lr, lr*loop.MinLRFrac, min(loop.Warmup, loop.Steps-1), loop.Steps)
	if err != nil {
		return res, fmt.Errorf("harness: %w", err)
	}
	hp := opt.Config
	hp.LR = lr
	stepOpt, err := newStepper(ps, task.Decays, hp, opt.New)
	if err != nil {
		return res, fmt.Errorf("harness: %s: %w", opt.Name, err)
	}
	curve := func(step int, trainLoss float64) (float64, error) {
		m, err := model.Evaluate(Curve)
		if err != nil {
			return 0, fmt.Errorf("harness: evaluating at step %d: %w", step, err)
		}
		v, ok := m[info.CurveMetric]
		if !ok {
			return 0, fmt.Errorf("%w %q (curve)", ErrMissingMetric, info.CurveMetric)
		}
		res.Curve = append(res.Curve, Point{Step: step, TrainLoss: trainLoss, Value: v, Elapsed: time.Since(start)})
		return v, nil
	}
	untrained, err := curve(0, math.NaN())
	if err != nil {
		return res, err
	}
	if !finite(untrained) {
		return res, fmt.Errorf("harness: the untrained model's %s is %v", info.CurveMetric, untrained)
	}
	res.Threshold = untrained + loop.DivergeMargin
	diverge := func(step int, format string, args ...any) (Result, error) {
		res.DivergedAt, res.Reason = step, fmt.Sprintf(format, args...)
		return res, nil // the deferred function still sets res.Wall in the returned value
	}
	var sum float64
	var n int
	for step := 1; step <= loop.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		t0 := time.Now()
		loss, err := model.TrainStep()
		if err != nil {
			return res, fmt.Errorf("harness: step %d: %w", step, err)
		}
		if !finite(loss) {
			return diverge(step, "training loss %v", loss)
		}
		if !finiteGrads(ps) {
			return diverge(step, "non-finite gradient")
		}
		if err := stepOpt(sched.LR(step)); err != nil {
			return res, fmt.Errorf("harness: %s step %d: %w", opt.Name, step, err)
		}
		res.TrainTime += time.Since(t0)
		res.Steps = step
		sum += loss
		n++
		if onStep != nil {
			onStep()
		}
		if step%loop.EvalEvery != 0 && step != loop.Steps {
			continue
		}
		mean := sum / float64(n)
		sum, n = 0, 0
		if mean > res.Threshold {
			return diverge(step, "mean training loss %.4g above the threshold %.4g", mean, res.Threshold)
		}
		v, err := curve(step, mean)
		if err != nil {
			return res, err
		}
		if !finite(v) || v > res.Threshold {
			return diverge(step, "%s %.4g above the threshold %.4g", info.CurveMetric, v, res.Threshold)
		}
	}
	for _, s := range []Split{Validation, Test} {
		m, err := model.Evaluate(s)
		if err != nil {
			return res, fmt.Errorf("harness: final %s evaluation: %w", s, err)
		}
		v, ok := m[info.Metric]
		if !ok {
			return res, fmt.Errorf("%w %q (%s)", ErrMissingMetric, info.Metric, s)
		}
		if !finite(v) {
			return diverge(loop.Steps, "%s %s is %v", s, info.Metric, v)
		}
		if s == Validation {
			res.Validation = m
		} else {
			res.Test = m
		}
	}
	return res, nil
}
