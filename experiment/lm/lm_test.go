package lm

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/text"
	"github.com/fadam-go/fadam/models/gpt"
)

// sgd is plain gradient descent θ ← θ − η(g + λθ), enough to drive the training loop in tests.
type sgd struct {
	lr, wd float64
	poison int // if > 0, the step at which to write NaN into the parameters
	t      int
	lrSeen []float64
	wdSeen *[]float64
}

func (s *sgd) SetLR(lr float64) { s.lr = lr; s.lrSeen = append(s.lrSeen, lr) }

func (s *sgd) Step(ps []fadam.Param) error {
	s.t++
	for _, p := range ps {
		for i := range p.Value {
			p.Value[i] -= float32(s.lr * (float64(p.Grad[i]) + s.wd*float64(p.Value[i])))
			if s.t == s.poison {
				p.Value[i] = float32(math.NaN())
			}
		}
	}
	return nil
}

func testCorpus() *text.Corpus {
	s := strings.Repeat("the quick brown fox jumps over the lazy dog. ", 40)
	return &text.Corpus{Train: []byte(s), Val: []byte(s[:300])}
}

func tinyConfig() Config {
	return Config{
		Model: gpt.Config{D: 16, Layers: 1, Heads: 2, Ctx: 16, Batch: 4},
		Steps: 30, Warmup: 5, Opt: fadam.Config{LR: 0.5, WeightDecay: 0.01}, MinLRFrac: 0.1,
		EvalEvery: 10, EvalBatches: 2, Seed: 1,
	}
}

func sgdFactory(poison int) (OptimizerFactory, *[]float64) {
	wds := new([]float64)
	var mu sync.Mutex // Sweep calls the factory from several goroutines
	return func(c fadam.Config) (fadam.Stepper, error) {
		mu.Lock()
		defer mu.Unlock()
		*wds = append(*wds, c.WeightDecay)
		return &sgd{wd: c.WeightDecay, poison: poison}, nil
	}, wds
}

func TestTrainLearnsAndIsDeterministic(t *testing.T) {
	f, wds := sgdFactory(0)
	r1, err := Train(context.Background(), testCorpus(), tinyConfig(), f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.Points) != 3 || r1.Points[2].Step != 30 || r1.Steps != 30 || r1.Diverged() {
		t.Fatalf("result %+v", r1)
	}
	if got := *wds; len(got) != 2 || got[0] != 0.01 || got[1] != 0 {
		t.Fatalf("weight decay of the two groups: %v", got)
	}
	last, _ := r1.Final()
	if !(last.EvalLoss < math.Log(256)-1) {
		t.Fatalf("eval loss %v did not fall well below ln 256", last.EvalLoss)
	}
	if r1.Tokens != 30*16*4 || r1.TokensPerSec() <= 0 || r1.Status(30) != "ok" {
		t.Fatalf("tokens %d, %v tokens/s, status %q", r1.Tokens, r1.TokensPerSec(), r1.Status(30))
	}
	r2, _ := Train(context.Background(), testCorpus(), tinyConfig(), f, nil)
	for i := range r1.Points {
		if r1.Points[i].EvalLoss != r2.Points[i].EvalLoss || r1.Points[i].TrainLoss != r2.Points[i].TrainLoss {
			t.Fatalf("runs with the same seed differ at point %d: %+v vs %+v", i, r1.Points[i], r2.Points[i])
		}
	}
}

func TestTrainFollowsSchedule(t *testing.T) {
	var opt *sgd
	f := func(c fadam.Config) (fadam.Stepper, error) {
		s := &sgd{}
		if opt == nil {
			opt = s
		}
		return s, nil
	}
	cfg := tinyConfig()
	cfg.Steps, cfg.Warmup, cfg.Opt.LR, cfg.MinLRFrac = 10, 4, 0.1, 0.1
	if _, err := Train(context.Background(), testCorpus(), cfg, f, nil); err != nil {
		t.Fatal(err)
	}
	want := []float64{0.025, 0.05, 0.075, 0.1} // linear warmup; step 10 ends at the floor 0.01
	for i, w := range want {
		if math.Abs(opt.lrSeen[i]-w) > 1e-12 {
			t.Fatalf("lr at step %d = %v, want %v (all: %v)", i+1, opt.lrSeen[i], w, opt.lrSeen)
		}
	}
	if last := opt.lrSeen[9]; math.Abs(last-0.01) > 1e-12 {
		t.Fatalf("final lr %v, want 0.01", last)
	}
}

func TestTrainReportsDivergence(t *testing.T) {
	f, _ := sgdFactory(7)
	r, err := Train(context.Background(), testCorpus(), tinyConfig(), f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.DivergedAt != 8 || r.Status(30) != "diverged at step 8" {
		t.Fatalf("diverged at %d (%s), want 8", r.DivergedAt, r.Status(30))
	}
}

func TestTrainStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f, _ := sgdFactory(0)
	r, err := Train(ctx, testCorpus(), tinyConfig(), f, func(step int, _ float64) {
		if step == 12 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || r.Steps != 12 || len(r.Points) != 1 {
		t.Fatalf("err %v, %d steps, %d points", err, r.Steps, len(r.Points))
	}
}

type noSetLR struct{}

func (noSetLR) Step([]fadam.Param) error { return nil }

func TestTrainErrors(t *testing.T) {
	f, _ := sgdFactory(0)
	bad := tinyConfig()
	bad.Steps = 0
	short := &text.Corpus{Train: []byte("abc"), Val: []byte("abc")}
	for _, tc := range []struct {
		name   string
		corpus *text.Corpus
		cfg    Config
		f      OptimizerFactory
		is     error
	}{
		{"steps", testCorpus(), bad, f, nil},
		{"short-corpus", short, tinyConfig(), f, text.ErrEmpty},
		{"no-setlr", testCorpus(), tinyConfig(), func(fadam.Config) (fadam.Stepper, error) { return noSetLR{}, nil }, ErrNoLRSetter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Train(context.Background(), tc.corpus, tc.cfg, tc.f, nil)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("error %v", err)
			}
		})
	}
}
