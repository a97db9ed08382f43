package lm

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"testing"
)

func TestSweepAndSummarize(t *testing.T) {
	good, _ := sgdFactory(0)
	bad, _ := sgdFactory(3)
	cfg := tinyConfig()
	cfg.Steps = 20
	var steps atomic.Int64
	runs := Sweep(context.Background(), testCorpus(), cfg,
		[]Optimizer{{"good", good}, {"bad", bad}}, []uint64{1, 2}, 2, func() { steps.Add(1) })
	if len(runs) != 4 || runs[0].Optimizer != "good" || runs[1].Seed != 2 || runs[2].Optimizer != "bad" {
		t.Fatalf("runs out of order: %+v", runs)
	}
	// Parallel runs give what a run alone gives.
	alone, err := Train(context.Background(), testCorpus(), cfg, good, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := alone.Points[1].EvalLoss, runs[0].Result.Points[1].EvalLoss; a != b {
		t.Fatalf("eval loss alone %v, in sweep %v", a, b)
	}
	if runs[0].Result.Points[1].EvalLoss == runs[1].Result.Points[1].EvalLoss {
		t.Fatal("seeds 1 and 2 gave identical runs")
	}
	if got := steps.Load(); got != 2*20+2*3 {
		t.Fatalf("onStep called %d times", got)
	}
	sum := Summarize(runs, cfg.Steps)
	if len(sum) != 2 || sum[0].Completed != 2 || sum[1].Completed != 0 || len(sum[1].Divergence) != 2 {
		t.Fatalf("summary %+v", sum)
	}
	if sum[1].Divergence[0] != "diverged at step 4" || !math.IsNaN(sum[1].EvalMean) {
		t.Fatalf("bad optimizer summary %+v", sum[1])
	}
	if m, _, n := PairedDifference(runs, "good", "bad", cfg.Steps); n != 0 || !math.IsNaN(m) {
		t.Fatalf("pairs with diverged runs: %v, %d", m, n)
	}
	e1, e2 := runs[0].Result.Points[1].EvalLoss, runs[1].Result.Points[1].EvalLoss
	m := (e1 + e2) / 2
	if math.Abs(sum[0].EvalMean-m) > 1e-12 || math.Abs(sum[0].EvalStd-math.Abs(e1-e2)/math.Sqrt2) > 1e-12 {
		t.Fatalf("eval %v ± %v from %v, %v", sum[0].EvalMean, sum[0].EvalStd, e1, e2)
	}
}

func TestSweepCancel(t *testing.T) {
	good, _ := sgdFactory(0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int64
	runs := Sweep(ctx, testCorpus(), tinyConfig(), []Optimizer{{"a", good}, {"b", good}}, []uint64{1, 2}, 1, func() {
		if n.Add(1) == 35 { // during the second run
			cancel()
		}
	})
	if runs[0].Err != nil || runs[0].Result.Steps != 30 {
		t.Fatalf("first run: %v, %d steps", runs[0].Err, runs[0].Result.Steps)
	}
	if !errors.Is(runs[1].Err, context.Canceled) || runs[1].Result.Steps != 5 {
		t.Fatalf("second run: %v, %d steps", runs[1].Err, runs[1].Result.Steps)
	}
	for _, r := range runs[2:] {
		if !errors.Is(r.Err, context.Canceled) || r.Result.Steps != 0 {
			t.Fatalf("unstarted run: %+v", r)
		}
	}
	s := Summarize(runs, 30)
	if s[0].Completed != 1 || s[1].Completed != 0 {
		t.Fatalf("summary %+v", s)
	}
}

func TestPairedDifference(t *testing.T) {
	run := func(opt string, seed uint64, loss float64) Run {
		return Run{Optimizer: opt, Seed: seed, Result: Result{Steps: 10, Points: []Point{{Step: 10, EvalLoss: loss}}}}
	}
	runs := []Run{run("a", 1, 2.0), run("a", 2, 3.0), run("a", 3, 1.0), run("b", 1, 2.5), run("b", 2, 3.1)}
	m, s, n := PairedDifference(runs, "a", "b", 10)
	// differences −0.5 and −0.1 (seed 3 has no partner)
	if n != 2 || math.Abs(m+0.3) > 1e-12 || math.Abs(s-math.Sqrt(0.08)) > 1e-12 {
		t.Fatalf("mean %v, std %v, n %d", m, s, n)
	}
}
