package vqvae

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/mnist"
	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/models/mnistcls"
	"github.com/fadam-go/fadam/models/vqvae"
	"github.com/fadam-go/fadam/optimizers"
)

// expTestSet is n synthetic digits: class c is a bright bar at rows 2c+2…2c+3 on faint noise.
func expTestSet(n int, seed uint64) *mnist.Set {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &mnist.Set{N: n, Rows: mnist.Side, Cols: mnist.Side, Images: make([]byte, n*vqvae.Pixels), Labels: make([]byte, n)}
	for i := range n {
		c := rng.IntN(10)
		s.Labels[i] = byte(c)
		img := s.Image(i)
		for p := range img {
			img[p] = byte(rng.IntN(30))
			if y := p / mnist.Side; y >= 2+2*c && y < 4+2*c {
				img[p] = 200 + byte(rng.IntN(56))
			}
		}
	}
	return s
}

func expTestFactory(name string) OptimizerFactory {
	return func(c fadam.Config) (fadam.Stepper, error) { return optimizers.New(name, c) }
}

func expTestOpt() fadam.Config {
	c := fadam.Defaults()
	c.LR, c.Beta2, c.WeightDecay = 3e-3, 0.99, 1e-4
	return c
}

// expTestClassifier trains (or loads from dir) a classifier on the synthetic digits.
func expTestClassifier(t *testing.T, dir string, data Data) (*mnistcls.Model, string) {
	t.Helper()
	cc := ClassifierConfig{Steps: 30, Batch: 8, Seed: 1, Opt: expTestOpt()}
	path, err := ClassifierPath(dir, data.Train, cc)
	if err != nil {
		t.Fatal(err)
	}
	cls, _, err := Classifier(context.Background(), path, data.Train, data.Validation, cc, expTestFactory("adam"))
	if err != nil {
		t.Fatal(err)
	}
	return cls, path
}

func expTestData() Data {
	return Data{Train: expTestSet(64, 1), Validation: expTestSet(16, 3), Test: expTestSet(24, 2)}
}

func expTestConfig(loss vqvae.Loss) Config {
	return Config{Model: vqvae.Config{Loss: loss, Hidden: 4, Codes: 8, CodeDim: 3, Beta: 0.25, Batch: 4}, RestartEvery: 1, CurveImages: 8}
}

func TestClassifierCache(t *testing.T) {
	data, dir := expTestData(), t.TempDir()
	cc := ClassifierConfig{Steps: 30, Batch: 8, Seed: 1, Opt: expTestOpt()}
	path, err := ClassifierPath(dir, data.Train, cc)
	if err != nil {
		t.Fatal(err)
	}
	// Another training set or configuration gets another file.
	other, _ := ClassifierPath(dir, data.Test, cc)
	cc2 := cc
	cc2.Steps++
	third, _ := ClassifierPath(dir, data.Train, cc2)
	if path == other || path == third || filepath.Dir(path) != dir {
		t.Fatalf("paths %s, %s, %s", path, other, third)
	}
	_, info, err := Classifier(context.Background(), path, data.Train, data.Validation, cc, expTestFactory("adam"))
	if err != nil || !info.Trained || info.Note != "no cached weights" || info.Path != path {
		t.Fatalf("first call: %+v, %v", info, err)
	}
	if _, info2, err := Classifier(context.Background(), path, data.Train, data.Validation, cc, expTestFactory("adam")); err != nil || info2.Trained || info2.Accuracy != math.Round(info.Accuracy*1e6)/1e6 {
		t.Fatalf("second call did not load the cache: %+v, %v", info2, err)
	}
	cc.MinAccuracy = 1.01
	if _, _, err := Classifier(context.Background(), filepath.Join(t.TempDir(), "sub", "x"), data.Train, data.Validation, cc, expTestFactory("adam")); err == nil {
		t.Error("accuracy below the minimum accepted")
	}
}

// TestSweep trains both losses with both optimizers through the harness on the synthetic digits
// and checks the metrics, the stored reconstructions and the reuse of finished runs.
func TestSweep(t *testing.T) {
	data, dir := expTestData(), t.TempDir()
	cls, clsPath := expTestClassifier(t, dir, data)
	store := &SampleStore{Dir: filepath.Join(dir, "samples"), N: 3}
	var opts []harness.Optimizer
	for _, name := range []string{"fadam", "adam"} {
		opts = append(opts, harness.Optimizer{Name: name, Config: expTestOpt(), New: expTestFactory(name)})
	}
	for _, loss := range []vqvae.Loss{vqvae.L2, vqvae.CE} {
		cfg := expTestConfig(loss)
		cfg.Data, cfg.Classifier = data.Fingerprint(), filepath.Base(clsPath)
		task, err := NewTask(cfg, data, cls, store)
		if err != nil {
			t.Fatal(err)
		}
		if task.Info().Name != "vqvae-"+loss.String() || !strings.Contains(task.Info().Covers[harness.Test], "all 24 test images") {
			t.Fatalf("info %+v", task.Info())
		}
		sw := harness.Sweep{Task: task, Optimizers: opts, LRs: []float64{3e-3}, Seeds: []uint64{7}, Dir: dir, Parallel: 2,
			Loop: harness.Loop{Steps: 3, Warmup: 1, MinLRFrac: 0.1, EvalEvery: 2, DivergeMargin: 2}}
		o, err := sw.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range o.Runs {
			res := r.Result
			if r.Err != nil || !res.Complete(3) || len(res.Curve) != 3 || res.Curve[2].Step != 3 {
				t.Fatalf("%v/%s: %+v, %v", loss, r.Spec.Optimizer, res, r.Err)
			}
			for _, m := range []harness.Metrics{res.Validation, res.Test} {
				for _, k := range []string{MetricFID, MetricMSE, MetricPSNR, MetricMSEMode, MetricPerplexity} {
					if v, ok := m[k]; !ok || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
						t.Fatalf("%v/%s: %s = %v in %v", loss, r.Spec.Optimizer, k, v, m)
					}
				}
				if _, ok := m[MetricBitsPerDim]; ok != (loss == vqvae.CE) {
					t.Fatalf("%v: bits/dim present %v", loss, ok)
				}
				if loss == vqvae.L2 && m[MetricMSE] != m[MetricMSEMode] {
					t.Fatalf("L2 mode MSE %v differs from mean MSE %v", m[MetricMSEMode], m[MetricMSE])
				}
			}
			samples, err := store.Get(task.Info().Name, 7, res.Test)
			if err != nil || len(samples) != 3 || len(samples[0]) != vqvae.Pixels {
				t.Fatalf("stored reconstructions: %d, %v", len(samples), err)
			}
		}
		again, err := sw.Run(context.Background())
		if err != nil || again.Reused != 2 {
			t.Fatalf("rerun reused %d runs, %v", again.Reused, err)
		}
	}
}

// TestEvaluateLeavesTrainingAlone checks that evaluating between steps changes nothing about
// training: the evaluations run on a twin, so code-usage counts and activations stay the
// training model's.
func TestEvaluateLeavesTrainingAlone(t *testing.T) {
	data, dir := expTestData(), t.TempDir()
	cls, _ := expTestClassifier(t, dir, data)
	task, err := NewTask(expTestConfig(vqvae.CE), data, cls, nil)
	if err != nil {
		t.Fatal(err)
	}
	train := func(evaluate bool) []float32 {
		m, err := task.NewModel(3)
		if err != nil {
			t.Fatal(err)
		}
		for range 4 {
			if _, err := m.TrainStep(); err != nil {
				t.Fatal(err)
			}
			for _, p := range m.Params() {
				for i, g := range p.Grad {
					p.Value[i] -= 0.01 * g
				}
			}
			if evaluate {
				for _, s := range []harness.Split{harness.Curve, harness.Validation, harness.Test} {
					if _, err := m.Evaluate(s); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		var all []float32
		for _, p := range m.Params() {
			all = append(all, p.Value...)
		}
		return all
	}
	a, b := train(false), train(true)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("parameter %d: %v without evaluations, %v with", i, a[i], b[i])
		}
	}
}

func TestSampleStore(t *testing.T) {
	s := &SampleStore{Dir: filepath.Join(t.TempDir(), "samples"), N: 2}
	img := func(v float32) []float32 {
		x := make([]float32, vqvae.Pixels)
		for i := range x {
			x[i] = v * float32(i%2)
		}
		return x
	}
	mt := harness.Metrics{MetricFID: 1.5, MetricMSE: 0.25}
	if err := s.Put("vqvae-ce", 1, mt, [][]float32{img(1), img(0.2)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("vqvae-ce", 1, mt)
	if err != nil || len(got) != 2 {
		t.Fatalf("Get: %d, %v", len(got), err)
	}
	// 8-bit quantisation: 0.2 → 51/255.
	if got[0][1] != 1 || got[0][0] != 0 || math.Abs(float64(got[1][1])-51.0/255) > 1e-7 {
		t.Fatalf("pixels %v %v %v", got[0][0], got[0][1], got[1][1])
	}
	for _, miss := range []struct {
		task string
		seed uint64
		mt   harness.Metrics
	}{{"vqvae-l2", 1, mt}, {"vqvae-ce", 2, mt}, {"vqvae-ce", 1, harness.Metrics{MetricFID: 1.5, MetricMSE: 0.2500001}}} {
		if _, err := s.Get(miss.task, miss.seed, miss.mt); !errors.Is(err, ErrNoSamples) {
			t.Errorf("Get(%v) = %v, want ErrNoSamples", miss, err)
		}
	}
	if err := s.Put("vqvae-ce", 1, mt, [][]float32{{1, 2}}); err == nil {
		t.Error("a sample of the wrong size was stored")
	}
}

// TestInterruptedSweepResumes stops a sweep as soon as its first run has finished (as Ctrl-C or
// SIGTERM would) and checks that running it again reuses that run and trains only the rest.
func TestInterruptedSweepResumes(t *testing.T) {
	data, dir := expTestData(), t.TempDir()
	cls, clsPath := expTestClassifier(t, dir, data)
	cfg := expTestConfig(vqvae.L2)
	cfg.Data, cfg.Classifier = data.Fingerprint(), filepath.Base(clsPath)
	task, err := NewTask(cfg, data, cls, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := harness.Optimizer{Name: "fadam", Config: expTestOpt(), New: expTestFactory("fadam")}
	sw := harness.Sweep{Task: task, Optimizers: []harness.Optimizer{opt}, LRs: []float64{3e-3}, Seeds: []uint64{1, 2, 3}, Dir: dir, Parallel: 1,
		Loop:  harness.Loop{Steps: 3, Warmup: 1, MinLRFrac: 0.1, EvalEvery: 3, DivergeMargin: 2},
		OnRun: func(harness.Run) { cancel() }}
	first, err := sw.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := first.Unfinished(); n != 2 {
		t.Fatalf("%d runs unfinished after the interruption, want 2", n)
	}
	sw.OnRun = nil
	again, err := sw.Run(context.Background())
	if err != nil || again.Reused != 1 || again.Unfinished() != 0 {
		t.Fatalf("resumed sweep reused %d, left %d unfinished (%v)", again.Reused, again.Unfinished(), err)
	}
}

// TestStopOnCancelsEvaluation checks that a cancelled context stops an evaluation with its
// error, which the harness records as a run cut short.
func TestStopOnCancelsEvaluation(t *testing.T) {
	data, dir := expTestData(), t.TempDir()
	cls, _ := expTestClassifier(t, dir, data)
	task, err := NewTask(expTestConfig(vqvae.CE), data, cls, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	task.StopOn(ctx)
	m, err := task.NewModel(1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Evaluate(harness.Test); err != nil {
		t.Fatalf("before cancelling: %v", err)
	}
	cancel()
	for _, s := range []harness.Split{harness.Curve, harness.Validation, harness.Test} {
		if _, err := m.Evaluate(s); !errors.Is(err, context.Canceled) {
			t.Errorf("%v after cancelling: %v", s, err)
		}
	}
}
