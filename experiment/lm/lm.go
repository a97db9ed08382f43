// Package lm is the language-model task of the experiment harness: a byte-level GPT
// (models/gpt) trained on a text corpus, scored by its mean cross-entropy in nats per byte.
// It is the task of `fadam compare`, `fadam ablate` and `fadam scale`.
//
// Evaluation follows the harness's three splits. The corpus is split by file into training,
// validation and test text (data/text). The curve is the mean loss over a small fixed set of
// windows of the validation text; the final numbers are the mean loss over fixed, evenly
// spread, non-overlapping windows of the validation and test text, TestTokens of them (1M by
// default, or the whole split when it is smaller). Every run of every optimizer and seed is
// scored on the same windows.
package lm

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/text"
	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/models/gpt"
)

// Config is the task: the model's shape and batch, and how much text each evaluation reads.
type Config struct {
	Model gpt.Config
	// CurveBatches is the number of Batch×Ctx batches of validation text behind each point of
	// the curve.
	CurveBatches int
	// ValTokens and TestTokens are the target numbers of tokens of the final validation and
	// test evaluations; each is rounded up to whole batches and capped by its split.
	ValTokens, TestTokens int
}

// DefaultEvalTokens is the default size of the final test evaluation: about 1M tokens (bytes).
const DefaultEvalTokens = 1 << 20

// Validate reports what is wrong with c, if anything.
func (c Config) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	if c.CurveBatches <= 0 || c.ValTokens <= 0 || c.TestTokens <= 0 {
		return fmt.Errorf("lm: curve batches (%d), validation tokens (%d) and test tokens (%d) must be positive", c.CurveBatches, c.ValTokens, c.TestTokens)
	}
	return nil
}

// evalSet is a fixed set of evaluation batches.
type evalSet struct {
	in, tg  [][]int32 // batches of Batch×Ctx tokens
	text    int       // bytes of the split it was cut from
	files   int
	windows int
}

func (e evalSet) tokens(ctx int) int { return e.windows * ctx }

// Task is the language-model task on one corpus. It is safe for concurrent use.
type Task struct {
	cfg                Config
	corpus             *text.Corpus
	fingerprint        string
	curve, valid, test evalSet
}

// NewTask cuts the evaluation sets from corpus and checks that one run fits in memory.
func NewTask(corpus *text.Corpus, cfg Config) (*Task, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := CheckMemory(cfg.Model, 1); err != nil {
		return nil, err
	}
	m := cfg.Model
	if len(corpus.Train) < m.Ctx+1 {
		return nil, fmt.Errorf("lm: training text: %w: %d bytes cannot hold a window of ctx+1 = %d bytes", text.ErrEmpty, len(corpus.Train), m.Ctx+1)
	}
	t := &Task{cfg: cfg, corpus: corpus}
	var err error
	cut := func(name string, data []byte, files, tokens int) (evalSet, error) {
		want := (tokens + m.Ctx - 1) / m.Ctx
		want = (want + m.Batch - 1) / m.Batch * m.Batch
		in, tg, n, err := text.Windows(data, m.Ctx, want)
		if err != nil {
			return evalSet{}, fmt.Errorf("lm: %s text: %w", name, err)
		}
		n = n / m.Batch * m.Batch
		if n == 0 {
			return evalSet{}, fmt.Errorf("lm: %s text: %w: %d bytes cannot hold one batch of %d windows of %d bytes", name, text.ErrEmpty, len(data), m.Batch, m.Ctx+1)
		}
		e := evalSet{text: len(data), files: files, windows: n}
		bt := m.Batch * m.Ctx
		for i := 0; i < n*m.Ctx; i += bt {
			e.in, e.tg = append(e.in, in[i:i+bt]), append(e.tg, tg[i:i+bt])
		}
		return e, nil
	}
	if t.curve, err = cut("validation", corpus.Val, corpus.ValFiles, cfg.CurveBatches*m.Batch*m.Ctx); err != nil {
		return nil, err
	}
	if t.valid, err = cut("validation", corpus.Val, corpus.ValFiles, cfg.ValTokens); err != nil {
		return nil, err
	}
	if t.test, err = cut("test", corpus.Test, corpus.TestFiles, cfg.TestTokens); err != nil {
		return nil, err
	}
	h := sha256.New()
	for _, b := range [][]byte{corpus.Train, corpus.Val, corpus.Test} {
		h.Write([]byte(strconv.Itoa(len(b)) + ":"))
		h.Write(b)
	}
	t.fingerprint = hex.EncodeToString(h.Sum(nil)[:8])
	return t, nil
}

// Corpus returns the task's corpus.
func (t *Task) Corpus() *text.Corpus { return t.corpus }

// Settings returns the task's configuration.
func (t *Task) Settings() Config { return t.cfg }

// Info names the task, its metric ("loss", nats per byte) and what each split's number covers.
func (t *Task) Info() harness.Info {
	ctx := t.cfg.Model.Ctx
	cover := func(e evalSet, split string) string {
		return fmt.Sprintf("%s tokens: %d windows of %d bytes spread over the %s of %s text in %d file(s)",
			group(e.tokens(ctx)), e.windows, ctx, group(e.text)+" bytes", split, e.files)
	}
	return harness.Info{Name: "lm", Metric: "loss", CurveMetric: "loss", Covers: map[harness.Split]string{
		harness.Curve:      cover(t.curve, "validation"),
		harness.Validation: cover(t.valid, "validation"),
		harness.Test:       cover(t.test, "test"),
	}}
}

// group formats n with thousands separators.
func group(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// taskConfig is what identifies the task's runs: the configuration and the corpus's contents.
type taskConfig struct {
	Config
	Corpus      string `json:"corpus"`
	Fingerprint string `json:"corpus_sha256"`
	Windows     [3]int `json:"eval_windows"` // curve, validation, test
}

// Config returns the task's identity for the run store.
func (t *Task) Config() any {
	return taskConfig{Config: t.cfg, Corpus: t.corpus.Source, Fingerprint: t.fingerprint,
		Windows: [3]int{t.curve.windows, t.valid.windows, t.test.windows}}
}

// Decays applies weight decay to matrices only (gpt.Decays), for every optimizer.
func (t *Task) Decays(p *fadam.Param) bool { return gpt.Decays(p) }

// NewModel builds a GPT initialised from seed whose training batches are drawn from seed.
func (t *Task) NewModel(seed uint64) (harness.Model, error) {
	m, err := gpt.New(t.cfg.Model, seed)
	if err != nil {
		return nil, err
	}
	s, err := text.NewSampler(t.corpus.Train, t.cfg.Model.Batch, t.cfg.Model.Ctx, seed)
	if err != nil {
		return nil, fmt.Errorf("lm: training text: %w", err)
	}
	bt := t.cfg.Model.Batch * t.cfg.Model.Ctx
	return &model{t: t, gpt: m, train: s, in: make([]int32, bt), tg: make([]int32, bt)}, nil
}

// model is one run's GPT and training sampler.
type model struct {
	t      *Task
	gpt    *gpt.Model
	train  *text.Sampler
	in, tg []int32
}

func (m *model) Params() []*fadam.Param { return m.gpt.Params() }

func (m *model) TrainStep() (float64, error) {
	m.train.Next(m.in, m.tg)
	loss, err := m.gpt.Forward(m.in, m.tg)
	if err != nil {
		return 0, err
	}
	m.gpt.Backward()
	return loss, nil
}

func (m *model) Evaluate(split harness.Split) (harness.Metrics, error) {
	var e evalSet
	switch split {
	case harness.Curve:
		e = m.t.curve
	case harness.Validation:
		e = m.t.valid
	case harness.Test:
		e = m.t.test
	default:
		return nil, fmt.Errorf("lm: unknown split %v", split)
	}
	var sum float64
	for i := range e.in {
		l, err := m.gpt.Forward(e.in[i], e.tg[i])
		if err != nil {
			return nil, err
		}
		sum += l
	}
	return harness.Metrics{"loss": sum / float64(len(e.in))}, nil
}

// ErrTooLarge is wrapped by the error CheckMemory returns for a model that does not fit.
var ErrTooLarge = errors.New("lm: model and batch too large for this machine's memory")

// optimizerFloats is a generous count of the float32 values an optimizer keeps per parameter
// (momentum, Fisher estimate and the views of weight-decay groups).
const optimizerFloats = 3

// RunBytes estimates the memory one training run of model shape c needs: gpt.MemoryBytes plus
// the optimizer's state.
func RunBytes(c gpt.Config) float64 {
	return c.MemoryBytes() + 4*optimizerFloats*float64(c.ParamCount())
}

// CheckMemory refuses a model shape for which runs concurrent runs would not fit in the memory
// available (MemAvailable in /proc/meminfo; where that cannot be read, a limit of 1 TiB per
// run still catches absurd shapes), with the estimate in the error.
func CheckMemory(c gpt.Config, runs int) error {
	need := RunBytes(c) * float64(max(runs, 1))
	avail, ok := availableMemory()
	if !ok {
		avail = float64(max(runs, 1)) * (1 << 40)
	}
	if need > avail {
		return fmt.Errorf("%w: %d run(s) of d=%d, layers=%d, heads=%d, ctx=%d, batch=%d need about %s, %s available",
			ErrTooLarge, max(runs, 1), c.D, c.Layers, c.Heads, c.Ctx, c.Batch, bytesString(need), bytesString(avail))
	}
	return nil
}

func bytesString(b float64) string {
	for _, u := range []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"} {
		if b < 1024 || u == "PiB" {
			return strconv.FormatFloat(b, 'f', 1, 64) + " " + u
		}
		b /= 1024
	}
	return ""
}

// availableMemory reads MemAvailable from /proc/meminfo.
func availableMemory() (float64, bool) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemAvailable:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}
