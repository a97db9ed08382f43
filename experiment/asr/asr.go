// Package asr is the speech experiment (paper §4.2): the CTC recogniser of models/asr trained
// on the synthesised spoken digits of data/digits. It is a harness.Task: the experiment
// harness trains it with every optimizer, learning rate and seed under identical
// hyperparameters, and this package supplies the model, the data and the metrics (word and
// character error rates, CTC loss) and writes the report.
//
// The splits have disjoint voices: the model trains on one set of voices, its learning rate is
// chosen on the dev voices (harness.Validation) and the numbers are reported on the test voices
// (harness.Test). Curves follow the CTC loss on the first utterances of the dev split.
package asr

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/digits"
	"github.com/fadam-go/fadam/experiment/harness"
	model "github.com/fadam-go/fadam/models/asr"
	"github.com/fadam-go/fadam/nn"
)

// Config is everything about the task that decides a run's result besides the optimizer, the
// learning rate and the seed. A stored run is reused only when its Config is identical.
type Config struct {
	Model model.Config `json:"model"`
	Batch int          `json:"batch"` // utterances per training step (and per evaluation batch)
	// CurveUtterances is how many dev utterances the curve evaluates (all of them if larger).
	CurveUtterances int `json:"curve_utterances"`
	// Corpus identifies the data: the requested utterances per split, the corpus seed and the
	// synthesiser's version.
	Corpus     digits.Counts `json:"corpus"`
	CorpusSeed uint64        `json:"corpus_seed"`
	Generator  string        `json:"generator"`
}

// Metric names of Evaluate. WER and CER are percentages.
const (
	MetricWER  = "wer"
	MetricCER  = "cer"
	MetricLoss = "loss"
)

// Task is the speech experiment on one loaded corpus.
type Task struct {
	cfg    Config
	corpus *Corpus
}

var _ harness.Task = (*Task)(nil)

// NewTask returns the task of cfg on corpus (loaded with cfg.Corpus).
func NewTask(corpus *Corpus, cfg Config) (*Task, error) {
	if err := cfg.Model.Validate(); err != nil {
		return nil, err
	}
	switch {
	case cfg.Batch <= 0 || cfg.CurveUtterances <= 0:
		return nil, fmt.Errorf("asr: batch %d and curve utterances %d must be positive", cfg.Batch, cfg.CurveUtterances)
	case corpus == nil || len(corpus.Train) == 0 || len(corpus.Dev) == 0 || len(corpus.Test) == 0:
		return nil, fmt.Errorf("asr: the corpus needs training, dev and test utterances")
	}
	cfg.Generator = corpus.Generator
	return &Task{cfg: cfg, corpus: corpus}, nil
}

// curve is the dev subset the curve evaluates.
func (t *Task) curve() []digits.Example {
	return t.corpus.Dev[:min(t.cfg.CurveUtterances, len(t.corpus.Dev))]
}

// Info describes the task: the final metric is the word error rate, the curve metric the CTC
// loss.
func (t *Task) Info() harness.Info {
	covers := func(ex []digits.Example, what string) string {
		return fmt.Sprintf("%d %s utterances (%d words)", len(ex), what, Words(ex))
	}
	return harness.Info{
		Name: "asr", Metric: MetricWER, CurveMetric: MetricLoss,
		Covers: map[harness.Split]string{
			harness.Curve:      covers(t.curve(), "dev"),
			harness.Validation: covers(t.corpus.Dev, "dev"),
			harness.Test:       covers(t.corpus.Test, "test"),
		},
	}
}

// Config returns the task's configuration.
func (t *Task) Config() any { return t.cfg }

// Decays is true for matrices: biases and LayerNorm take no weight decay.
func (t *Task) Decays(p *fadam.Param) bool { return model.Decays(p) }

// NewModel returns a fresh recogniser initialised from seed, with its training batches drawn
// from seed.
func (t *Task) NewModel(seed uint64) (harness.Model, error) {
	m, err := model.New(t.cfg.Model, seed)
	if err != nil {
		return nil, err
	}
	bt := &batcher{ex: t.corpus.Train, size: min(t.cfg.Batch, len(t.corpus.Train)), rng: rand.New(rand.NewPCG(seed, 0x6261746368))}
	return &run{task: t, m: m, bt: bt}, nil
}

// run is one training run's model and data stream.
type run struct {
	task *Task
	m    *model.Model
	bt   *batcher
	bd   batchData
}

func (r *run) Params() []*fadam.Param { return r.m.Params() }

// TrainStep computes the CTC loss of the next batch and its gradients.
func (r *run) TrainStep() (float64, error) {
	idx := r.bt.next()
	r.bd.fill(r.bt.ex, idx, r.m.Cfg.Mels)
	if _, err := r.m.Forward(r.bd.feats, r.bd.lens, len(idx), r.bd.t); err != nil {
		return 0, err
	}
	loss, err := r.m.Loss(r.bd.labels)
	if err != nil {
		return 0, fmt.Errorf("asr: %w", err)
	}
	nn.ZeroGrads(r.m.Params())
	r.m.Backward()
	return loss, nil
}

// Evaluate returns the CTC loss and the word and character error rates (%) on split.
func (r *run) Evaluate(split harness.Split) (harness.Metrics, error) {
	ex := r.task.corpus.Test
	switch split {
	case harness.Curve:
		ex = r.task.curve()
	case harness.Validation:
		ex = r.task.corpus.Dev
	}
	loss, counts, err := Evaluate(r.m, ex, r.task.cfg.Batch)
	if err != nil {
		return nil, err
	}
	return harness.Metrics{MetricLoss: loss, MetricWER: 100 * counts.WER(), MetricCER: 100 * counts.CER()}, nil
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
