package fadamgomlx

import (
	"fmt"
	"math"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/baseline"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// coreOptimizer is what the test needs of the core optimizers.
type coreOptimizer interface {
	fadam.Stepper
	SetParamOptionsFunc(rule func(name string, shape []int) fadam.ParamOptions)
}

// coreGroups are per-parameter options that both this package (PerVariable) and the core
// optimizers (ParamOptions) express: learning-rate scales and exclusion from weight decay.
var coreGroups = map[string]fadam.ParamOptions{
	"vector": {LRScale: 0.5},
	"matrix": {LRScale: 2, NoWeightDecay: true},
	"cube":   {LRScale: 0.25},
}

// TestMatchesCorePackage drives this package and the core optimizers of
// github.com/fadam-go/fadam (FAdam, FAdafactor) and github.com/fadam-go/fadam/baseline
// (Adafactor) with the same 25 gradients on rank 0–3 tensors: the values must agree to 1e-5
// relative after every step.
func TestMatchesCorePackage(t *testing.T) {
	const steps = 25
	base := testConfig()
	pytorch := base
	pytorch.Variant = fadam.PyTorchReference
	rhoMax := base
	rhoMax.Rho = 0.25
	rhoMax.Maximize = true
	adafactor := baseline.AdafactorDefaults()
	adafactor.LR = 1e-2
	noClip := adafactor
	noClip.Clip = 0
	// The core's LaterEps and MaxGradNorm reach this package through FromConfig.
	laterEps := base
	laterEps.Variant, laterEps.Eps = fadam.LaterEps, 1e-3 // ε large enough for ε̂ = ε·min(1, RMS(g)) to matter
	clipNorm, adafactorClipNorm := base, adafactor
	clipNorm.MaxGradNorm, adafactorClipNorm.MaxGradNorm = 1, 1 // clips the larger of the gradients

	newFAdam := func(c fadam.Config) (coreOptimizer, error) { return fadam.New(c) }
	newFAdafactor := func(c fadam.Config) (coreOptimizer, error) { return fadam.NewFactored(c) }
	newAdafactor := func(c fadam.Config) (coreOptimizer, error) { return baseline.NewAdafactor(c) }
	tests := []struct {
		name      string
		cfg       fadam.Config
		ours      func() *Config
		theirs    func(fadam.Config) (coreOptimizer, error)
		onlyRank2 bool // weight decay only for rank ≥ 2 (ours: WeightDecayMinRank; core: NoWeightDecay)
		groups    bool // per-variable options (ours: PerVariable; core: ParamOptions), see coreGroups
	}{
		{"fadam", base, FAdam, newFAdam, false, false},
		{"fadam/pytorch", pytorch, FAdam, newFAdam, false, false},
		{"fadam/rho=0.25,maximize", rhoMax, FAdam, newFAdam, false, false},
		{"fadam/decay-rank-2", base, FAdam, newFAdam, true, false},
		{"fadafactor", base, FAdafactor, newFAdafactor, false, false},
		{"fadafactor/pytorch", pytorch, FAdafactor, newFAdafactor, false, false},
		{"fadafactor/decay-rank-2", base, FAdafactor, newFAdafactor, true, false},
		{"adafactor", adafactor, Adafactor, newAdafactor, false, false},
		{"adafactor/no-clip", noClip, Adafactor, newAdafactor, false, false},
		{"adafactor/decay-rank-2", adafactor, Adafactor, newAdafactor, true, false},
		{"fadam/per-variable", base, FAdam, newFAdam, false, true},
		{"fadafactor/per-variable", base, FAdafactor, newFAdafactor, false, true},
		{"adafactor/per-variable", adafactor, Adafactor, newAdafactor, false, true},
		{"fadam/later-eps", laterEps, FAdam, newFAdam, false, false},
		{"fadafactor/later-eps", laterEps, FAdafactor, newFAdafactor, false, false},
		{"fadam/max-grad-norm", clipNorm, FAdam, newFAdam, false, false},
		{"fadafactor/max-grad-norm", clipNorm, FAdafactor, newFAdafactor, false, false},
		{"adafactor/max-grad-norm", adafactorClipNorm, Adafactor, newAdafactor, false, false},
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
			if tc.groups {
				ours.PerVariable(func(v *context.Variable, o VariableOptions) VariableOptions {
					if g, ok := coreGroups[v.Name()]; ok {
						o.LRScale = g.LRScale
						if g.NoWeightDecay {
							o.WeightDecay = 0
						}
					}
					return o
				})
				core.SetParamOptionsFunc(func(name string, _ []int) fadam.ParamOptions { return coreGroups[name] })
			}
			got := runGoMLX(t, nil, ours.Done(), init, grads)

			params := make([]fadam.Param, len(testTensors))
			for k, tt := range testTensors {
				params[k] = fadam.Param{Name: tt.name, Shape: tt.shape, Value: append([]float32(nil), init[k]...),
					Grad: make([]float32, len(init[k]))}
			}
			worst := 0.0
			for s := range grads {
				for k := range params {
					copy(params[k].Grad, grads[s][k])
				}
				if err := core.Step(params); err != nil {
					t.Fatalf("core step %d: %v", s+1, err)
				}
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
				params := make([]fadam.Param, len(testTensors))
				for k, tt := range testTensors {
					params[k] = fadam.Param{Name: tt.name, Shape: tt.shape, Value: append([]float32(nil), init[k]...),
						Grad: make([]float32, len(init[k]))}
				}
				for s := range grads {
					for k := range params {
						copy(params[k].Grad, grads[s][k])
					}
					if err := core.Step(params); err != nil {
						t.Fatalf("core step %d: %v", s+1, err)
					}
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
