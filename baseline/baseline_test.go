package baseline_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/baseline"
	"github.com/fadam-go/fadam/reference"
)

// newReference returns the float64 reference (package reference) of Adam or Adafactor for ps.
func newReference(t testing.TB, cfg fadam.Config, adafactor bool, ps []fadam.Param) *reference.Optimizer {
	t.Helper()
	alg := fadam.AlgorithmAdam
	if adafactor {
		alg = fadam.AlgorithmAdafactor
	}
	r, err := reference.New(alg, cfg, ps)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// refStep steps the reference with float32 gradients.
func refStep(t testing.TB, r *reference.Optimizer, grads [][]float32) {
	t.Helper()
	if err := r.StepFloat32(grads); err != nil {
		t.Fatal(err)
	}
}

type stepper interface {
	Step([]fadam.Param) error
	Steps() int64
	Fisher(string) ([]float32, error)
	StateBytes() int64
	SetLR(float64)
}

func build(t testing.TB, adafactor bool, cfg fadam.Config) stepper {
	t.Helper()
	if adafactor {
		o, err := baseline.NewAdafactor(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	o, err := baseline.NewAdam(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

type spec struct {
	name  string
	shape []int
}

var mixedSpecs = []spec{{"w", []int{7, 5}}, {"b", []int{5}}, {"s", []int{}}, {"big", []int{3, 20000}}, {"t3", []int{2, 3, 4}}}

func makeParams(rng *rand.Rand, specs []spec) []fadam.Param {
	ps := make([]fadam.Param, len(specs))
	for i, s := range specs {
		n := 1
		for _, d := range s.shape {
			n *= d
		}
		ps[i] = fadam.Param{Name: s.name, Shape: s.shape, Value: make([]float32, n), Grad: make([]float32, n)}
		for j := range ps[i].Value {
			ps[i].Value[j] = float32(rng.NormFloat64())
		}
	}
	return ps
}

func fillGrads(rng *rand.Rand, ps []fadam.Param, scale float64) [][]float32 {
	gs := make([][]float32, len(ps))
	for i := range ps {
		for j := range ps[i].Grad {
			g := scale * rng.NormFloat64()
			ps[i].Grad[j] = float32(math.Max(-math.MaxFloat32, math.Min(math.MaxFloat32, g)))
		}
		gs[i] = ps[i].Grad
	}
	return gs
}

func closeTo(got []float32, want []float64, tol float64) error {
	r := reference.RMS(want)
	for i := range want {
		g := float64(got[i])
		if math.IsNaN(g) || math.IsInf(g, 0) {
			return fmt.Errorf("element %d is %v", i, g)
		}
		scale := math.Max(math.Abs(want[i]), r*1e-2)
		if d := math.Abs(g - want[i]); d > tol*scale && d > 1e-300 {
			return fmt.Errorf("element %d = %v, want %v", i, g, want[i])
		}
	}
	return nil
}

func TestAgainstReference(t *testing.T) {
	base := func(c *fadam.Config) { c.LR, c.WeightDecay = 0.05, 0.1 }
	cases := []struct {
		name      string
		cfg       func(*fadam.Config)
		gradScale float64
		steps     int
		zeroFirst bool
	}{
		{"t1", base, 1, 1, false},
		{"t2", base, 1, 2, false},
		{"t10", base, 1, 10, false},
		{"clip-active", func(c *fadam.Config) { base(c); c.Clip = 0.3 }, 1, 4, false},
		{"clip-off", func(c *fadam.Config) { base(c); c.Clip = 0 }, 1, 4, false},
		{"maximize", func(c *fadam.Config) { base(c); c.Maximize = true }, 1, 3, false},
		{"tiny", base, 1e-30, 3, false},
		{"huge", base, 1e15, 3, false},
		{"zero-first", base, 1, 3, true},
		{"zero-eps-zero-grad", func(c *fadam.Config) { base(c); c.Eps = 0 }, 1, 3, true},
	}
	for _, c := range cases {
		for _, adafactor := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/adafactor=%v", c.name, adafactor), func(t *testing.T) {
				cfg := fadam.Defaults()
				if adafactor {
					cfg = baseline.AdafactorDefaults()
				}
				c.cfg(&cfg)
				rng := rand.New(rand.NewPCG(1, 2))
				ps := makeParams(rng, mixedSpecs)
				ref := newReference(t, cfg, adafactor, ps)
				opt := build(t, adafactor, cfg)
				for s := 1; s <= c.steps; s++ {
					scale := c.gradScale
					if c.zeroFirst && s == 1 {
						scale = 0
					}
					refStep(t, ref, fillGrads(rng, ps, scale))
					if err := opt.Step(ps); err != nil {
						t.Fatal(err)
					}
				}
				for i, p := range ps {
					if err := closeTo(p.Value, ref.Tensors[i].Theta, 2e-5); err != nil {
						t.Errorf("%s θ: %v", p.Name, err)
					}
				}
			})
		}
	}
}

// TestParamOptionsAgainstReference: per-parameter λ (replacing the optimizer's; for Adafactor
// not scaled by η) and LR scale, by name and by rule, changed between steps with the global λ
// and η, against the float64 references.
func TestParamOptionsAgainstReference(t *testing.T) {
	type want struct{ lrS, wd float64 }
	rule := func(_ string, shape []int) fadam.ParamOptions {
		if len(shape) <= 1 {
			return fadam.ParamOptions{NoWeightDecay: true}
		}
		return fadam.ParamOptions{LRScale: 0.5}
	}
	steps := []struct {
		lr, wd float64
		set    map[string]fadam.ParamOptions
		want   map[string]want // unlisted: rule's LRScale 0.5 and the global λ
	}{
		{0.05, 0.1, map[string]fadam.ParamOptions{"w": fadam.ParamOptions{LRScale: 2}.WithWeightDecay(0.7)},
			map[string]want{"w": {2, 0.7}, "b": {1, 0}, "s": {1, 0}}},
		{0.03, 0.3, nil, map[string]want{"w": {2, 0.7}, "b": {1, 0}, "s": {1, 0}}},
		{0.02, 0.05, map[string]fadam.ParamOptions{"w": fadam.ParamOptions{}.WithWeightDecay(0), "b": fadam.ParamOptions{LRScale: 3}.WithWeightDecay(0.2)},
			map[string]want{"w": {1, 0}, "b": {3, 0.2}, "s": {1, 0}}},
	}
	for _, adafactor := range []bool{false, true} {
		cfg := fadam.Defaults()
		if adafactor {
			cfg = baseline.AdafactorDefaults()
		}
		rng := rand.New(rand.NewPCG(3, 4))
		ps := makeParams(rng, mixedSpecs)
		ref := newReference(t, cfg, adafactor, ps)
		opt := build(t, adafactor, cfg).(*fadam.Optimizer)
		opt.SetParamOptionsFunc(rule)
		for k, s := range steps {
			opt.SetLR(s.lr)
			opt.SetWeightDecay(s.wd)
			for name, o := range s.set {
				if err := opt.SetParamOptions(name, o); err != nil {
					t.Fatal(err)
				}
			}
			ref.Config.LR = s.lr
			for i, p := range ps {
				w, ok := s.want[p.Name]
				if !ok {
					w = want{0.5, s.wd}
				}
				ref.Tensors[i].LRScale, ref.Tensors[i].WeightDecay = w.lrS, w.wd
			}
			refStep(t, ref, fillGrads(rng, ps, 1))
			if err := opt.Step(ps); err != nil {
				t.Fatal(err)
			}
			for i, p := range ps {
				if err := closeTo(p.Value, ref.Tensors[i].Theta, 2e-5); err != nil {
					t.Errorf("adafactor=%v step %d %s: %v", adafactor, k+1, p.Name, err)
				}
			}
		}
	}
}

func TestAdamFisherIsVHat(t *testing.T) {
	cfg := fadam.Defaults()
	opt := build(t, false, cfg)
	ps := []fadam.Param{{Name: "x", Shape: []int{2}, Value: []float32{1, 1}, Grad: []float32{3, -0.5}}}
	for range 2 {
		if err := opt.Step(ps); err != nil {
			t.Fatal(err)
		}
	}
	f, err := opt.Fisher("x")
	if err != nil {
		t.Fatal(err)
	}
	// v̂ of a constant gradient is g².
	if math.Abs(float64(f[0])-9) > 1e-5 || math.Abs(float64(f[1])-0.25) > 1e-6 {
		t.Errorf("Fisher = %v, want [9 0.25]", f)
	}
}

func TestInvalidConfig(t *testing.T) {
	for _, mod := range []func(*fadam.Config){
		func(c *fadam.Config) { c.Beta1 = 1 },
		func(c *fadam.Config) { c.Beta2 = -0.1 },
		func(c *fadam.Config) { c.LR = math.NaN() },
		func(c *fadam.Config) { c.Clip = -1 },
		func(c *fadam.Config) { c.Eps = -1 },
		func(c *fadam.Config) { c.WeightDecay = math.Inf(1) },
	} {
		cfg := fadam.Defaults()
		mod(&cfg)
		if _, err := baseline.NewAdam(cfg); !errors.Is(err, fadam.ErrInvalidConfig) {
			t.Errorf("NewAdam(%+v) = %v", cfg, err)
		}
		if _, err := baseline.NewAdafactor(cfg); !errors.Is(err, fadam.ErrInvalidConfig) {
			t.Errorf("NewAdafactor(%+v) = %v", cfg, err)
		}
	}
}

func TestBadInputUntouched(t *testing.T) {
	for _, adafactor := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(4, 4))
		ps := makeParams(rng, mixedSpecs)
		opt := build(t, adafactor, fadam.Defaults())
		fillGrads(rng, ps, 1)
		if err := opt.Step(ps); err != nil {
			t.Fatal(err)
		}
		fillGrads(rng, ps, 1)
		ps[3].Grad[59999] = float32(math.Inf(1))
		vals := make([][]float32, len(ps))
		for i := range ps {
			vals[i] = slices.Clone(ps[i].Value)
		}
		if err := opt.Step(ps); !errors.Is(err, fadam.ErrNonFinite) {
			t.Fatalf("err = %v", err)
		}
		for i := range ps {
			if !slices.Equal(vals[i], ps[i].Value) {
				t.Errorf("%s changed", ps[i].Name)
			}
		}
		if opt.Steps() != 1 {
			t.Errorf("step count changed")
		}
	}
}

func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	specs := []spec{{"big", []int{100, 700}}, {"v", []int{40001}}}
	for _, adafactor := range []bool{false, true} {
		run := func(procs int) []fadam.Param {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			rng := rand.New(rand.NewPCG(5, 5))
			ps := makeParams(rng, specs)
			opt := build(t, adafactor, fadam.Defaults())
			for range 3 {
				fillGrads(rng, ps, 1)
				if err := opt.Step(ps); err != nil {
					t.Fatal(err)
				}
			}
			return ps
		}
		a, b := run(1), run(8)
		for i := range a {
			if !slices.Equal(a[i].Value, b[i].Value) {
				t.Errorf("adafactor=%v %s: GOMAXPROCS 1 and 8 differ", adafactor, a[i].Name)
			}
		}
	}
}
