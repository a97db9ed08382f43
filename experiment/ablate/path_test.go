package ablate

import (
	"errors"
	"math/rand/v2"

	"github.com/fadam-go/fadam/optimizers"
	"github.com/fadam-go/fadam/reference"
	"math"
	"testing"

	"github.com/fadam-go/fadam"
)

func pathTestConfig() fadam.Config {
	c := fadam.Defaults()
	c.LR, c.WeightDecay = 0.1, 0.01
	return c
}

// First-step values worked out by hand in float64 for each stage.
func TestPathFirstStep(t *testing.T) {
	theta0 := []float64{0.5, -1, 2}
	g := []float64{0.3, -0.4, 1.2}
	c := pathTestConfig()
	rms := func(x []float64) float64 {
		s := 0.0
		for _, v := range x {
			s += v * v
		}
		return math.Sqrt(s / float64(len(x)))
	}
	clip := func(x []float64) []float64 {
		r := math.Max(1, rms(x)/c.Clip)
		out := make([]float64, len(x))
		for i := range x {
			out[i] = x[i] / r
		}
		return out
	}
	// Adam at t=1: m̂ = g, v̂ = g², update = g/(|g|+ε).
	adamUpdate := make([]float64, 3)
	for i := range g {
		adamUpdate[i] = g[i] / (math.Abs(g[i]) + c.Eps)
	}
	// Natural gradient at t=1 with fixed ε: g/(|g|+ε), clipped.
	nat := clip(adamUpdate)
	epsHat := math.Min(c.Eps, c.Eps2*rms(g))
	natAdaptive := make([]float64, 3)
	wdFisher := make([]float64, 3)
	for i := range g {
		natAdaptive[i] = g[i] / (math.Abs(g[i]) + epsHat)
		wdFisher[i] = theta0[i] / (math.Abs(g[i]) + epsHat)
	}
	natAdaptive, wdFisher = clip(natAdaptive), clip(wdFisher)
	want := map[Stage]func(i int) float64{
		StageAdamW:            func(i int) float64 { return theta0[i] - c.LR*(adamUpdate[i]+c.WeightDecay*theta0[i]) },
		StageUpdateClip:       func(i int) float64 { return theta0[i] - c.LR*(clip(adamUpdate)[i]+c.WeightDecay*theta0[i]) },
		StageNaturalMomentum:  func(i int) float64 { return theta0[i] - c.LR*(nat[i]+c.WeightDecay*theta0[i]) },
		StageNoBiasCorrection: func(i int) float64 { return theta0[i] - c.LR*((1-c.Beta1)*nat[i]+c.WeightDecay*theta0[i]) },
		StageAdaptiveEps:      func(i int) float64 { return theta0[i] - c.LR*((1-c.Beta1)*natAdaptive[i]+c.WeightDecay*theta0[i]) },
		StageFisherDecay:      func(i int) float64 { return theta0[i] - c.LR*((1-c.Beta1)*natAdaptive[i]+c.WeightDecay*wdFisher[i]) },
	}
	for _, st := range Stages {
		t.Run(st.String(), func(t *testing.T) {
			opt, err := NewPath(st, c)
			if err != nil {
				t.Fatal(err)
			}
			v := []float32{float32(theta0[0]), float32(theta0[1]), float32(theta0[2])}
			gr := []float32{float32(g[0]), float32(g[1]), float32(g[2])}
			if err := opt.Step([]fadam.Param{{Name: "w", Shape: []int{3}, Value: v, Grad: gr}}); err != nil {
				t.Fatal(err)
			}
			for i := range v {
				w := want[st](i)
				if d := math.Abs(float64(v[i]) - w); d > 1e-6*math.Max(1, math.Abs(w)) {
					t.Errorf("θ[%d] = %.9g, want %.9g", i, v[i], w)
				}
			}
		})
	}
}

func TestPathRejectsBadInput(t *testing.T) {
	if _, err := NewPath(Stage(9), pathTestConfig()); err == nil {
		t.Error("unknown stage accepted")
	}
	bad := pathTestConfig()
	bad.Beta1 = 1
	if _, err := NewPath(StageAdamW, bad); err == nil {
		t.Error("β₁ = 1 accepted")
	}
	clipped := pathTestConfig()
	clipped.MaxGradNorm = 1
	if _, err := NewPath(StageFisherDecay, clipped); !errors.Is(err, fadam.ErrInvalidConfig) {
		t.Errorf("MaxGradNorm, which the path does not implement: err = %v, want ErrInvalidConfig", err)
	}
	opt, _ := NewPath(StageFisherDecay, pathTestConfig())
	v := []float32{1, 2}
	err := opt.Step([]fadam.Param{{Name: "w", Value: v, Grad: []float32{float32(math.NaN()), 0}}})
	if err == nil || v[0] != 1 || v[1] != 2 {
		t.Errorf("NaN gradient: err=%v, values %v", err, v)
	}
	if err := opt.Step([]fadam.Param{{Name: "w", Value: v, Grad: []float32{0}}}); err == nil {
		t.Error("length mismatch accepted")
	}
}

// A tensor whose gradient is all zero at step 1 has no Fisher information: it must stay finite.
func TestPathZeroGradientStaysFinite(t *testing.T) {
	for _, st := range Stages {
		opt, _ := NewPath(st, pathTestConfig())
		v := []float32{1, -2}
		if err := opt.Step([]fadam.Param{{Name: "w", Value: v, Grad: []float32{0, 0}}}); err != nil {
			t.Fatal(err)
		}
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("%v: non-finite value %v", st, v)
			}
		}
	}
}

// The path's end points must be the library's optimizers: stage 0 is baseline.Adam without
// clipping, stage 1 with it, and stage 5 is fadam.New. Ten steps on random gradients, compared
// to float32 rounding (the path computes in float64, the library in float32 with float64 sums).
func TestPathEndpointsMatchLibrary(t *testing.T) {
	for _, tc := range []struct {
		stage Stage
		lib   string
		clip  float64
	}{
		{StageAdamW, "adam", 0},
		{StageUpdateClip, "adam", 1},
		{StageFisherDecay, "fadam", 1},
	} {
		t.Run(tc.stage.String(), func(t *testing.T) {
			cfg := pathTestConfig()
			cfg.LR, cfg.Clip = 1e-2, tc.clip
			if tc.clip == 0 {
				cfg.Clip = 1 // NewPath needs c > 0; stage 0 does not clip
			}
			path, err := NewPath(tc.stage, cfg)
			if err != nil {
				t.Fatal(err)
			}
			libCfg := cfg
			libCfg.Clip = tc.clip
			lib, err := optimizers.New(tc.lib, libCfg)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(7, 8))
			const n = 64
			a, b := make([]float32, n), make([]float32, n)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
				b[i] = a[i]
			}
			for step := 0; step < 10; step++ {
				g := make([]float32, n)
				for i := range g {
					g[i] = float32(rng.NormFloat64() * 0.1)
				}
				if err := path.Step([]fadam.Param{{Name: "w", Shape: []int{8, 8}, Value: a, Grad: g}}); err != nil {
					t.Fatal(err)
				}
				if err := lib.Step([]fadam.Param{{Name: "w", Shape: []int{8, 8}, Value: b, Grad: g}}); err != nil {
					t.Fatal(err)
				}
			}
			for i := range a {
				if d := math.Abs(float64(a[i] - b[i])); d > 1e-5*math.Max(1, math.Abs(float64(b[i]))) {
					t.Fatalf("θ[%d]: path %.8g, library %.8g", i, a[i], b[i])
				}
			}
		})
	}
}

// After the first step, a step allocates nothing at any stage.
func TestPathStepDoesNotAllocate(t *testing.T) {
	for _, st := range Stages {
		opt, _ := NewPath(st, pathTestConfig())
		ps := []fadam.Param{{Name: "w", Shape: []int{4}, Value: []float32{1, -2, 3, -4}, Grad: []float32{0.1, 0.2, -0.3, 0.4}}}
		if err := opt.Step(ps); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(10, func() { opt.Step(ps) }); n != 0 {
			t.Errorf("%v: %v allocations per step", st, n)
		}
	}
}

// Stage 5 is Algorithm 1: ten steps against the float64 reference of package reference.
func TestPathFAdamMatchesReference(t *testing.T) {
	cfg := pathTestConfig()
	cfg.LR = 1e-2
	path, err := NewPath(StageFisherDecay, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	const n = 48
	theta := make([]float32, n)
	for i := range theta {
		theta[i] = float32(rng.NormFloat64())
	}
	ref, err := reference.New(fadam.AlgorithmFAdam, cfg, []fadam.Param{{Name: "w", Shape: []int{6, 8}, Value: theta}})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		g := make([]float32, n)
		g64 := make([]float64, n)
		for i := range g {
			g[i] = float32(rng.NormFloat64() * 0.1)
			g64[i] = float64(g[i])
		}
		if err := path.Step([]fadam.Param{{Name: "w", Shape: []int{6, 8}, Value: theta, Grad: g}}); err != nil {
			t.Fatal(err)
		}
		if err := ref.Step([][]float64{g64}); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range ref.Tensors[0].Theta {
		if d := math.Abs(float64(theta[i]) - want); d > 1e-5*math.Max(1, math.Abs(want)) {
			t.Fatalf("θ[%d]: path %.8g, reference %.8g", i, theta[i], want)
		}
	}
}
