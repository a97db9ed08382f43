package fadam_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/reference"
)

type spec struct {
	name  string
	shape []int
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// makeParams builds parameters with N(0,1) values.
func makeParams(rng *rand.Rand, specs []spec) []fadam.Param {
	ps := make([]fadam.Param, len(specs))
	for i, s := range specs {
		n := numel(s.shape)
		ps[i] = fadam.Param{Name: s.name, Shape: s.shape, Value: make([]float32, n), Grad: make([]float32, n)}
		for j := range ps[i].Value {
			ps[i].Value[j] = float32(rng.NormFloat64())
		}
	}
	return ps
}

// fillGrads sets N(0, scale²) gradients.
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

// closeTo reports the first element where got and want differ by more than tol relative to
// max(|want|, RMS(want)·1e-2).
func closeTo(got []float32, want []float64, tol float64) error {
	r := reference.RMS(want)
	for i := range want {
		g := float64(got[i])
		if math.IsNaN(g) || math.IsInf(g, 0) {
			return fmt.Errorf("element %d is %v", i, g)
		}
		scale := math.Max(math.Abs(want[i]), r*1e-2)
		if math.Abs(g-want[i]) > tol*scale && math.Abs(g-want[i]) > 1e-300 {
			return fmt.Errorf("element %d = %v, want %v (diff %.3g, tol %.3g)", i, g, want[i], math.Abs(g-want[i]), tol*scale)
		}
	}
	return nil
}

var mixedSpecs = []spec{{"w", []int{7, 5}}, {"b", []int{5}}, {"s", []int{}}, {"big", []int{3, 20000}}, {"t3", []int{2, 3, 4}}, {"empty", []int{0, 3}}}

func TestAgainstReference(t *testing.T) {
	type tc struct {
		name      string
		factored  bool
		specs     []spec
		cfg       func(*fadam.Config)
		gradScale float64
		steps     int
		zeroFirst bool // all-zero gradients at step 1 (zero-denominator edge)
		noFisher  bool // f is outside float32's range
	}
	base := func(c *fadam.Config) { c.LR, c.WeightDecay = 0.05, 0.1 }
	cases := []tc{
		{name: "t1", specs: mixedSpecs, cfg: base, gradScale: 1, steps: 1},
		{name: "t2", specs: mixedSpecs, cfg: base, gradScale: 1, steps: 2},
		{name: "t12", specs: mixedSpecs, cfg: base, gradScale: 1, steps: 12},
		{name: "clip-active", specs: mixedSpecs, cfg: func(c *fadam.Config) { base(c); c.Clip = 0.3 }, gradScale: 1, steps: 4},
		{name: "clip-inactive", specs: mixedSpecs, cfg: func(c *fadam.Config) { base(c); c.Clip = 1e6 }, gradScale: 1, steps: 4},
		{name: "adaptive-eps", specs: mixedSpecs, cfg: base, gradScale: 1e-12, steps: 3},
		{name: "zero-denominator", specs: mixedSpecs, cfg: base, gradScale: 1, steps: 3, zeroFirst: true},
		{name: "tiny", specs: mixedSpecs, cfg: base, gradScale: 1e-30, steps: 3, noFisher: true},
		{name: "huge", specs: mixedSpecs, cfg: base, gradScale: 1e15, steps: 3},
		{name: "rho-0.25", specs: mixedSpecs, cfg: func(c *fadam.Config) { base(c); c.Rho = 0.25 }, gradScale: 1, steps: 3},
		{name: "rho-1", specs: mixedSpecs, cfg: func(c *fadam.Config) { base(c); c.Rho = 1 }, gradScale: 1, steps: 3},
		{name: "pytorch", specs: mixedSpecs, cfg: func(c *fadam.Config) { base(c); c.Variant = fadam.PyTorchReference; c.Clip = 0.5 }, gradScale: 1, steps: 3},
		{name: "later-eps", specs: mixedSpecs, cfg: func(c *fadam.Config) { base(c); c.Variant = fadam.LaterEps }, gradScale: 1, steps: 3},
		{name: "later-eps-clip", specs: mixedSpecs, cfg: func(c *fadam.Config) { base(c); c.Variant = fadam.LaterEps; c.Clip = 0.5 }, gradScale: 1, steps: 3},
		{name: "later-eps-rho-0.25", specs: mixedSpecs, cfg: func(c *fadam.Config) { base(c); c.Variant = fadam.LaterEps; c.Rho = 0.25 }, gradScale: 1, steps: 3},
		{name: "later-eps-tiny-rms", specs: mixedSpecs, cfg: func(c *fadam.Config) { base(c); c.Variant = fadam.LaterEps; c.Eps = 1e-3 }, gradScale: 1e-9, steps: 3},
		{name: "later-eps-large-rms", specs: mixedSpecs, cfg: func(c *fadam.Config) { base(c); c.Variant = fadam.LaterEps; c.Eps = 1e-3 }, gradScale: 1e3, steps: 3},
		{name: "later-eps-zero-first", specs: mixedSpecs, cfg: func(c *fadam.Config) { base(c); c.Variant = fadam.LaterEps }, gradScale: 1, steps: 3, zeroFirst: true},
		{name: "maximize", specs: mixedSpecs, cfg: func(c *fadam.Config) { base(c); c.Maximize = true }, gradScale: 1, steps: 3},
		{name: "no-decay-beta0", specs: mixedSpecs, cfg: func(c *fadam.Config) { c.LR, c.WeightDecay, c.Beta1, c.Beta2 = 0.05, 0, 0, 0 }, gradScale: 1, steps: 3},
	}
	for _, c := range cases {
		for _, factored := range []bool{false, true} {
			name := c.name + map[bool]string{false: "/fadam", true: "/fadafactor"}[factored]
			t.Run(name, func(t *testing.T) {
				cfg := fadam.Defaults()
				c.cfg(&cfg)
				rng := rand.New(rand.NewPCG(1, 2))
				ps := makeParams(rng, c.specs)
				ref := newRef(t, cfg, factored, ps)
				opt := mustNew(t, cfg, factored)
				for step := 1; step <= c.steps; step++ {
					scale := c.gradScale
					if c.zeroFirst && step == 1 {
						scale = 0
					}
					gs := fillGrads(rng, ps, scale)
					refStep(t, ref, gs)
					if err := opt.Step(ps); err != nil {
						t.Fatal(err)
					}
				}
				if opt.Steps() != int64(c.steps) {
					t.Errorf("Steps() = %d, want %d", opt.Steps(), c.steps)
				}
				for i, p := range ps {
					if err := closeTo(p.Value, ref.Tensors[i].Theta, 2e-5); err != nil {
						t.Errorf("%s θ: %v", p.Name, err)
					}
					if c.noFisher {
						continue
					}
					f, err := opt.Fisher(p.Name)
					if err != nil {
						t.Fatal(err)
					}
					if err := closeTo(f, ref.Fisher(ref.Tensors[i]), 2e-5); err != nil {
						t.Errorf("%s f: %v", p.Name, err)
					}
				}
			})
		}
	}
}

func mustNew(t testing.TB, cfg fadam.Config, factored bool) *fadam.Optimizer {
	t.Helper()
	var opt *fadam.Optimizer
	var err error
	if factored {
		opt, err = fadam.NewFactored(cfg)
	} else {
		opt, err = fadam.New(cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

// TestHandComputed checks one step against numbers worked out by hand: t = 1, one element,
// g = 2, θ = 1: f = 4, ε̂ = min(1e-8, 0.01·2) = 1e-8, d = 2 + 1e-8, ḡ = g/d ≈ 1 (RMS < c = 1,
// no clip), m = 0.1·ḡ, ḡ_w = 1/d ≈ 0.5, θ = 1 − 0.1·(m + 0.5·ḡ_w).
func TestHandComputed(t *testing.T) {
	cfg := fadam.Defaults()
	cfg.LR, cfg.WeightDecay = 0.1, 0.5
	opt := mustNew(t, cfg, false)
	p := []fadam.Param{{Name: "x", Shape: []int{1}, Value: []float32{1}, Grad: []float32{2}}}
	if err := opt.Step(p); err != nil {
		t.Fatal(err)
	}
	d := 2 + 1e-8
	m := 0.1 * 2 / d
	want := 1 - 0.1*(m+0.5*(1/d))
	if math.Abs(float64(p[0].Value[0])-want) > 1e-7 {
		t.Errorf("θ = %v, want %v", p[0].Value[0], want)
	}
}

func TestRank1And0FactoredEqualsFAdam(t *testing.T) {
	cfg := fadam.Defaults()
	cfg.LR = 0.1
	specs := []spec{{"v", []int{9}}, {"s", nil}}
	a, b := makeParams(rand.New(rand.NewPCG(3, 4)), specs), makeParams(rand.New(rand.NewPCG(3, 4)), specs)
	oa, ob := mustNew(t, cfg, false), mustNew(t, cfg, true)
	for range 3 {
		fillGrads(rand.New(rand.NewPCG(5, 6)), a, 1)
		fillGrads(rand.New(rand.NewPCG(5, 6)), b, 1)
		if err := oa.Step(a); err != nil {
			t.Fatal(err)
		}
		if err := ob.Step(b); err != nil {
			t.Fatal(err)
		}
	}
	for i := range a {
		if !slices.Equal(a[i].Value, b[i].Value) {
			t.Errorf("%s: FAdafactor differs from FAdam on a rank-%d tensor", a[i].Name, len(a[i].Shape))
		}
	}
}

func TestStateBytes(t *testing.T) {
	cfg := fadam.Defaults()
	for _, c := range []struct {
		factored bool
		shape    []int
		want     int64
	}{
		{false, []int{64, 32}, 8 * 64 * 32},
		{true, []int{64, 32}, 4*64*32 + 4*(64+32)},
		{true, []int{100}, 8 * 100},
	} {
		opt := mustNew(t, cfg, c.factored)
		ps := makeParams(rand.New(rand.NewPCG(1, 1)), []spec{{"w", c.shape}})
		if err := opt.Step(ps); err != nil {
			t.Fatal(err)
		}
		if got := opt.StateBytes(); got != c.want {
			t.Errorf("factored=%v %v: StateBytes = %d, want %d", c.factored, c.shape, got, c.want)
		}
	}
}

func TestParamOptions(t *testing.T) {
	cfg := fadam.Defaults()
	cfg.LR, cfg.WeightDecay = 0.05, 0.3
	for _, factored := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(8, 9))
		ps := makeParams(rng, mixedSpecs)
		ref := newRef(t, cfg, factored, ps)
		opt := mustNew(t, cfg, factored)
		// An explicit option beats the rule; the rule covers the rest.
		if err := opt.SetParamOptions("w", fadam.ParamOptions{LRScale: 0.5}); err != nil {
			t.Fatal(err)
		}
		opt.SetParamOptionsFunc(func(name string, shape []int) fadam.ParamOptions {
			return fadam.ParamOptions{NoWeightDecay: len(shape) <= 1 || name == "w"}
		})
		ref.Tensors[0].LRScale = 0.5
		ref.Tensors[1].WeightDecay, ref.Tensors[2].WeightDecay = 0, 0
		for range 3 {
			refStep(t, ref, fillGrads(rng, ps, 1))
			if err := opt.Step(ps); err != nil {
				t.Fatal(err)
			}
		}
		// LR changes between steps.
		opt.SetLR(0.01)
		ref.Config.LR = 0.01
		refStep(t, ref, fillGrads(rng, ps, 1))
		if err := opt.Step(ps); err != nil {
			t.Fatal(err)
		}
		if opt.LR() != 0.01 {
			t.Errorf("LR() = %v", opt.LR())
		}
		for i, p := range ps {
			if err := closeTo(p.Value, ref.Tensors[i].Theta, 2e-5); err != nil {
				t.Errorf("factored=%v %s: %v", factored, p.Name, err)
			}
		}
		fresh := mustNew(t, cfg, factored)
		if err := fresh.SetParamOptions("bias", fadam.ParamOptions{NoWeightDecay: true}); err != nil {
			t.Fatal(err)
		}
		if err := fresh.Step(ps); !errors.Is(err, fadam.ErrUnknownParam) || fresh.Steps() != 0 {
			t.Errorf("Step with options for a missing parameter = %v, want ErrUnknownParam", err)
		}
		if err := opt.SetParamOptions("nope", fadam.ParamOptions{}); !errors.Is(err, fadam.ErrUnknownParam) {
			t.Errorf("SetParamOptions(unknown) = %v, want ErrUnknownParam", err)
		}
		if _, err := opt.Fisher("nope"); !errors.Is(err, fadam.ErrUnknownParam) {
			t.Errorf("Fisher(unknown) = %v, want ErrUnknownParam", err)
		}
	}
}

func TestInvalidConfig(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name string
		mod  func(*fadam.Config)
	}{
		{"beta1=1", func(c *fadam.Config) { c.Beta1 = 1 }},
		{"beta1<0", func(c *fadam.Config) { c.Beta1 = -0.1 }},
		{"beta2=1", func(c *fadam.Config) { c.Beta2 = 1 }},
		{"beta2 NaN", func(c *fadam.Config) { c.Beta2 = nan }},
		{"lr<0", func(c *fadam.Config) { c.LR = -1 }},
		{"lr NaN", func(c *fadam.Config) { c.LR = nan }},
		{"lr Inf", func(c *fadam.Config) { c.LR = math.Inf(1) }},
		{"rho=0", func(c *fadam.Config) { c.Rho = 0 }},
		{"rho<0", func(c *fadam.Config) { c.Rho = -0.5 }},
		{"clip=0", func(c *fadam.Config) { c.Clip = 0 }},
		{"clip<0", func(c *fadam.Config) { c.Clip = -1 }},
		{"eps<0", func(c *fadam.Config) { c.Eps = -1e-8 }},
		{"eps2<0", func(c *fadam.Config) { c.Eps2 = -0.01 }},
		{"wd<0", func(c *fadam.Config) { c.WeightDecay = -1 }},
		{"variant", func(c *fadam.Config) { c.Variant = 7 }},
		{"variant<0", func(c *fadam.Config) { c.Variant = -1 }},
		{"max-grad-norm<0", func(c *fadam.Config) { c.MaxGradNorm = -1 }},
		{"max-grad-norm NaN", func(c *fadam.Config) { c.MaxGradNorm = nan }},
	}
	for _, c := range cases {
		cfg := fadam.Defaults()
		c.mod(&cfg)
		for _, factored := range []bool{false, true} {
			var err error
			if factored {
				_, err = fadam.NewFactored(cfg)
			} else {
				_, err = fadam.New(cfg)
			}
			if !errors.Is(err, fadam.ErrInvalidConfig) {
				t.Errorf("%s: err = %v, want ErrInvalidConfig", c.name, err)
			}
		}
	}
}

func state(t *testing.T, opt *fadam.Optimizer) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := opt.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func cloneParams(ps []fadam.Param) []fadam.Param {
	out := make([]fadam.Param, len(ps))
	for i, p := range ps {
		out[i] = fadam.Param{Name: p.Name, Shape: slices.Clone(p.Shape), Value: slices.Clone(p.Value), Grad: slices.Clone(p.Grad)}
	}
	return out
}

func TestBadInputLeavesEverythingUntouched(t *testing.T) {
	type tc struct {
		name string
		mod  func(ps []fadam.Param) []fadam.Param
		opt  func(o *fadam.Optimizer)
		want error
	}
	cases := []tc{
		{"nan-grad", func(ps []fadam.Param) []fadam.Param { ps[3].Grad[40000] = float32(math.NaN()); return ps }, nil, fadam.ErrNonFinite},
		{"inf-grad", func(ps []fadam.Param) []fadam.Param { ps[1].Grad[2] = float32(math.Inf(-1)); return ps }, nil, fadam.ErrNonFinite},
		{"short-value", func(ps []fadam.Param) []fadam.Param { ps[0].Value = ps[0].Value[:3]; return ps }, nil, fadam.ErrInvalidParam},
		{"short-grad", func(ps []fadam.Param) []fadam.Param { ps[2].Grad = nil; return ps }, nil, fadam.ErrInvalidParam},
		{"bad-shape", func(ps []fadam.Param) []fadam.Param { ps[0].Shape = []int{5, 7, 2}; return ps }, nil, fadam.ErrInvalidParam},
		{"negative-dim", func(ps []fadam.Param) []fadam.Param { ps[0].Shape = []int{-7, -5}; return ps }, nil, fadam.ErrInvalidParam},
		{"empty-name", func(ps []fadam.Param) []fadam.Param { ps[1].Name = ""; return ps }, nil, fadam.ErrInvalidParam},
		{"duplicate", func(ps []fadam.Param) []fadam.Param { ps[1].Name = "w"; return ps }, nil, fadam.ErrInvalidParam},
		{"aliased", func(ps []fadam.Param) []fadam.Param { ps[1].Grad = ps[1].Value; return ps }, nil, fadam.ErrInvalidParam},
		{"none", func(ps []fadam.Param) []fadam.Param { return nil }, nil, fadam.ErrInvalidParam},
		{"renamed", func(ps []fadam.Param) []fadam.Param { ps[1].Name = "bias"; return ps }, nil, fadam.ErrParamSetChanged},
		{"reshaped", func(ps []fadam.Param) []fadam.Param { ps[0].Shape = []int{5, 7}; return ps }, nil, fadam.ErrParamSetChanged},
		{"reordered", func(ps []fadam.Param) []fadam.Param { ps[0], ps[1] = ps[1], ps[0]; return ps }, nil, fadam.ErrParamSetChanged},
		{"dropped", func(ps []fadam.Param) []fadam.Param { return ps[:4] }, nil, fadam.ErrParamSetChanged},
		{"bad-lr", nil, func(o *fadam.Optimizer) { o.SetLR(-1) }, fadam.ErrInvalidConfig},
		{"bad-option", nil, func(o *fadam.Optimizer) {
			o.SetParamOptionsFunc(func(string, []int) fadam.ParamOptions { return fadam.ParamOptions{LRScale: -1} })
		}, fadam.ErrInvalidConfig},
	}
	for _, c := range cases {
		for _, factored := range []bool{false, true} {
			for _, first := range []bool{false, true} { // failing on the very first step or later
				if first && c.want == fadam.ErrParamSetChanged {
					continue
				}
				t.Run(fmt.Sprintf("%s/factored=%v/first=%v", c.name, factored, first), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(11, 12))
					ps := makeParams(rng, mixedSpecs)
					opt := mustNew(t, fadam.Defaults(), factored)
					if !first {
						fillGrads(rng, ps, 1)
						if err := opt.Step(ps); err != nil {
							t.Fatal(err)
						}
					}
					fillGrads(rng, ps, 1)
					// The state before c.opt: WriteTo refuses an invalid configuration.
					before, st, steps := cloneParams(ps), state(t, opt), opt.Steps()
					if c.opt != nil {
						c.opt(opt)
					}
					bad := cloneParams(ps)
					if c.mod != nil {
						bad = c.mod(bad)
					}
					err := opt.Step(bad)
					if !errors.Is(err, c.want) {
						t.Fatalf("err = %v, want %v", err, c.want)
					}
					t.Log(err)
					for i := range bad {
						if i < len(before) && bad[i].Name == before[i].Name && len(bad[i].Value) == len(before[i].Value) &&
							!slices.Equal(bad[i].Value, before[i].Value) {
							t.Errorf("%s changed", bad[i].Name)
						}
					}
					if opt.Steps() != steps {
						t.Errorf("step count changed")
					}
					// The optimizer still works with good input.
					if c.opt != nil {
						opt.SetLR(1e-3)
						opt.SetParamOptionsFunc(nil)
					}
					if !bytes.Equal(state(t, opt), st) {
						t.Errorf("optimizer state changed")
					}
					if err := opt.Step(ps); err != nil {
						t.Errorf("good step after error: %v", err)
					}
				})
			}
		}
	}
}

func TestNamedInError(t *testing.T) {
	ps := makeParams(rand.New(rand.NewPCG(1, 1)), mixedSpecs)
	ps[3].Grad[5] = float32(math.NaN())
	err := mustNew(t, fadam.Defaults(), false).Step(ps)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(`"big"`)) {
		t.Errorf("error %v does not name the parameter", err)
	}
}

func TestFiniteForExtremeGradients(t *testing.T) {
	for _, mag := range []float64{0, 1e-45, 1e-30, 1e-12, 1, 1e15, 1e19, 3e38} {
		for _, factored := range []bool{false, true} {
			for _, variant := range []fadam.Variant{fadam.Paper, fadam.PyTorchReference, fadam.LaterEps} {
				cfg := fadam.Defaults()
				cfg.Variant = variant
				cfg.LR, cfg.WeightDecay = 0.1, 0.1
				opt := mustNew(t, cfg, factored)
				rng := rand.New(rand.NewPCG(2, 3))
				ps := makeParams(rng, mixedSpecs)
				for s := range 3 {
					m := mag
					if s == 1 {
						m = 0 // a zero step between extremes
					}
					fillGrads(rng, ps, m)
					if err := opt.Step(ps); err != nil {
						t.Fatal(err)
					}
				}
				for _, p := range ps {
					f, _ := opt.Fisher(p.Name)
					for i := range p.Value {
						if v := float64(p.Value[i]); math.IsNaN(v) || math.IsInf(v, 0) {
							t.Fatalf("|g|=%g factored=%v variant=%d: %s[%d] = %v", mag, factored, variant, p.Name, i, v)
						}
						if v := float64(f[i]); math.IsNaN(v) || math.IsInf(v, 0) {
							t.Fatalf("|g|=%g factored=%v variant=%d: f of %s[%d] = %v", mag, factored, variant, p.Name, i, v)
						}
					}
				}
			}
		}
	}
}

func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	specs := []spec{{"big", []int{100, 700}}, {"wide", []int{2, 3000}}, {"v", []int{40001}}, {"s", nil}}
	run := func(procs int, factored bool) []fadam.Param {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		rng := rand.New(rand.NewPCG(21, 22))
		ps := makeParams(rng, specs)
		cfg := fadam.Defaults()
		cfg.LR = 0.01
		opt := mustNew(t, cfg, factored)
		for range 3 {
			fillGrads(rng, ps, 1e-7) // small enough for the adaptive ε̂ path
			if err := opt.Step(ps); err != nil {
				t.Fatal(err)
			}
		}
		return ps
	}
	for _, factored := range []bool{false, true} {
		a, b := run(1, factored), run(8, factored)
		for i := range a {
			if !slices.Equal(a[i].Value, b[i].Value) {
				t.Errorf("factored=%v %s: GOMAXPROCS 1 and 8 differ", factored, a[i].Name)
			}
		}
	}
}

// optionsOn turns on every per-step option for the tests below: global-norm clipping that
// clips, per-parameter λ and LR scale by rule and by name, and the LaterEps variant (which
// the baselines ignore).
func optionsOn(t testing.TB, alg fadam.Algorithm) *fadam.Optimizer {
	t.Helper()
	cfg := fadam.DefaultsFor(alg)
	cfg.LR, cfg.MaxGradNorm, cfg.Variant = 0.01, 0.5, fadam.LaterEps
	o, err := alg.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o.SetParamOptionsFunc(func(_ string, shape []int) fadam.ParamOptions {
		if len(shape) <= 1 {
			return fadam.ParamOptions{}.WithWeightDecay(0)
		}
		return fadam.ParamOptions{LRScale: 0.5}
	})
	if err := o.SetParamOptions("big", fadam.ParamOptions{LRScale: 2}.WithWeightDecay(0.05)); err != nil {
		t.Fatal(err)
	}
	return o
}

var optionSpecs = []spec{{"big", []int{100, 700}}, {"wide", []int{2, 3000}}, {"v", []int{40001}}, {"s", nil}}

// TestDeterministicWithOptions: with clipping and per-parameter options on, every algorithm
// gives bit-identical values (and the same reported norm) for GOMAXPROCS 1 and 8.
func TestDeterministicWithOptions(t *testing.T) {
	run := func(procs int, alg fadam.Algorithm) ([]fadam.Param, float64) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		rng := rand.New(rand.NewPCG(21, 22))
		ps := makeParams(rng, optionSpecs)
		opt := optionsOn(t, alg)
		for range 3 {
			fillGrads(rng, ps, 1)
			if err := opt.Step(ps); err != nil {
				t.Fatal(err)
			}
		}
		if opt.LastGradNorm() <= opt.Config().MaxGradNorm {
			t.Fatalf("norm %v: the test does not clip", opt.LastGradNorm())
		}
		return ps, opt.LastGradNorm()
	}
	for _, alg := range fadam.Algorithms {
		a, na := run(1, alg)
		b, nb := run(8, alg)
		if na != nb {
			t.Errorf("%s: LastGradNorm %v with GOMAXPROCS 1, %v with 8", alg, na, nb)
		}
		for i := range a {
			if !slices.Equal(a[i].Value, b[i].Value) || !slices.Equal(a[i].Grad, b[i].Grad) {
				t.Errorf("%s %s: GOMAXPROCS 1 and 8 differ", alg, a[i].Name)
			}
		}
	}
}

// TestStepDoesNotAllocate: after the first step (which registers the parameters), Step
// allocates nothing, with clipping and per-parameter options on.
func TestStepDoesNotAllocate(t *testing.T) {
	for _, alg := range fadam.Algorithms {
		for _, procs := range []int{1, 2} {
			func() {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				rng := rand.New(rand.NewPCG(5, 6))
				ps := makeParams(rng, optionSpecs)
				opt := optionsOn(t, alg)
				fillGrads(rng, ps, 1)
				if err := opt.Step(ps); err != nil {
					t.Fatal(err)
				}
				allocs := testing.AllocsPerRun(5, func() {
					for _, p := range ps { // N(0, 1): clips at every step
						for j := range p.Grad {
							p.Grad[j] = float32(rng.NormFloat64())
						}
					}
					if err := opt.Step(ps); err != nil {
						t.Fatal(err)
					}
				})
				if allocs != 0 {
					t.Errorf("%s GOMAXPROCS=%d: Step allocates %v times per call", alg, procs, allocs)
				}
			}()
		}
	}
}

// TestZeroGradientTensors: tensors whose gradient is zero throughout (f = 0 and ε̂ = 0, so
// d = 0: the zero-denominator rule), or zero at one later step (ε̂ = 0 but f > 0), against the
// reference, for every variant. With LaterEps ε̂ = ε·min(1, RMS(g)) is 0 exactly when the
// tensor's gradient is.
func TestZeroGradientTensors(t *testing.T) {
	specs := []spec{{"live", []int{4, 6}}, {"dead", []int{4, 6}}, {"dead-v", []int{7}}, {"pause", []int{3, 5}}}
	for _, variant := range []fadam.Variant{fadam.Paper, fadam.PyTorchReference, fadam.LaterEps} {
		for _, factored := range []bool{false, true} {
			cfg := fadam.Defaults()
			cfg.LR, cfg.WeightDecay, cfg.Variant = 0.05, 0.1, variant
			rng := rand.New(rand.NewPCG(51, 52))
			ps := makeParams(rng, specs)
			deadBefore := slices.Clone(ps[1].Value)
			ref := newRef(t, cfg, factored, ps)
			opt := mustNew(t, cfg, factored)
			for step := 1; step <= 4; step++ {
				gs := fillGrads(rng, ps, 1)
				clear(gs[1])
				clear(gs[2])
				if step == 2 {
					clear(gs[3])
				}
				refStep(t, ref, gs)
				if err := opt.Step(ps); err != nil {
					t.Fatal(err)
				}
			}
			for i, p := range ps {
				if err := closeTo(p.Value, ref.Tensors[i].Theta, 2e-5); err != nil {
					t.Errorf("variant %d factored=%v %s: %v", variant, factored, p.Name, err)
				}
			}
			// PyTorchReference's ε̂ = ε·max(1, RMS(g)) ≥ ε keeps d > 0: there, weight decay moves it.
			if variant != fadam.PyTorchReference && !slices.Equal(ps[1].Value, deadBefore) {
				t.Errorf("variant %d factored=%v: a tensor with no Fisher information moved", variant, factored)
			}
		}
	}
}
