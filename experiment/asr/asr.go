// Package asr is the speech experiment: it trains the CTC recogniser of models/asr on the
// synthesised spoken digits of data/digits with each optimizer under identical hyperparameters
// and seeds, and measures word and character error rates on held-out voices (paper §4.2).
package asr

import (
	"context"
	"fmt"
	"github.com/fadam-go/fadam/experiment/paramgroup"
	"github.com/fadam-go/fadam/experiment/runpool"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/digits"
	model "github.com/fadam-go/fadam/models/asr"
	"github.com/fadam-go/fadam/nn"
	"github.com/fadam-go/fadam/schedule"
)

// OptimizerFactory builds an optimizer for the given hyperparameters. Train calls it twice: once
// for the tensors with weight decay and once, with WeightDecay 0, for biases and LayerNorm.
type OptimizerFactory func(fadam.Config) (fadam.Stepper, error)

// LRSetter is implemented by optimizers whose learning rate can change between steps; Train
// needs it to follow its warmup-cosine schedule.
type LRSetter = paramgroup.LRSetter

// ErrNoLRSetter is wrapped by the error Train returns for an optimizer without SetLR.
var ErrNoLRSetter = paramgroup.ErrNoLRSetter

// Config describes one training run.
type Config struct {
	Model     model.Config
	Opt       fadam.Config // hyperparameters; Opt.LR is the peak learning rate
	Steps     int
	Batch     int
	Warmup    int     // linear warmup steps
	MinLRFrac float64 // cosine decay floor as a fraction of the peak
	EvalEvery int     // steps between evaluations on the test set
	Seed      uint64  // model initialisation and batch order
}

// Point is one evaluation during training.
type Point struct {
	Step      int
	TrainLoss float64 // mean training CTC loss since the previous point
	TestLoss  float64 // mean CTC loss on the test set
	WER, CER  float64 // greedy-decoding error rates on the test set
	Elapsed   time.Duration
}

// Result is the outcome of one run.
type Result struct {
	Points     []Point
	Steps      int // steps completed
	DivergedAt int // step at which the loss became NaN or Inf (0 if it never did)
	TrainTime  time.Duration
}

// Final returns the last evaluation, or false if there was none.
func (r Result) Final() (Point, bool) {
	if len(r.Points) == 0 {
		return Point{}, false
	}
	return r.Points[len(r.Points)-1], true
}

// batcher yields training batches of similar lengths (less padding) in a seeded order.
type batcher struct {
	ex      []digits.Example
	size    int
	rng     *rand.Rand
	batches [][]int
}

func (b *batcher) next() []int {
	if len(b.batches) == 0 {
		idx := b.rng.Perm(len(b.ex))
		// Sort pools of 16 batches by length, cut them into batches, then shuffle the batches.
		pool := 16 * b.size
		for lo := 0; lo < len(idx); lo += pool {
			p := idx[lo:min(lo+pool, len(idx))]
			slices.SortStableFunc(p, func(x, y int) int { return b.ex[x].Frames - b.ex[y].Frames })
			for s := 0; s+b.size <= len(p); s += b.size {
				b.batches = append(b.batches, p[s:s+b.size])
			}
		}
		if len(b.batches) == 0 { // fewer examples than one batch
			b.batches = append(b.batches, idx)
		}
		b.rng.Shuffle(len(b.batches), func(i, j int) { b.batches[i], b.batches[j] = b.batches[j], b.batches[i] })
	}
	out := b.batches[0]
	b.batches = b.batches[1:]
	return out
}

// batchData pads the examples idx into feats[B, T, Mels] (zero padding) and returns it with
// the lengths, labels and padded length.
type batchData struct {
	feats  []float32
	lens   []int
	labels [][]int32
	t      int
}

func (bd *batchData) fill(ex []digits.Example, idx []int, mels int) {
	bd.t = 0
	for _, i := range idx {
		bd.t = max(bd.t, ex[i].Frames)
	}
	n := len(idx) * bd.t * mels
	if cap(bd.feats) < n {
		bd.feats = make([]float32, n)
	}
	bd.feats = bd.feats[:n]
	clear(bd.feats)
	bd.lens, bd.labels = bd.lens[:0], bd.labels[:0]
	for j, i := range idx {
		copy(bd.feats[j*bd.t*mels:], ex[i].Feats)
		bd.lens = append(bd.lens, ex[i].Frames)
		bd.labels = append(bd.labels, ex[i].Labels)
	}
}

// Usable returns the examples the model can be trained on: those whose subsampled length can
// carry their labels under CTC.
func Usable(ex []digits.Example) []digits.Example {
	var out []digits.Example
	for _, e := range ex {
		need := len(e.Labels)
		for i := 1; i < len(e.Labels); i++ {
			if e.Labels[i] == e.Labels[i-1] {
				need++
			}
		}
		if model.SubsampledLen(e.Frames) >= need {
			out = append(out, e)
		}
	}
	return out
}

// Evaluate returns the mean CTC loss of m on ex and the greedy-decoding error counts, in batches
// of batch utterances sorted by length.
func Evaluate(m *model.Model, ex []digits.Example, batch int) (float64, model.ErrorCounts, error) {
	var counts model.ErrorCounts
	idx := make([]int, len(ex))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int { return ex[x].Frames - ex[y].Frames })
	var bd batchData
	var sum float64
	c := m.Cfg
	for lo := 0; lo < len(idx); lo += batch {
		part := idx[lo:min(lo+batch, len(idx))]
		bd.fill(ex, part, c.Mels)
		logits, err := m.Forward(bd.feats, bd.lens, len(part), bd.t)
		if err != nil {
			return 0, counts, err
		}
		l, err := nn.CTCBatchLoss(nil, logits, len(part), model.SubsampledLen(bd.t), c.Classes, m.OutputLens(), bd.labels)
		if err != nil {
			return 0, counts, err
		}
		sum += l * float64(len(part))
		t2 := model.SubsampledLen(bd.t)
		for j, i := range part {
			n := m.OutputLens()[j]
			hyp := nn.CTCGreedyDecode(logits[j*t2*c.Classes:], n, c.Classes)
			counts.Add(ex[i].Spec.Words, wordsOf(hyp))
		}
	}
	return sum / float64(max(len(ex), 1)), counts, nil
}

func wordsOf(labels []int32) []string {
	ws := make([]string, len(labels))
	for i, l := range labels {
		if l >= 1 && int(l) <= len(digits.Words) {
			ws[i] = digits.Words[l-1]
		} else {
			ws[i] = "?"
		}
	}
	return ws
}

// Train trains a fresh model (initialised from cfg.Seed) on train and evaluates it on test every
// cfg.EvalEvery steps and at the end. onStep, if not nil, is called after every step. When ctx
// is cancelled it returns what it has with ctx's error.
func Train(ctx context.Context, train, test []digits.Example, cfg Config, newOpt OptimizerFactory, onStep func(step int, loss float64)) (Result, error) {
	var res Result
	if cfg.Steps <= 0 || cfg.Batch <= 0 || cfg.EvalEvery <= 0 {
		return res, fmt.Errorf("asr: steps %d, batch %d, eval every %d must be positive", cfg.Steps, cfg.Batch, cfg.EvalEvery)
	}
	if len(train) == 0 || len(test) == 0 {
		return res, fmt.Errorf("asr: %d training and %d test utterances", len(train), len(test))
	}
	m, err := model.New(cfg.Model, cfg.Seed)
	if err != nil {
		return res, err
	}
	sched, err := schedule.WarmupCosine(cfg.Opt.LR, cfg.Opt.LR*cfg.MinLRFrac, min(cfg.Warmup, cfg.Steps-1), cfg.Steps)
	if err != nil {
		return res, fmt.Errorf("asr: %w", err)
	}
	groups, err := paramgroup.New(m.Params(), model.Decays, cfg.Opt, newOpt)
	if err != nil {
		return res, fmt.Errorf("asr: %w", err)
	}
	bt := &batcher{ex: train, size: min(cfg.Batch, len(train)), rng: rand.New(rand.NewPCG(cfg.Seed, 0x6261746368))}
	var bd batchData
	start := time.Now()
	var sinceEval float64
	var nSince int
	for step := 1; step <= cfg.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		t0 := time.Now()
		idx := bt.next()
		bd.fill(train, idx, cfg.Model.Mels)
		if _, err := m.Forward(bd.feats, bd.lens, len(idx), bd.t); err != nil {
			return res, err
		}
		loss, err := m.Loss(bd.labels)
		if err != nil {
			return res, fmt.Errorf("asr: step %d: %w", step, err)
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			res.DivergedAt = step
			return res, nil
		}
		nn.ZeroGrads(m.Params())
		m.Backward()
		if err := groups.Step(sched.LR(step)); err != nil {
			return res, fmt.Errorf("asr: step %d: %w", step, err)
		}
		res.TrainTime += time.Since(t0)
		res.Steps = step
		sinceEval += loss
		nSince++
		if onStep != nil {
			onStep(step, loss)
		}
		if step%cfg.EvalEvery == 0 || step == cfg.Steps {
			tl, counts, err := Evaluate(m, test, cfg.Batch)
			if err != nil {
				return res, err
			}
			if math.IsNaN(tl) || math.IsInf(tl, 0) {
				res.DivergedAt = step
				return res, nil
			}
			res.Points = append(res.Points, Point{
				Step: step, TrainLoss: sinceEval / float64(nSince), TestLoss: tl,
				WER: counts.WER(), CER: counts.CER(), Elapsed: time.Since(start),
			})
			sinceEval, nSince = 0, 0
		}
	}
	return res, nil
}

// Optimizer is a named optimizer factory, one contender of the comparison.
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

// Completed reports whether the run finished every step without diverging.
func (r Run) Completed(steps int) bool {
	return r.Err == nil && r.Result.DivergedAt == 0 && r.Result.Steps == steps
}

// Sweep trains every optimizer with every seed (cfg with Seed replaced), up to parallel runs at
// once, and returns the runs ordered by optimizer, then seed. onStep, if not nil, is called after
// every step of every run, from several goroutines. When ctx is cancelled, runs in flight stop
// and the rest never start (their Err is ctx's error); finished runs are kept.
func Sweep(ctx context.Context, train, test []digits.Example, cfg Config, opts []Optimizer, seeds []uint64, parallel int, onStep func()) []Run {
	runs := make([]Run, 0, len(opts)*len(seeds))
	factory := map[string]OptimizerFactory{}
	for _, o := range opts {
		factory[o.Name] = o.New
		for _, s := range seeds {
			runs = append(runs, Run{Optimizer: o.Name, Seed: s})
		}
	}
	// Interleave optimizers so that a cut-short sweep has runs of each.
	order := make([]int, 0, len(runs))
	for si := range seeds {
		for oi := range opts {
			order = append(order, oi*len(seeds)+si)
		}
	}
	runpool.Run(ctx, order, parallel, func(i int) {
		r := &runs[i]
		c := cfg
		c.Seed = r.Seed
		var step func(int, float64)
		if onStep != nil {
			step = func(int, float64) { onStep() }
		}
		r.Result, r.Err = Train(ctx, train, test, c, factory[r.Optimizer], step)
	}, func(i int, err error) { runs[i].Err = err })
	return runs
}
