// Package schedule provides learning-rate schedules: constant, linear warmup, cosine decay and
// linear decay, each optionally with a warmup and a floor.
//
// A Schedule maps the optimizer step number t to a learning rate. Steps count from 1, like the
// step counter t of the paper's algorithms (the first Step call is step 1); a step below 1 is
// treated as step 1. Pass the value to the optimizer before each step, for example by setting
// the learning rate from s.LR(t).
//
// Warmup is linear: over the first W steps the rate rises as peak·t/W, reaching peak at step W
// (so the first step is never taken at rate zero). Decay runs from step W, where the rate is
// peak, to step total, where it reaches floor, and stays at floor afterwards.
package schedule

import (
	"fmt"
	"math"
)

// Schedule gives the learning rate for each optimizer step, counted from 1.
type Schedule interface {
	LR(step int) float64
}

// Func adapts an ordinary function to a Schedule.
type Func func(step int) float64

// LR returns f(step).
func (f Func) LR(step int) float64 { return f(step) }

func checkRate(name string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return fmt.Errorf("schedule: %s must be a finite non-negative number, got %v", name, v)
	}
	return nil
}

func checkPeakFloor(peak, floor float64) error {
	if err := checkRate("peak learning rate", peak); err != nil {
		return err
	}
	if err := checkRate("floor learning rate", floor); err != nil {
		return err
	}
	if floor > peak {
		return fmt.Errorf("schedule: floor learning rate %v is above the peak %v", floor, peak)
	}
	return nil
}

func checkSteps(warmup, total int) error {
	if warmup < 0 {
		return fmt.Errorf("schedule: warmup steps must be non-negative, got %d", warmup)
	}
	if total <= warmup {
		return fmt.Errorf("schedule: total steps (%d) must exceed warmup steps (%d)", total, warmup)
	}
	return nil
}

// warmupFactor is the linear warmup multiplier min(1, t/W) (1 when W = 0).
func warmupFactor(step, warmup int) float64 {
	if step >= warmup {
		return 1
	}
	return float64(step) / float64(warmup)
}

// decayProgress is how far step t is from the end of warmup to total, clamped to [0, 1].
func decayProgress(step, warmup, total int) float64 {
	p := float64(step-warmup) / float64(total-warmup)
	return math.Min(1, math.Max(0, p))
}

func clampStep(step int) int { return max(step, 1) }

type constant struct{ lr float64 }

// Constant returns a schedule that gives lr at every step.
func Constant(lr float64) (Schedule, error) {
	if err := checkRate("learning rate", lr); err != nil {
		return nil, err
	}
	return constant{lr}, nil
}

func (c constant) LR(int) float64 { return c.lr }
func (c constant) String() string { return fmt.Sprintf("constant(lr=%g)", c.lr) }

type linearWarmup struct {
	peak   float64
	warmup int
}

// LinearWarmup returns a schedule that rises linearly to peak over the first warmup steps
// (peak·t/warmup at step t) and stays at peak afterwards. warmup = 0 gives a constant rate.
func LinearWarmup(peak float64, warmup int) (Schedule, error) {
	if err := checkRate("peak learning rate", peak); err != nil {
		return nil, err
	}
	if warmup < 0 {
		return nil, fmt.Errorf("schedule: warmup steps must be non-negative, got %d", warmup)
	}
	return linearWarmup{peak, warmup}, nil
}

func (s linearWarmup) LR(step int) float64 {
	return s.peak * warmupFactor(clampStep(step), s.warmup)
}

func (s linearWarmup) String() string {
	return fmt.Sprintf("linear-warmup(peak=%g, warmup=%d)", s.peak, s.warmup)
}

type cosine struct {
	peak, floor   float64
	warmup, total int
}

// Cosine returns a cosine decay from peak to floor over total steps, without warmup:
// floor + (peak−floor)·(1+cos(π·t/total))/2, and floor after step total.
func Cosine(peak, floor float64, total int) (Schedule, error) {
	return WarmupCosine(peak, floor, 0, total)
}

// WarmupCosine returns a linear warmup to peak over warmup steps followed by a cosine decay that
// reaches floor at step total: at step t ≥ warmup the rate is
// floor + (peak−floor)·(1+cos(π·p))/2 with p = (t−warmup)/(total−warmup), and floor after total.
func WarmupCosine(peak, floor float64, warmup, total int) (Schedule, error) {
	if err := checkPeakFloor(peak, floor); err != nil {
		return nil, err
	}
	if err := checkSteps(warmup, total); err != nil {
		return nil, err
	}
	return cosine{peak, floor, warmup, total}, nil
}

func (s cosine) LR(step int) float64 {
	step = clampStep(step)
	if step < s.warmup {
		return s.peak * warmupFactor(step, s.warmup)
	}
	p := decayProgress(step, s.warmup, s.total)
	return s.floor + (s.peak-s.floor)*(1+math.Cos(math.Pi*p))/2
}

func (s cosine) String() string {
	return fmt.Sprintf("cosine(peak=%g, floor=%g, warmup=%d, total=%d)", s.peak, s.floor, s.warmup, s.total)
}

type linearDecay struct {
	peak, floor   float64
	warmup, total int
}

// LinearDecay returns a linear warmup to peak over warmup steps followed by a linear decay that
// reaches floor at step total: peak + (floor−peak)·p with p = (t−warmup)/(total−warmup), and
// floor after total.
func LinearDecay(peak, floor float64, warmup, total int) (Schedule, error) {
	if err := checkPeakFloor(peak, floor); err != nil {
		return nil, err
	}
	if err := checkSteps(warmup, total); err != nil {
		return nil, err
	}
	return linearDecay{peak, floor, warmup, total}, nil
}

func (s linearDecay) LR(step int) float64 {
	step = clampStep(step)
	if step < s.warmup {
		return s.peak * warmupFactor(step, s.warmup)
	}
	return s.peak + (s.floor-s.peak)*decayProgress(step, s.warmup, s.total)
}

func (s linearDecay) String() string {
	return fmt.Sprintf("linear-decay(peak=%g, floor=%g, warmup=%d, total=%d)", s.peak, s.floor, s.warmup, s.total)
}
