package harness

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/fadam-go/fadam"
)

// sgd is θ ← θ − η(g + λθ), enough to drive the loop.
type sgd struct{ lr, wd float64 }

func (s *sgd) SetLR(lr float64) { s.lr = lr }

func (s *sgd) Step(ps []fadam.Param) error {
	for _, p := range ps {
		for i := range p.Value {
			p.Value[i] -= float32(s.lr * (float64(p.Grad[i]) + s.wd*float64(p.Value[i])))
		}
	}
	return nil
}

func sgdOptimizer(name string) Optimizer {
	return Optimizer{Name: name, Config: fadam.Config{WeightDecay: 0.01}, New: func(c fadam.Config) (fadam.Stepper, error) {
		return &sgd{lr: c.LR, wd: c.WeightDecay}, nil
	}}
}

// quadratic is a task whose loss is ½·mean((θ − target − noise)²) with seeded noise per batch;
// reading its test split while testRead is false fails the test.
type quadratic struct {
	t        *testing.T
	testable *atomic.Bool // when not nil, evaluating Test while it is false fails the test
	offset   float64      // added to the test metric
	decayAll bool         // weight decay for the bias too
}

func (q quadratic) Info() Info {
	return Info{Name: "quad", Metric: "loss", CurveMetric: "loss",
		Covers: map[Split]string{Curve: "4 values", Validation: "6 values", Test: "6 values"}}
}

func (q quadratic) Config() any { return map[string]int{"n": 6} }

func (q quadratic) Decays(p *fadam.Param) bool { return q.decayAll || len(p.Shape) >= 2 }

func (q quadratic) NewModel(seed uint64) (Model, error) {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := &quadModel{q: q, rng: rng,
		w: &fadam.Param{Name: "w", Shape: []int{1, 3}, Value: make([]float32, 3), Grad: make([]float32, 3)},
		b: &fadam.Param{Name: "b", Shape: []int{3}, Value: make([]float32, 3), Grad: make([]float32, 3)}}
	for _, p := range m.Params() {
		for i := range p.Value {
			p.Value[i] = float32(rng.NormFloat64())
		}
	}
	return m, nil
}

type quadModel struct {
	q    quadratic
	rng  *rand.Rand
	w, b *fadam.Param
}

func (m *quadModel) Params() []*fadam.Param { return []*fadam.Param{m.w, m.b} }

func (m *quadModel) loss(noise float64, grad bool) float64 {
	var l float64
	for _, p := range m.Params() {
		for i, v := range p.Value {
			d := float64(v) - 1 - noise*m.rng.NormFloat64()
			l += d * d / 12
			if grad {
				p.Grad[i] = float32(d / 6)
			}
		}
	}
	return l
}

func (m *quadModel) TrainStep() (float64, error) { return m.loss(0.1, true), nil }

func (m *quadModel) Evaluate(s Split) (Metrics, error) {
	l := m.loss(0, false)
	switch s {
	case Test:
		if m.q.testable != nil && !m.q.testable.Load() {
			m.q.t.Error("test split evaluated while it must not be")
		}
		l += m.q.offset
	case Validation:
		l += 0.01
	}
	return Metrics{"loss": l}, nil
}

func testLoop() Loop {
	return Loop{Steps: 20, Warmup: 2, MinLRFrac: 0.1, EvalEvery: 5, DivergeMargin: 1}
}

func TestTrainLearns(t *testing.T) {
	q := quadratic{t: t}
	r, err := Train(context.Background(), q, testLoop(), sgdOptimizer("sgd"), 0.5, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Diverged() || !r.Complete(20) || len(r.Curve) != 5 || r.Curve[0].Step != 0 || r.Curve[4].Step != 20 {
		t.Fatalf("result %+v", r)
	}
	if !(r.Test["loss"] < r.Curve[0].Value/2) || math.Abs(r.Threshold-(r.Curve[0].Value+1)) > 1e-12 {
		t.Fatalf("test loss %v from %v, threshold %v", r.Test["loss"], r.Curve[0].Value, r.Threshold)
	}
	if r.Wall <= 0 || r.Wall < r.TrainTime || r.Curve[4].Elapsed > r.Wall {
		t.Fatalf("wall %v, train time %v, last point at %v", r.Wall, r.TrainTime, r.Curve[4].Elapsed)
	}
	if math.Abs(r.Validation["loss"]-r.Test["loss"]-0.01) > 1e-12 || r.Status(20) != "ok" || r.Params != 6 {
		t.Fatalf("validation %v, test %v, status %q, params %d", r.Validation, r.Test, r.Status(20), r.Params)
	}
}

func TestTrainDiverges(t *testing.T) {
	q := quadratic{t: t}
	for _, tc := range []struct {
		lr     float64
		reason string
	}{
		{1e2, "mean training loss"}, // grows ×(1−η/6)² per step: above the threshold, finite
		{1e30, "training loss"},     // overflows to +Inf within a few steps
	} {
		r, err := Train(context.Background(), q, testLoop(), sgdOptimizer("sgd"), tc.lr, 1, nil)
		if err != nil {
			t.Fatalf("lr %g: %v", tc.lr, err)
		}
		if !r.Diverged() || r.Validation != nil || r.Test != nil || len(r.Reason) < len(tc.reason) || r.Reason[:len(tc.reason)] != tc.reason {
			t.Fatalf("lr %g: %+v", tc.lr, r)
		}
	}
}

func TestTrainRejects(t *testing.T) {
	q := quadratic{t: t}
	bad := testLoop()
	bad.DivergeMargin = 0
	for name, f := range map[string]func() error{
		"margin": func() error {
			_, err := Train(context.Background(), q, bad, sgdOptimizer("s"), 0.1, 1, nil)
			return err
		},
		"lr-nan": func() error {
			_, err := Train(context.Background(), q, testLoop(), sgdOptimizer("s"), math.NaN(), 1, nil)
			return err
		},
		"lr-inf": func() error {
			_, err := Train(context.Background(), q, testLoop(), sgdOptimizer("s"), math.Inf(1), 1, nil)
			return err
		},
	} {
		if f() == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func testSweep(t *testing.T, dir string) Sweep {
	return Sweep{Task: quadratic{t: t}, Loop: testLoop(), Optimizers: []Optimizer{sgdOptimizer("a"), sgdOptimizer("b")},
		LRs: []float64{0.1, 0.5}, Seeds: []uint64{1, 2}, Dir: dir, Parallel: 2}
}

func TestSweepResumes(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	s := testSweep(t, dir)
	s.Parallel = 1
	s.OnRun = func(Run) { cancel() } // stop after the first run
	first, err := s.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first.Unfinished() != 7 || first.Reused != 0 {
		t.Fatalf("first pass: %d unfinished, %d reused", first.Unfinished(), first.Reused)
	}
	// The first run of the interleaved order is optimizer a, lr 0.1, seed 1.
	if r := first.Runs[0]; r.Err != nil || !r.Result.Complete(20) {
		t.Fatalf("first run: %+v", r)
	}
	files, _ := filepath.Glob(filepath.Join(dir, RunsDir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("stored %v", files)
	}

	s = testSweep(t, dir)
	second, err := s.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if second.Reused != 1 || !second.Runs[0].Reused || second.Unfinished() != 0 {
		t.Fatalf("second pass: %d reused, %d unfinished", second.Reused, second.Unfinished())
	}
	if a, b := second.Runs[0].Result.Test["loss"], first.Runs[0].Result.Test["loss"]; a != b {
		t.Fatalf("reused test loss %v, stored %v", a, b)
	}
	// Training the same spec afresh gives the stored numbers (runs are deterministic).
	fresh, _ := Train(context.Background(), quadratic{t: t}, testLoop(), sgdOptimizer("a"), 0.1, 1, nil)
	if fresh.Test["loss"] != second.Runs[0].Result.Test["loss"] {
		t.Fatalf("fresh %v, reused %v", fresh.Test["loss"], second.Runs[0].Result.Test["loss"])
	}

	// A different configuration reuses nothing; the same one reuses everything.
	s = testSweep(t, dir)
	s.Loop.Steps = 21
	third, err := s.Run(context.Background())
	if err != nil || third.Reused != 0 {
		t.Fatalf("changed loop reused %d runs (%v)", third.Reused, err)
	}
	var steps atomic.Int64
	s = testSweep(t, dir)
	s.OnStep = func() { steps.Add(1) }
	fourth, err := s.Run(context.Background())
	if err != nil || fourth.Reused != 8 || steps.Load() != 0 {
		t.Fatalf("rerun reused %d, trained %d steps (%v)", fourth.Reused, steps.Load(), err)
	}
}

func TestSweepDamagedStoreRetrains(t *testing.T) {
	dir := t.TempDir()
	s := testSweep(t, dir)
	s.LRs, s.Seeds, s.Optimizers = s.LRs[:1], s.Seeds[:1], s.Optimizers[:1]
	if _, err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, RunsDir, "*.json"))
	if err := os.WriteFile(files[0], []byte("{trunc"), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := s.Run(context.Background())
	if err != nil || o.Reused != 0 || !o.Runs[0].Result.Complete(20) {
		t.Fatalf("reused %d, %+v, %v", o.Reused, o.Runs[0], err)
	}
}

func TestSweepValidate(t *testing.T) {
	for name, edit := range map[string]func(*Sweep){
		"no-lr":     func(s *Sweep) { s.LRs = nil },
		"dup-lr":    func(s *Sweep) { s.LRs = []float64{0.1, 0.1} },
		"neg-lr":    func(s *Sweep) { s.LRs = []float64{-1} },
		"dup-seed":  func(s *Sweep) { s.Seeds = []uint64{1, 1} },
		"dup-opt":   func(s *Sweep) { s.Optimizers = append(s.Optimizers, s.Optimizers[0]) },
		"no-task":   func(s *Sweep) { s.Task = nil },
		"bad-steps": func(s *Sweep) { s.Loop.Steps = 0 },
	} {
		s := testSweep(t, "")
		edit(&s)
		if _, err := s.Run(context.Background()); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestInterleave(t *testing.T) {
	// 2 optimizers × 2 LRs × 2 seeds; grid index = o·4 + l·2 + s.
	got := interleave([]int{0, 1, 2, 3, 4, 5, 6, 7}, 2, 2)
	want := []int{0, 4, 2, 6, 1, 5, 3, 7}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	if err := CheckWritable(filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckWritable(filepath.Join(file, "out")); err == nil {
		t.Fatal("a path under a regular file accepted")
	}
	if errors.Is(nil, os.ErrNotExist) {
		t.Fatal("unreachable")
	}
}

func TestKeyIsFileSafe(t *testing.T) {
	k, err := Spec{Task: "lm", Optimizer: "fadafactor λ=0 / x", LR: 0.003, Seed: 2}.Key()
	if err != nil {
		t.Fatal(err)
	}
	if len(k) != len("lm-fadafactor___=0___x-lr0.003-seed2-")+12 || k[:len("lm-fadafactor__")] != "lm-fadafactor__" {
		t.Fatalf("key %q", k)
	}
	k2, _ := Spec{Task: "lm", Optimizer: "fadafactor λ=0 / x", LR: 0.003, Seed: 3}.Key()
	if k == k2 {
		t.Fatal("seeds share a key")
	}
}

// The library's optimizers take the weight-decay exclusion as a per-parameter option of one
// instance; the result equals the two-instance grouping other optimizers get.
func TestOneOptimizerWithPerParameterDecay(t *testing.T) {
	named, err := Named("fadam", SharedConfig())
	if err != nil {
		t.Fatal(err)
	}
	named.Config.WeightDecay = 0.5 // large, so that a decayed bias would show
	var built int
	one := named
	one.New = func(c fadam.Config) (fadam.Stepper, error) { built++; return named.New(c) }
	// hidden wraps the optimizer so that it offers SetLR but no options by rule.
	two := named
	two.New = func(c fadam.Config) (fadam.Stepper, error) {
		o, err := named.New(c)
		return hidden{o.(interface {
			fadam.Stepper
			SetLR(float64)
		})}, err
	}
	q := quadratic{t: t}
	r1, err := Train(context.Background(), q, testLoop(), one, 0.1, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if built != 1 {
		t.Fatalf("built %d optimizers, want one", built)
	}
	r2, err := Train(context.Background(), q, testLoop(), two, 0.1, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r1.Test["loss"]-r2.Test["loss"]) > 1e-6*r2.Test["loss"] {
		t.Fatalf("one optimizer with options: %v; two instances: %v", r1.Test["loss"], r2.Test["loss"])
	}
	// Without the exclusion the bias decays too, and the loss differs.
	r3, err := Train(context.Background(), quadratic{t: t, decayAll: true}, testLoop(), one, 0.1, 1, nil)
	if err != nil || math.Abs(r3.Test["loss"]-r1.Test["loss"]) < 1e-4 {
		t.Fatalf("decaying every tensor: %v (%v); with the exclusion: %v", r3.Test["loss"], err, r1.Test["loss"])
	}
}

type hidden struct {
	o interface {
		fadam.Stepper
		SetLR(float64)
	}
}

func (h hidden) Step(ps []fadam.Param) error { return h.o.Step(ps) }
func (h hidden) SetLR(lr float64)            { h.o.SetLR(lr) }
