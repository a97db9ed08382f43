package lm

import (
	"context"
	"github.com/fadam-go/fadam/experiment/runpool"

	"github.com/fadam-go/fadam/data/text"
	"github.com/fadam-go/fadam/report"
)

// Optimizer is a named optimizer factory, one contender of a comparison.
type Optimizer struct {
	Name string
	New  OptimizerFactory
}

// Run is one training run of a sweep.
type Run struct {
	Optimizer string
	Seed      uint64
	Result    Result
	Err       error // nil for a completed or diverged run; ctx's error for one cut short or never started
}

// Sweep trains every optimizer with every seed, each from cfg with Seed replaced, and returns
// the runs ordered by optimizer, then seed. Up to parallel runs train at once (each run's result
// does not depend on this). onStep, if not nil, is called after every step of every run, from
// several goroutines at once. When ctx is cancelled, the runs in flight stop, the rest never
// start, and their Err is ctx's error; the returned runs still hold whatever finished.
func Sweep(ctx context.Context, corpus *text.Corpus, cfg Config, opts []Optimizer, seeds []uint64, parallel int, onStep func()) []Run {
	runs := make([]Run, 0, len(opts)*len(seeds))
	for _, o := range opts {
		for _, s := range seeds {
			runs = append(runs, Run{Optimizer: o.Name, Seed: s})
		}
	}
	factory := make(map[string]OptimizerFactory, len(opts))
	for _, o := range opts {
		factory[o.Name] = o.New
	}
	order := make([]int, len(runs))
	for i := range order {
		order[i] = i
	}
	runpool.Run(ctx, order, parallel, func(i int) {
		r := &runs[i]
		c := cfg
		c.Seed = r.Seed
		var step func(int, float64)
		if onStep != nil {
			step = func(int, float64) { onStep() }
		}
		r.Result, r.Err = Train(ctx, corpus, c, factory[r.Optimizer], step)
	}, func(i int, err error) { runs[i].Err = err })
	return runs
}

// Summary aggregates the runs of one optimizer.
type Summary struct {
	Optimizer string
	Runs      int // runs attempted
	Completed int // runs that finished every step without diverging
	// Divergence lists the status of each run that diverged ("diverged at step N").
	Divergence []string
	// Mean and sample standard deviation over completed runs of the final training loss (mean
	// over the last evaluation interval) and of the final evaluation loss; NaN without runs.
	TrainMean, TrainStd float64
	EvalMean, EvalStd   float64
	TokensPerSec        float64 // mean over runs that took at least one step
}

// Summarize returns one Summary per optimizer, in the order they first appear in runs. steps is
// the number of steps a complete run takes.
func Summarize(runs []Run, steps int) []Summary {
	var order []string
	by := map[string][]Run{}
	for _, r := range runs {
		if _, ok := by[r.Optimizer]; !ok {
			order = append(order, r.Optimizer)
		}
		by[r.Optimizer] = append(by[r.Optimizer], r)
	}
	var out []Summary
	for _, name := range order {
		s := Summary{Optimizer: name}
		var train, eval, tps []float64
		for _, r := range by[name] {
			s.Runs++
			if r.Result.Diverged() {
				s.Divergence = append(s.Divergence, r.Result.Status(steps))
			}
			if r.Result.Steps > 0 {
				tps = append(tps, r.Result.TokensPerSec())
			}
			p, ok := r.Result.Final()
			if r.Err != nil || r.Result.Diverged() || r.Result.Steps < steps || !ok {
				continue
			}
			s.Completed++
			train, eval = append(train, p.TrainLoss), append(eval, p.EvalLoss)
		}
		s.TrainMean, s.TrainStd = report.MeanStd(train)
		s.EvalMean, s.EvalStd = report.MeanStd(eval)
		s.TokensPerSec, _ = report.MeanStd(tps)
		out = append(out, s)
	}
	return out
}

// PairedDifference compares optimizers a and b seed by seed: for every seed where both runs
// completed, the final evaluation loss of a minus that of b. Runs with the same seed share the
// initialisation and the training batches, so the paired difference removes most of the seed
// noise that the separate mean ± std of each optimizer carries. It returns the mean and sample
// standard deviation of the differences and their number (NaN, NaN, 0 without pairs).
func PairedDifference(runs []Run, a, b string, steps int) (mean, std float64, n int) {
	final := func(name string) map[uint64]float64 {
		m := map[uint64]float64{}
		for _, r := range runs {
			p, ok := r.Result.Final()
			if r.Optimizer == name && ok && r.Err == nil && !r.Result.Diverged() && r.Result.Steps == steps {
				m[r.Seed] = p.EvalLoss
			}
		}
		return m
	}
	fa, fb := final(a), final(b)
	var d []float64
	for _, r := range runs { // in run order, so the result does not depend on map order
		if r.Optimizer != a {
			continue
		}
		if la, ok := fa[r.Seed]; ok {
			if lb, ok := fb[r.Seed]; ok {
				d = append(d, la-lb)
			}
		}
	}
	mean, std = report.MeanStd(d)
	return mean, std, len(d)
}
