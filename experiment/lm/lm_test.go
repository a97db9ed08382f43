package lm

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/fadam-go/fadam/data/text"
	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/models/gpt"
)

func testCorpus() *text.Corpus {
	s := strings.Repeat("the quick brown fox jumps over the lazy dog. ", 40)
	return &text.Corpus{Source: "test", Train: []byte(s), Val: []byte(s[:600]), Test: []byte(s[600:1300]), TrainFiles: 1, ValFiles: 1, TestFiles: 1}
}

func tinyConfig() Config {
	return Config{Model: gpt.Config{D: 16, Layers: 1, Heads: 2, Ctx: 16, Batch: 4}, CurveBatches: 2, ValTokens: 200, TestTokens: 1 << 20}
}

func TestTaskTrainsThroughHarness(t *testing.T) {
	task, err := NewTask(testCorpus(), tinyConfig())
	if err != nil {
		t.Fatal(err)
	}
	// Curve: 2 batches of 4 windows; validation: 200 tokens → 13 windows → 16 (whole
	// batches); test: the whole 700-byte split holds 41 windows of 17 bytes → 40.
	if task.curve.windows != 8 || task.valid.windows != 16 || task.test.windows != 40 {
		t.Fatalf("windows %d, %d, %d", task.curve.windows, task.valid.windows, task.test.windows)
	}
	info := task.Info()
	if !strings.HasPrefix(info.Covers[harness.Test], "640 tokens: 40 windows of 16 bytes spread over the 700 bytes of test text") {
		t.Fatalf("covers %q", info.Covers[harness.Test])
	}
	opt, err := harness.Named("adamw", harness.SharedConfig())
	if err != nil {
		t.Fatal(err)
	}
	loop := harness.Loop{Steps: 40, Warmup: 5, MinLRFrac: 0.1, EvalEvery: 10, DivergeMargin: 1}
	r, err := harness.Train(context.Background(), task, loop, opt, 1e-2, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Complete(40) || len(r.Curve) != 5 {
		t.Fatalf("result %+v", r)
	}
	if math.Abs(r.Curve[0].Value-math.Log(256)) > 0.1 || !(r.Test["loss"] < math.Log(256)-1) {
		t.Fatalf("untrained %v, trained test loss %v", r.Curve[0].Value, r.Test["loss"])
	}
	r2, _ := harness.Train(context.Background(), task, loop, opt, 1e-2, 1, nil)
	if r2.Test["loss"] != r.Test["loss"] || r2.Validation["loss"] != r.Validation["loss"] {
		t.Fatal("the same seed gave different runs")
	}
	// A huge learning rate diverges and is reported as such.
	d, err := harness.Train(context.Background(), task, loop, opt, 1e9, 1, nil)
	if err != nil || !d.Diverged() {
		t.Fatalf("lr 1e9: %+v, %v", d, err)
	}
}

func TestTaskIdentity(t *testing.T) {
	a, _ := NewTask(testCorpus(), tinyConfig())
	c := testCorpus()
	c.Test[5] = 'X'
	b, _ := NewTask(c, tinyConfig())
	if a.Config().(taskConfig).Fingerprint == b.Config().(taskConfig).Fingerprint {
		t.Fatal("a changed test text kept the corpus fingerprint")
	}
}

func TestNewTaskRefuses(t *testing.T) {
	huge := tinyConfig()
	huge.Model.D, huge.Model.Layers, huge.Model.Heads, huge.Model.Ctx, huge.Model.Batch = 64, 2, 4, 10000000, 16
	_, err := NewTask(testCorpus(), huge)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "TiB") {
		t.Fatalf("ctx 10⁷: %v", err)
	}
	short := testCorpus()
	short.Test = short.Test[:40]
	if _, err := NewTask(short, tinyConfig()); !errors.Is(err, text.ErrEmpty) {
		t.Fatalf("test split shorter than a batch: %v", err)
	}
	bad := tinyConfig()
	bad.CurveBatches = 0
	if _, err := NewTask(testCorpus(), bad); err == nil {
		t.Fatal("no curve batches accepted")
	}
}

func TestGroup(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1048576: "1,048,576"} {
		if got := group(n); got != want {
			t.Errorf("group(%d) = %q", n, got)
		}
	}
}
