package fadamgomlx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// The optimizers support gradient accumulation (train.Trainer.AccumulateGradients).
var _ train.OptimizeWithGradients = (*optimizer)(nil)

// The tests use GoMLX's pure Go backend directly (never XLA, which would download a plugin).
// "ops_sequential" because the parallel op scheduler of GoMLX v0.26.0's SimpleGo backend reads
// its results table without the lock it writes it under (backends/simplego/exec.go), which
// `go test -race` reports; the ops themselves still use several cores.
func goBackend(t testing.TB) backends.Backend {
	t.Helper()
	b, err := simplego.New("ops_sequential")
	if err != nil {
		t.Fatalf("simplego backend: %v", err)
	}
	return b
}

// testTensor is one parameter of the equivalence tests.
type testTensor struct {
	name  string
	shape []int
}

var testTensors = []testTensor{
	{"scalar", nil},
	{"vector", []int{7}},
	{"matrix", []int{5, 3}},
	{"cube", []int{2, 4, 3}},
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// gradientSequence returns steps×len(testTensors) gradients with scales from 1e-3 to 10, some
// zero elements, and an all-zero first gradient for "vector" (the zero-denominator rule).
func gradientSequence(steps int, seed uint64) [][][]float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	seq := make([][][]float32, steps)
	for s := range seq {
		seq[s] = make([][]float32, len(testTensors))
		scale := math.Pow(10, rng.Float64()*4-3)
		for k, tt := range testTensors {
			gr := make([]float32, size(tt.shape))
			if !(s == 0 && tt.name == "vector") {
				for i := range gr {
					if rng.IntN(8) != 0 {
						gr[i] = float32(rng.NormFloat64() * scale)
					}
				}
			}
			seq[s][k] = gr
		}
	}
	return seq
}

func initialValues(seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	vals := make([][]float32, len(testTensors))
	for k, tt := range testTensors {
		vals[k] = make([]float32, size(tt.shape))
		for i := range vals[k] {
			vals[k][i] = float32(rng.NormFloat64())
		}
	}
	return vals
}

// runGoMLX trains the test tensors with opt on the loss Σ θ·G, so each step's gradient is the
// given G, and returns the values after every step.
func runGoMLX(t *testing.T, ctx *context.Context, opt optimizers.Interface, init [][]float32, grads [][][]float32) [][][]float32 {
	t.Helper()
	return runGoMLXSteps(t, ctx, opt, init, grads, nil)
}

// runGoMLXSteps is runGoMLX, calling afterStep (if not nil) with the context after every step.
func runGoMLXSteps(t *testing.T, ctx *context.Context, opt optimizers.Interface, init [][]float32, grads [][][]float32,
	afterStep func(step int, ctx *context.Context)) [][][]float32 {
	t.Helper()
	if ctx == nil {
		ctx = context.New()
	}
	exec, vars, err := newTestExec(t, ctx, opt, init)
	if err != nil {
		t.Fatalf("NewExec: %v", err)
	}
	defer exec.Finalize()
	out := make([][][]float32, len(grads))
	for s, step := range grads {
		if err := execTestStep(exec, step); err != nil {
			t.Fatalf("step %d: %v", s+1, err)
		}
		out[s] = make([][]float32, len(vars))
		for k, v := range vars {
			out[s][k] = tensors.MustCopyFlatData[float32](v.MustValue())
		}
		if afterStep != nil {
			afterStep(s+1, ctx)
		}
	}
	return out
}

// newTestExec creates the test tensors in ctx with values init and returns the step of opt on
// the loss Σ θ·G, whose arguments are the gradients G.
func newTestExec(t *testing.T, ctx *context.Context, opt optimizers.Interface, init [][]float32) (*context.Exec, []*context.Variable, error) {
	t.Helper()
	vars := make([]*context.Variable, len(testTensors))
	for k, tt := range testTensors {
		vars[k] = ctx.In("model").VariableWithValue(tt.name, tensors.FromFlatDataAndDimensions(init[k], tt.shape...))
	}
	exec, err := context.NewExec(goBackend(t), ctx, func(ctx *context.Context, gs []*Node) *Node {
		g := gs[0].Graph()
		var loss *Node
		for k, v := range vars {
			term := ReduceAllSum(Mul(v.ValueGraph(g), gs[k]))
			if loss == nil {
				loss = term
			} else {
				loss = Add(loss, term)
			}
		}
		opt.UpdateGraph(ctx, g, loss)
		return loss
	})
	return exec, vars, err
}

// execTestStep runs one step of exec (from newTestExec) with the gradients step.
func execTestStep(exec *context.Exec, step [][]float32) error {
	args := make([]any, len(step))
	for k, gr := range step {
		args[k] = tensors.FromFlatDataAndDimensions(gr, testTensors[k].shape...)
	}
	_, err := exec.Exec(args...)
	return err
}

// newReference returns the float64 reference (newFloat64Reference) of alg with cfg, where
// tensor k gets weight decay cfg.WeightDecay if decay(k) and none otherwise.
func newReference(alg Algorithm, cfg fadam.Config, init [][]float32, decay func(int) bool) float64Stepper {
	spec := referenceSpec{alg: alg, cfg: cfg, perTensor: make([]VariableOptions, len(testTensors))}
	for k := range spec.perTensor {
		spec.perTensor[k].LRScale = 1
		if decay(k) {
			spec.perTensor[k].WeightDecay = cfg.WeightDecay
		}
	}
	return newFloat64Reference(spec, init)
}

func rms64(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(len(x)))
}

// bfloat16RoundNearest rounds x to float32 and then to the nearest bfloat16 (ties to even) by
// its bits.
func bfloat16RoundNearest(x float64) float64 {
	bits := math.Float32bits(float32(x))
	bits += 0x7fff + (bits>>16)&1
	return float64(math.Float32frombits(bits & 0xffff0000))
}

// compare fails t when got and want differ by more than tol relative. An element that has come
// close to zero is compared relative to 1% of its tensor's RMS instead: float32 values that pass
// near zero keep the absolute rounding error of their earlier, larger magnitude. It returns the
// largest such relative difference.
func compare(t *testing.T, step int, got [][]float32, want [][]float64, tol float64) float64 {
	t.Helper()
	worst := 0.0
	for k := range want {
		floor := 0.01 * rms64(want[k])
		for i := range want[k] {
			g, w := float64(got[k][i]), want[k][i]
			scale := math.Max(math.Abs(w), floor)
			if scale == 0 {
				scale = 1
			}
			rel := math.Abs(g-w) / scale
			worst = math.Max(worst, rel)
			if math.IsNaN(g) || math.IsInf(g, 0) || !(rel <= tol) {
				t.Fatalf("step %d, %s[%d]: got %.9g, want %.9g (rel. diff %.3g)", step, testTensors[k].name, i, g, w, rel)
			}
		}
	}
	return worst
}

// testConfig is the configuration of the equivalence tests: the paper's defaults with a larger
// learning rate and weight decay, so that both visibly move the values.
func testConfig() fadam.Config {
	c := fadam.Defaults()
	c.LR = 1e-2
	c.WeightDecay = 0.05
	return c
}

// builderOf returns the builder of each algorithm.
var builderOf = map[Algorithm]func() *Config{NameFAdam: FAdam, NameFAdafactor: FAdafactor, NameAdafactor: Adafactor}

func TestMatchesFloat64Reference(t *testing.T) {
	const steps = 20
	base := testConfig()
	withVariant := base
	withVariant.Variant = fadam.PyTorchReference
	withRho := base
	withRho.Rho = 0.25
	withRho.Maximize = true
	adafactorCfg := base
	adafactorCfg.Eps = AdafactorEpsilon
	adafactorCfg.WeightDecay = 1e-3
	allDecay := func(int) bool { return true }
	onlyMatrices := func(k int) bool { return len(testTensors[k].shape) >= 2 }
	tests := []struct {
		name  string
		alg   Algorithm
		cfg   fadam.Config
		build func() *Config
		decay func(int) bool
	}{
		{"fadam", NameFAdam, base, FAdam, allDecay},
		{"fadam/pytorch", NameFAdam, withVariant, FAdam, allDecay},
		{"fadam/rho=0.25,maximize", NameFAdam, withRho, FAdam, allDecay},
		{"fadam/float64-state", NameFAdam, base, func() *Config { return FAdam().DType(dtypes.Float64) }, allDecay},
		{"fadafactor", NameFAdafactor, base, FAdafactor, allDecay},
		{"fadafactor/float64-state", NameFAdafactor, base, func() *Config { return FAdafactor().DType(dtypes.Float64) }, allDecay},
		{"fadafactor/pytorch", NameFAdafactor, withVariant, FAdafactor, allDecay},
		{"fadafactor/min-rank-2", NameFAdafactor, base, func() *Config { return FAdafactor().WeightDecayMinRank(2) }, onlyMatrices},
		{"adafactor", NameAdafactor, adafactorCfg, Adafactor, allDecay},
		{"adafactor/exclude", NameAdafactor, adafactorCfg, func() *Config {
			return Adafactor().ExcludeFromWeightDecay(func(v *context.Variable) bool { return v.Shape().Rank() < 2 })
		}, onlyMatrices},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			init := initialValues(uint64(i))
			grads := gradientSequence(steps, uint64(100+i))
			got := runGoMLX(t, nil, tc.build().FromConfig(tc.cfg).Done(), init, grads)
			ref := newReference(tc.alg, tc.cfg, init, tc.decay)
			theta := make([][]float64, len(init))
			for k := range init {
				theta[k] = make([]float64, len(init[k]))
				for j, v := range init[k] {
					theta[k][j] = float64(v)
				}
			}
			worst := 0.0
			for s := range grads {
				ref.step(theta, grads[s])
				worst = math.Max(worst, compare(t, s+1, got[s], theta, 1e-5))
			}
			t.Logf("%d steps, largest relative difference %.3g", steps, worst)
			// The first all-zero gradient of "vector" must leave it unchanged (zero-denominator rule).
			if tc.alg != NameAdafactor && tc.cfg.Variant == fadam.Paper {
				for j, v := range got[0][1] {
					if v != init[1][j] {
						t.Fatalf("vector[%d] moved on a zero gradient: %v -> %v", j, init[1][j], v)
					}
				}
			}
		})
	}
}

func TestByNameAndContextParams(t *testing.T) {
	for _, name := range []Algorithm{NameFAdam, NameFAdafactor, NameAdafactor} {
		t.Run(string(name), func(t *testing.T) {
			ctx := context.New()
			ctx.SetParams(map[string]any{
				optimizers.ParamLearningRate:            0.02,
				ParamKey(name, ParamBeta1):              0.8,
				ParamKey(name, ParamBeta2):              0.99,
				ParamKey(name, ParamWeightDecay):        0.1,
				ParamKey(name, ParamClip):               2.0,
				ParamKey(name, ParamWeightDecayMinRank): 2,
			})
			opt := optimizers.ByName(ctx, string(name))
			cfg := fadam.Defaults()
			cfg.LR, cfg.Beta1, cfg.Beta2, cfg.WeightDecay, cfg.Clip = 0.02, 0.8, 0.99, 0.1, 2
			if name == NameAdafactor {
				cfg.Eps = AdafactorEpsilon
			}
			init := initialValues(7)
			grads := gradientSequence(3, 8)
			got := runGoMLX(t, ctx, opt, init, grads)
			ref := newReference(name, cfg, init, func(k int) bool { return len(testTensors[k].shape) >= 2 })
			theta := make([][]float64, len(init))
			for k := range init {
				theta[k] = make([]float64, len(init[k]))
				for j, v := range init[k] {
					theta[k][j] = float64(v)
				}
			}
			for s := range grads {
				ref.step(theta, grads[s])
				compare(t, s+1, got[s], theta, 1e-5)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  *Config
		ok   bool
	}{
		{"defaults", FAdam(), true},
		{"beta1=1", FAdam().Betas(1, 0.999), false},
		{"beta2<0", FAdafactor().Betas(0.9, -0.1), false},
		{"clip=0", FAdam().Clip(0), false},
		{"rho=0", FAdam().Rho(0), false},
		{"eps<0", Adafactor().Epsilon(-1), false},
		{"adafactor clip=0", Adafactor().Clip(0), true},
		{"adafactor clip<0", Adafactor().Clip(-1), false},
		{"wd=NaN", FAdam().WeightDecay(math.NaN()), false},
		{"lr=Inf", FAdam().LearningRate(math.Inf(1)), false},
		{"variant", FAdam().Variant(fadam.Variant(9)), false},
		{"later epsilon", FAdam().Variant(LaterEpsilon), true},
		{"clip global norm", FAdam().ClipGlobalNorm(1), true},
		{"clip global norm +Inf", FAdam().ClipGlobalNorm(math.Inf(1)), true},
		{"clip global norm <0", FAdam().ClipGlobalNorm(-1), false},
		{"clip global norm NaN", FAdam().ClipGlobalNorm(math.NaN()), false},
		{"bfloat16", FAdafactor().DType(dtypes.BFloat16), true},
		{"float16", FAdam().DType(dtypes.Float16), false},
		{"variant param", func() *Config {
			ctx := context.New()
			ctx.SetParam(ParamKey(NameFAdam, ParamVariant), "later")
			return FAdam().FromContext(ctx)
		}(), false},
		{"dtype param", func() *Config {
			ctx := context.New()
			ctx.SetParam(ParamKey(NameFAdam, ParamDType), "int32")
			return FAdam().FromContext(ctx)
		}(), false},
	}
	for _, tc := range tests {
		err := tc.cfg.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// TestNewContextParams sets the variant, global-norm clipping and bfloat16 state through context
// hyperparameters and checks the result against the float64 reference.
func TestNewContextParams(t *testing.T) {
	ctx := context.New()
	ctx.SetParams(map[string]any{
		optimizers.ParamOptimizer:                         "fadafactor",
		optimizers.ParamLearningRate:                      0.02,
		ParamKey(NameFAdafactor, ParamVariant):            "later_epsilon",
		ParamKey(NameFAdafactor, ParamClipGlobalNorm):     0.5,
		ParamKey(NameFAdafactor, ParamDType):              "bfloat16",
		ParamKey(NameFAdafactor, ParamStochasticRounding): false,
		ParamKey(NameFAdafactor, ParamWeightDecayMinRank): 2,
	})
	spec := referenceSpec{alg: NameFAdafactor, cfg: fadam.Defaults(), maxNorm: 0.5, bf16State: true}
	spec.cfg.LR, spec.cfg.Variant = 0.02, LaterEpsilon
	spec.perTensor = spec.withDefaults(0)
	for k, tt := range testTensors {
		if len(tt.shape) >= 2 {
			spec.perTensor[k].WeightDecay = spec.cfg.WeightDecay
		}
	}
	init := initialValues(71)
	grads := gradientSequence(6, 72)
	got := runGoMLX(t, ctx, optimizers.FromContext(ctx), init, grads)
	ref := newFloat64Reference(spec, init)
	theta := toFloat64(init)
	for s := range grads {
		ref.step(theta, grads[s])
		compare(t, s+1, got[s], theta, 2e-5)
	}
	if _, err := FAdafactor().GradientNorm(ctx); err != nil {
		t.Errorf("GradientNorm: %v", err)
	}
}

func TestParamKey(t *testing.T) {
	if got := ParamKey(NameFAdafactor, ParamWeightDecay); got != "fadafactor_weight_decay" {
		t.Errorf("ParamKey = %q", got)
	}
	for _, name := range []string{"fadam", "fadafactor", "adafactor", "adam"} {
		if _, ok := optimizers.KnownOptimizers[name]; !ok {
			t.Errorf("optimizer %q not registered", name)
		}
	}
}

func ExampleFAdam() {
	backend, err := simplego.New("ops_sequential")
	if err != nil {
		panic(err)
	}
	ctx := context.New()
	w := ctx.In("model").VariableWithValue("w", []float32{1, -2, 3})
	// Minimise Σ w² with FAdam.
	opt := FAdam().LearningRate(0.1).WeightDecay(0).Done()
	exec := context.MustNewExec(backend, ctx, func(ctx *context.Context, g *Graph) *Node {
		loss := ReduceAllSum(Square(w.ValueGraph(g)))
		opt.UpdateGraph(ctx, g, loss)
		return loss
	})
	for range 3 {
		exec.MustExec()
	}
	fmt.Printf("%.3f\n", tensors.MustCopyFlatData[float32](w.MustValue()))
	// Output: [0.944 -1.944 2.944]
}

// TestExtremeGradients runs every optimizer on gradients scaled far from 1 (g² outside float32's
// range at 1e-30 and near its top at 1e18): the values must stay finite and agree with the
// float64 reference.
func TestExtremeGradients(t *testing.T) {
	const steps = 5
	for _, alg := range []Algorithm{NameFAdam, NameFAdafactor, NameAdafactor} {
		for _, scale := range []float64{1e-30, 1e-15, 1e12, 1e18} {
			t.Run(fmt.Sprintf("%s/%g", alg, scale), func(t *testing.T) {
				cfg := fadam.Defaults()
				if alg == NameAdafactor {
					cfg.Eps = AdafactorEpsilon
				}
				init := initialValues(11)
				grads := gradientSequence(steps, 12)
				for _, step := range grads {
					for _, gr := range step {
						for i := range gr {
							gr[i] *= float32(scale)
						}
					}
				}
				got := runGoMLX(t, nil, builderOf[alg]().FromConfig(cfg).Done(), init, grads)
				for s := range got {
					for k := range got[s] {
						for i, v := range got[s][k] {
							if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
								t.Fatalf("step %d, %s[%d] = %v", s+1, testTensors[k].name, i, v)
							}
						}
					}
				}
				// The float64 reference has no under- or overflow: the values must agree.
				ref := newReference(alg, cfg, init, func(int) bool { return true })
				theta := make([][]float64, len(init))
				for k := range init {
					theta[k] = make([]float64, len(init[k]))
					for j, v := range init[k] {
						theta[k][j] = float64(v)
					}
				}
				for s := range grads {
					ref.step(theta, grads[s])
					compare(t, s+1, got[s], theta, 1e-5)
				}
			})
		}
	}
}
