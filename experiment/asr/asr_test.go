package asr

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/digits"
	model "github.com/fadam-go/fadam/models/asr"
	"github.com/fadam-go/fadam/report"
)

// asrTestAdam is a plain Adam for driving Train in tests without the optimizer packages.
type asrTestAdam struct {
	cfg  fadam.Config
	t    int
	m, v map[*float32][]float64
}

func newASRTestAdam(c fadam.Config) (fadam.Stepper, error) {
	return &asrTestAdam{cfg: c, m: map[*float32][]float64{}, v: map[*float32][]float64{}}, nil
}

func (a *asrTestAdam) SetLR(lr float64) { a.cfg.LR = lr }

func (a *asrTestAdam) Step(ps []fadam.Param) error {
	a.t++
	c := a.cfg
	for _, p := range ps {
		k := &p.Value[0]
		if a.m[k] == nil {
			a.m[k], a.v[k] = make([]float64, len(p.Value)), make([]float64, len(p.Value))
		}
		m, v := a.m[k], a.v[k]
		for i, g := range p.Grad {
			m[i] = c.Beta1*m[i] + (1-c.Beta1)*float64(g)
			v[i] = c.Beta2*v[i] + (1-c.Beta2)*float64(g)*float64(g)
			mh := m[i] / (1 - math.Pow(c.Beta1, float64(a.t)))
			vh := v[i] / (1 - math.Pow(c.Beta2, float64(a.t)))
			p.Value[i] -= float32(c.LR * (mh/(math.Sqrt(vh)+c.Eps) + c.WeightDecay*float64(p.Value[i])))
		}
	}
	return nil
}

type noLR struct{}

func (noLR) Step([]fadam.Param) error { return nil }

func TestTrainAndReport(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed (apt-get install espeak-ng); skipping the end-to-end speech test")
	}
	dir := t.TempDir()
	corpus, err := LoadCorpus(context.Background(), filepath.Join(dir, "cache"), digits.Counts{Train: 8, Dev: 3, Test: 3})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Model: model.Config{Mels: 40, Dim: 16, Heads: 2, Layers: 1, FF: 32, Classes: 12},
		Opt:   fadam.Config{LR: 3e-3, Beta1: 0.9, Beta2: 0.98, Eps: 1e-8, WeightDecay: 1e-3, Eps2: 0.01, Clip: 1, Rho: 0.5},
		Steps: 12, Batch: 4, Warmup: 3, MinLRFrac: 0.1, EvalEvery: 5,
	}
	runs := Sweep(context.Background(), corpus.Train, corpus.Test, cfg,
		[]Optimizer{{"adam-a", newASRTestAdam}, {"adam-b", newASRTestAdam}}, []uint64{1, 2}, 2, nil)
	if len(runs) != 4 {
		t.Fatalf("%d runs", len(runs))
	}
	for _, r := range runs {
		if !r.Completed(cfg.Steps) || len(r.Result.Points) != 3 {
			t.Fatalf("run %+v did not complete with 3 evaluations", r)
		}
		first, last := r.Result.Points[0], r.Result.Points[2]
		if !(last.TrainLoss < first.TrainLoss) {
			t.Errorf("%s seed %d: training loss did not fall: %g → %g", r.Optimizer, r.Seed, first.TrainLoss, last.TrainLoss)
		}
		if p := last; p.WER < 0 || p.CER < 0 || math.IsNaN(p.TestLoss) {
			t.Errorf("bad final point %+v", p)
		}
	}
	// The same optimizer and seed give the same run: results do not depend on scheduling.
	if a, b := runs[0].Result.Points, runs[2].Result.Points; a[2].TestLoss != b[2].TestLoss {
		t.Errorf("identical runs differ: %g vs %g", a[2].TestLoss, b[2].TestLoss)
	}
	info := ReportInfo{Command: "fadam asr --quick", Date: time.Now(), Machine: report.Machine(), Data: corpus.Describe(), Params: 1}
	if err := WriteReport(dir, cfg, []string{"adam-a", "adam-b"}, runs, info); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"asr.md", "asr.csv", "asr_train_loss.svg", "asr_train_loss.png", "asr_test_wer.svg", "asr_test_wer.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "asr.md"))
	if !strings.Contains(string(md), "| adam-a    | 2/2") || !strings.Contains(string(md), "fadam asr --quick") {
		t.Errorf("report lacks the summary row or command:\n%s", md)
	}

	// A cancelled sweep returns at once with the context's error on every run.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, r := range Sweep(ctx, corpus.Train, corpus.Test, cfg, []Optimizer{{"a", newASRTestAdam}}, []uint64{1}, 1, nil) {
		if r.Err == nil {
			t.Fatal("cancelled run reported no error")
		}
	}
	// An optimizer without SetLR is refused with a clear error.
	_, err = Train(context.Background(), corpus.Train, corpus.Test, cfg, func(fadam.Config) (fadam.Stepper, error) { return noLR{}, nil }, nil)
	if err == nil || !strings.Contains(err.Error(), "SetLR") {
		t.Fatalf("optimizer without SetLR: %v", err)
	}
}
