package fadamgomlx

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/baseline"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// coreOptimizer is what the test needs of the core optimizers.
type coreOptimizer interface {
	fadam.Stepper
	SetParamOptionsFunc(rule func(name string, shape []int) fadam.ParamOptions)
}

// TestMatchesCorePackage drives this package and the core optimizers of
// github.com/fadam-go/fadam (FAdam, FAdafactor) and github.com/fadam-go/fadam/baseline
// (Adafactor) with the same 25 gradients on rank 0–3 tensors: the values must agree to 1e-5
// relative after every step.
func TestMatchesCorePackage(t *testing.T) {
	const steps = 25
	base := fadam.Defaults()
	base.LR = 1e-2
	base.WeightDecay = 0.05
	pytorch := base
	pytorch.Variant = fadam.PyTorchReference
	rhoMax := base
	rhoMax.Rho = 0.25
	rhoMax.Maximize = true
	adafactor := baseline.AdafactorDefaults()
	adafactor.LR = 1e-2
	noClip := adafactor
	noClip.Clip = 0
	laterEps := base
	laterEps.Variant = fadam.LaterEps
	laterEps.Eps = 1e-3 // large enough for ε̂ = ε·min(1, RMS(g)) to matter
	clipNorm, adafactorClipNorm := base, adafactor
	clipNorm.MaxGradNorm, adafactorClipNorm.MaxGradNorm = 1, 1 // clips the larger of the gradients
	// Per-variable options: own λ and LR scale by shape and by name.
	groups := func(name string, shape []int) fadam.ParamOptions {
		switch {
		case name == "matrix":
			return fadam.ParamOptions{LRScale: 2}.WithWeightDecay(0.2)
		case len(shape) <= 1:
			return fadam.ParamOptions{}.WithWeightDecay(0)
		}
		return fadam.ParamOptions{LRScale: 0.5}
	}

	newFAdam := func(c fadam.Config) (coreOptimizer, error) { return fadam.New(c) }
	newFAdafactor := func(c fadam.Config) (coreOptimizer, error) { return fadam.NewFactored(c) }
	newAdafactor := func(c fadam.Config) (coreOptimizer, error) { return baseline.NewAdafactor(c) }
	tests := []struct {
		name      string
		cfg       fadam.Config
		ours      func() *Config
		theirs    func(fadam.Config) (coreOptimizer, error)
		onlyRank2 bool // weight decay only for rank ≥ 2 (ours: WeightDecayMinRank; core: NoWeightDecay)
		options   func(name string, shape []int) fadam.ParamOptions
	}{
		{"fadam", base, FAdam, newFAdam, false, nil},
		{"fadam/pytorch", pytorch, FAdam, newFAdam, false, nil},
		{"fadam/rho=0.25,maximize", rhoMax, FAdam, newFAdam, false, nil},
		{"fadam/decay-rank-2", base, FAdam, newFAdam, true, nil},
		{"fadafactor", base, FAdafactor, newFAdafactor, false, nil},
		{"fadafactor/pytorch", pytorch, FAdafactor, newFAdafactor, false, nil},
		{"fadafactor/decay-rank-2", base, FAdafactor, newFAdafactor, true, nil},
		{"adafactor", adafactor, Adafactor, newAdafactor, false, nil},
		{"adafactor/no-clip", noClip, Adafactor, newAdafactor, false, nil},
		{"adafactor/decay-rank-2", adafactor, Adafactor, newAdafactor, true, nil},
		{"fadam/later-eps", laterEps, FAdam, newFAdam, false, nil},
		{"fadafactor/later-eps", laterEps, FAdafactor, newFAdafactor, false, nil},
		{"fadam/clip-norm", clipNorm, FAdam, newFAdam, false, nil},
		{"fadafactor/clip-norm", clipNorm, FAdafactor, newFAdafactor, false, nil},
		{"adafactor/clip-norm", adafactorClipNorm, Adafactor, newAdafactor, false, nil},
		{"fadam/param-options", base, FAdam, newFAdam, false, groups},
		{"fadafactor/param-options", base, FAdafactor, newFAdafactor, false, groups},
		{"adafactor/param-options", adafactor, Adafactor, newAdafactor, false, groups},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			init := initialValues(uint64(50 + i))
			grads := gradientSequence(steps, uint64(60+i))
			ours := tc.ours().FromConfig(tc.cfg)
			core, err := tc.theirs(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if tc.onlyRank2 {
				ours.WeightDecayMinRank(2)
				core.SetParamOptionsFunc(func(_ string, shape []int) fadam.ParamOptions {
					return fadam.ParamOptions{NoWeightDecay: len(shape) < 2}
				})
			}
			if tc.options != nil {
				ours.ParamOptions(func(v *context.Variable) fadam.ParamOptions {
					return tc.options(v.Name(), v.Shape().Dimensions)
				})
				core.SetParamOptionsFunc(tc.options)
			}
			got := runGoMLX(t, nil, ours.Done(), init, grads)

			params := coreParams(init)
			worst := 0.0
			for s := range grads {
				stepCore(t, core, params, grads[s], s+1)
				want := make([][]float64, len(params))
				for k := range params {
					want[k] = make([]float64, len(params[k].Value))
					for j, v := range params[k].Value {
						want[k][j] = float64(v)
					}
				}
				worst = math.Max(worst, compare(t, s+1, got[s], want, 1e-5))
			}
			t.Logf("%d steps, largest relative difference %.3g", steps, worst)
		})
	}
}

// TestExtremeGradientsMatchCore compares with the core optimizers on gradients scaled by 1e-30
// to 1e18, where float32 squares (and their products) underflow or overflow unless guarded.
func TestExtremeGradientsMatchCore(t *testing.T) {
	const steps = 5
	builders := []struct {
		ours   func() *Config
		theirs func(fadam.Config) (coreOptimizer, error)
		cfg    fadam.Config
	}{
		{FAdam, func(c fadam.Config) (coreOptimizer, error) { return fadam.New(c) }, fadam.Defaults()},
		{FAdafactor, func(c fadam.Config) (coreOptimizer, error) { return fadam.NewFactored(c) }, fadam.Defaults()},
		{Adafactor, func(c fadam.Config) (coreOptimizer, error) { return baseline.NewAdafactor(c) }, baseline.AdafactorDefaults()},
	}
	for _, b := range builders {
		for _, scale := range []float64{1e-30, 1e-15, 1e12, 1e18} {
			t.Run(fmt.Sprintf("%s/%g", b.ours().algorithm, scale), func(t *testing.T) {
				init := initialValues(21)
				grads := gradientSequence(steps, 22)
				for _, step := range grads {
					for _, gr := range step {
						for i := range gr {
							gr[i] *= float32(scale)
						}
					}
				}
				got := runGoMLX(t, nil, b.ours().FromConfig(b.cfg).Done(), init, grads)
				core, err := b.theirs(b.cfg)
				if err != nil {
					t.Fatal(err)
				}
				params := coreParams(init)
				for s := range grads {
					stepCore(t, core, params, grads[s], s+1)
					want := make([][]float64, len(params))
					for k := range params {
						want[k] = make([]float64, len(params[k].Value))
						for j, v := range params[k].Value {
							want[k][j] = float64(v)
						}
					}
					compare(t, s+1, got[s], want, 1e-5)
				}
			})
		}
	}
}

// TestGradNormMatchesCore: with MaxGradNorm set, the variable GradNormVariable holds the global
// gradient norm of the last step before clipping, as the core optimizer's LastGradNorm.
func TestGradNormMatchesCore(t *testing.T) {
	cfg := fadam.Defaults()
	cfg.LR, cfg.MaxGradNorm = 1e-2, 0.5
	init := initialValues(71)
	grads := gradientSequence(4, 72)
	ctx := context.New()
	ours := FAdam().FromConfig(cfg)
	if ours.GradNorm(ctx) != nil {
		t.Fatal("GradNorm before the first step is not nil")
	}
	runGoMLX(t, ctx, ours.Done(), init, grads)
	v := ours.GradNorm(ctx)
	if v == nil {
		t.Fatal("no gradient-norm variable after training")
	}
	got := float64(tensors.MustCopyFlatData[float32](v.MustValue())[0])

	core, err := fadam.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	params := coreParams(init)
	for s := range grads {
		stepCore(t, core, params, grads[s], s+1)
	}
	want := core.LastGradNorm()
	if math.Abs(got-want) > 1e-5*want {
		t.Errorf("gradient norm of the last step = %v, core reports %v", got, want)
	}
}

// TestInvalidOptionsPanic: invalid per-variable options and a bad MaxGradNorm are reported.
func TestInvalidOptionsPanic(t *testing.T) {
	if err := FAdam().MaxGradNorm(-1).Validate(); err == nil {
		t.Error("MaxGradNorm(-1) validates")
	}
	if err := FAdam().Variant(fadam.LaterEps).Validate(); err != nil {
		t.Errorf("LaterEps does not validate: %v", err)
	}
	opt := FAdam().ParamOptions(func(*context.Variable) fadam.ParamOptions { return fadam.ParamOptions{LRScale: -1} }).Done()
	ctx := context.New()
	w := ctx.In("model").VariableWithValue("w", []float32{1, 2})
	exec, err := context.NewExec(goBackend(t), ctx, func(ctx *context.Context, g *Graph) {
		opt.UpdateGraph(ctx, g, ReduceAllSum(Square(w.ValueGraph(g))))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.Exec(); err == nil || !strings.Contains(err.Error(), "LRScale") {
		t.Errorf("UpdateGraph with invalid per-variable options: err = %v, want one naming LRScale", err)
	}
}

// coreParams are the test tensors as core parameters with values init.
func coreParams(init [][]float32) []fadam.Param {
	params := make([]fadam.Param, len(testTensors))
	for k, tt := range testTensors {
		params[k] = fadam.Param{Name: tt.name, Shape: tt.shape, Value: append([]float32(nil), init[k]...),
			Grad: make([]float32, len(init[k]))}
	}
	return params
}

// stepCore runs step number step of a core optimizer with the gradients grads.
func stepCore(t *testing.T, core fadam.Stepper, params []fadam.Param, grads [][]float32, step int) {
	t.Helper()
	for k := range params {
		copy(params[k].Grad, grads[k])
	}
	if err := core.Step(params); err != nil {
		t.Fatalf("core step %d: %v", step, err)
	}
}
