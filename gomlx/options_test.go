package fadamgomlx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/reference"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// referenceSpec describes a float64 reference run of the test tensors (testTensors).
type referenceSpec struct {
	alg       Algorithm
	cfg       fadam.Config      // LR, betas, ε, ε₂, c, ρ, Variant (LaterEpsilon too), Maximize; not WeightDecay
	perTensor []VariableOptions // λ and learning-rate scale of each test tensor
	maxNorm   float64           // global-norm clipping threshold; 0: off
	bf16State bool              // m, √f, √R, √C stored as bfloat16, rounded to nearest
}

// float64Stepper is what the equivalence tests need of a float64 implementation of the
// algorithms: step applies one step to the test tensors' values theta in place, given their
// float32 gradients, and returns the global gradient norm (meaningful when spec.maxNorm > 0; a
// step whose norm is not finite changes nothing). newFloat64Reference is the only place that
// chooses the implementation, so another one (such as a shared reference package of the core
// module) can replace the test's own behind an adapter.
type float64Stepper interface {
	step(theta [][]float64, grads [][]float32) (globalNorm float64)
	// setOptions changes the weight decay and learning-rate scale of test tensor k for the
	// following steps.
	setOptions(k int, opts VariableOptions)
}

// newFloat64Reference returns the core module's float64 reference (package reference: the
// paper's algorithms one line per statement) set up as spec says.
func newFloat64Reference(spec referenceSpec, init [][]float32) float64Stepper {
	cfg := spec.cfg
	if !math.IsInf(spec.maxNorm, 1) { // +Inf: report the norm, never clip, as 0 does in the core
		cfg.MaxGradNorm = spec.maxNorm
	}
	params := make([]fadam.Param, len(testTensors))
	for k, tt := range testTensors {
		params[k] = fadam.Param{Name: tt.name, Shape: tt.shape, Value: init[k]}
	}
	r, err := reference.New(fadam.Algorithm(spec.alg), cfg, params)
	if err != nil {
		panic(fmt.Sprintf("reference for %+v: %v", spec, err))
	}
	for k, opts := range spec.perTensor {
		r.Tensors[k].WeightDecay, r.Tensors[k].LRScale = opts.WeightDecay, opts.LRScale
	}
	if spec.bf16State {
		r.RoundState = bfloat16RoundNearest
	}
	return sharedReference{r}
}

// sharedReference adapts a reference.Optimizer to float64Stepper.
type sharedReference struct{ r *reference.Optimizer }

func (s sharedReference) step(theta [][]float64, grads [][]float32) float64 {
	g64 := toFloat64(grads)
	norm := 0.0
	for _, g := range g64 {
		for _, v := range g {
			norm += v * v
		}
	}
	if err := s.r.Step(g64); err != nil { // a non-finite gradient: the step changes nothing
		return math.Sqrt(norm)
	}
	for k, x := range s.r.Tensors {
		copy(theta[k], x.Theta)
	}
	return s.r.LastGradNorm
}

func (s sharedReference) setOptions(k int, opts VariableOptions) {
	s.r.Tensors[k].WeightDecay, s.r.Tensors[k].LRScale = opts.WeightDecay, opts.LRScale
}

// toFloat64 copies float32 tensors to float64.
func toFloat64(x [][]float32) [][]float64 {
	out := make([][]float64, len(x))
	for k := range x {
		out[k] = make([]float64, len(x[k]))
		for i, v := range x[k] {
			out[k][i] = float64(v)
		}
	}
	return out
}

// testGroups are per-variable options of the test tensors, by variable name, used with
// perVariableRule: a larger λ and a smaller learning rate for "vector", no weight decay and a
// larger learning rate for "matrix", a frozen "cube" (LRScale 0), defaults for "scalar".
var testGroups = map[string]VariableOptions{
	"vector": {WeightDecay: 0.2, LRScale: 0.5},
	"matrix": {WeightDecay: 0, LRScale: 2},
	"cube":   {WeightDecay: 0.01, LRScale: 0},
}

// perVariableRule applies testGroups by name and keeps the defaults of other variables.
func perVariableRule(v *context.Variable, defaults VariableOptions) VariableOptions {
	if o, ok := testGroups[v.Name()]; ok {
		return o
	}
	return defaults
}

// groupsFor returns the per-tensor options that perVariableRule gives the test tensors when the
// optimizer's λ is weightDecay.
func groupsFor(weightDecay float64) []VariableOptions {
	out := make([]VariableOptions, len(testTensors))
	for k, tt := range testTensors {
		o, ok := testGroups[tt.name]
		if !ok {
			o = VariableOptions{WeightDecay: weightDecay, LRScale: 1}
		}
		out[k] = o
	}
	return out
}

// TestOptionsMatchFloat64Reference checks every option beyond the paper against the float64
// reference over 20 steps: per-variable λ and learning-rate scale, global-norm clipping (its
// returned norm too), the LaterEpsilon variant (with the all-zero first gradient of "vector"),
// and bfloat16 state rounded to nearest (against a reference that rounds its state the same way
// after each step; the tolerance is 2e-5 because float32 and float64 arithmetic could put a value
// on different sides of a rounding midpoint, though these seeds never do).
func TestOptionsMatchFloat64Reference(t *testing.T) {
	const steps = 20
	base := testConfig()
	later := base
	later.Variant = LaterEpsilon
	adafactorCfg := base
	adafactorCfg.Eps = AdafactorEpsilon
	perVariable := func(c *Config) *Config { return c.PerVariable(perVariableRule) }
	clip := func(maxNorm float64) func(*Config) *Config {
		return func(c *Config) *Config { return c.ClipGlobalNorm(maxNorm) }
	}
	bf16 := func(c *Config) *Config { return c.DType(dtypes.BFloat16).StochasticRounding(false) }
	all := func(c *Config) *Config { return bf16(clip(0.5)(perVariable(c))) }
	defaults := func(cfg fadam.Config) []VariableOptions {
		return (&referenceSpec{}).withDefaults(cfg.WeightDecay)
	}
	tests := []struct {
		name    string
		alg     Algorithm
		cfg     fadam.Config
		options func(*Config) *Config
		groups  []VariableOptions
		maxNorm float64
		bf16    bool
		tol     float64
	}{
		{"fadam/per-variable", NameFAdam, base, perVariable, groupsFor(base.WeightDecay), 0, false, 1e-5},
		{"fadafactor/per-variable", NameFAdafactor, base, perVariable, groupsFor(base.WeightDecay), 0, false, 1e-5},
		{"adafactor/per-variable", NameAdafactor, adafactorCfg, perVariable, groupsFor(base.WeightDecay), 0, false, 1e-5},
		// Gradient norms range from about 0.006 to 60 (scales 1e-3 to 10): 0.5 clips about
		// half of the steps, 1e6 none, +Inf never clips but reports the norm.
		{"fadam/clip-global-norm", NameFAdam, base, clip(0.5), defaults(base), 0.5, false, 1e-5},
		{"fadam/clip-global-norm-unclipped", NameFAdam, base, clip(1e6), defaults(base), 1e6, false, 1e-5},
		{"fadam/clip-global-norm-inf", NameFAdam, base, clip(math.Inf(1)), defaults(base), math.Inf(1), false, 1e-5},
		{"fadafactor/clip-global-norm", NameFAdafactor, base, clip(0.5), defaults(base), 0.5, false, 1e-5},
		{"adafactor/clip-global-norm", NameAdafactor, adafactorCfg, clip(0.5), defaults(adafactorCfg), 0.5, false, 1e-5},
		{"fadam/later-epsilon", NameFAdam, later, nil, defaults(later), 0, false, 1e-5},
		{"fadafactor/later-epsilon", NameFAdafactor, later, nil, defaults(later), 0, false, 1e-5},
		{"fadam/bf16-state", NameFAdam, base, bf16, defaults(base), 0, true, 2e-5},
		{"fadafactor/bf16-state", NameFAdafactor, base, bf16, defaults(base), 0, true, 2e-5},
		{"adafactor/bf16-state", NameAdafactor, adafactorCfg, bf16, defaults(adafactorCfg), 0, true, 2e-5},
		{"fadafactor/all", NameFAdafactor, later, all, groupsFor(later.WeightDecay), 0.5, true, 2e-5},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			init := initialValues(uint64(200 + i))
			grads := gradientSequence(steps, uint64(300+i))
			cfg := builderOf[tc.alg]().FromConfig(tc.cfg)
			if tc.options != nil {
				cfg = tc.options(cfg)
			}
			var norms []float64
			afterStep := func(_ int, ctx *context.Context) {
				if tc.maxNorm == 0 {
					return
				}
				n, err := cfg.GradientNorm(ctx)
				if err != nil {
					t.Fatal(err)
				}
				norms = append(norms, n)
			}
			got := runGoMLXSteps(t, nil, cfg.Done(), init, grads, afterStep)

			ref := newFloat64Reference(referenceSpec{alg: tc.alg, cfg: tc.cfg, perTensor: tc.groups,
				maxNorm: tc.maxNorm, bf16State: tc.bf16}, init)
			theta := toFloat64(init)
			worst, worstNorm, clipped := 0.0, 0.0, 0
			for s := range grads {
				wantNorm := ref.step(theta, grads[s])
				worst = math.Max(worst, compare(t, s+1, got[s], theta, tc.tol))
				if tc.maxNorm == 0 {
					continue
				}
				if wantNorm > tc.maxNorm {
					clipped++
				}
				rel := math.Abs(norms[s]-wantNorm) / wantNorm
				worstNorm = math.Max(worstNorm, rel)
				if !(rel <= 1e-6) {
					t.Fatalf("step %d: gradient norm %.9g, want %.9g (rel. diff %.3g)", s+1, norms[s], wantNorm, rel)
				}
			}
			t.Logf("%d steps, largest relative difference %.3g (tolerance %g)", steps, worst, tc.tol)
			if tc.maxNorm > 0 {
				t.Logf("%d of %d steps clipped; norms agree to %.3g", clipped, steps, worstNorm)
				if tc.maxNorm == 0.5 && (clipped == 0 || clipped == steps) {
					t.Fatalf("%d of %d steps clipped: the test needs both cases", clipped, steps)
				}
				if tc.maxNorm > 0.5 && clipped != 0 {
					t.Fatalf("%d steps clipped with threshold %g", clipped, tc.maxNorm)
				}
			}
			if (tc.alg != NameAdafactor) && tc.cfg.Variant != fadam.PyTorchReference {
				// "vector" has an all-zero first gradient: with no Fisher information it must not move.
				for j, v := range got[0][1] {
					if v != init[1][j] {
						t.Fatalf("vector[%d] moved on a zero gradient: %v -> %v", j, init[1][j], v)
					}
				}
			}
		})
	}
}

// withDefaults returns per-tensor options giving every test tensor λ = weightDecay and scale 1.
func (*referenceSpec) withDefaults(weightDecay float64) []VariableOptions {
	out := make([]VariableOptions, len(testTensors))
	for k := range out {
		out[k] = VariableOptions{WeightDecay: weightDecay, LRScale: 1}
	}
	return out
}

// TestPerVariableRuleSeesDefaults checks that the rule receives the defaults set by
// WeightDecayMinRank and ExcludeFromWeightDecay (λ = 0 for the spared variables, LRScale 1) and
// that what it returns is used.
func TestPerVariableRuleSeesDefaults(t *testing.T) {
	cfg := fadam.Defaults()
	cfg.LR, cfg.WeightDecay = 1e-2, 0.1
	seen := map[string]VariableOptions{}
	opt := FAdam().FromConfig(cfg).WeightDecayMinRank(2).
		ExcludeFromWeightDecay(func(v *context.Variable) bool { return v.Name() == "cube" }).
		PerVariable(func(v *context.Variable, o VariableOptions) VariableOptions {
			seen[v.Name()] = o
			o.LRScale = 3 // every variable: the learning rate triples
			return o
		}).Done()
	init := initialValues(31)
	grads := gradientSequence(5, 32)
	got := runGoMLX(t, nil, opt, init, grads)
	want := map[string]VariableOptions{
		"scalar": {0, 1}, "vector": {0, 1}, "matrix": {0.1, 1}, "cube": {0, 1},
	}
	for name, o := range want {
		if seen[name] != o {
			t.Errorf("rule saw %s with %+v, want %+v", name, seen[name], o)
		}
	}
	groups := make([]VariableOptions, len(testTensors))
	for k, tt := range testTensors {
		groups[k] = VariableOptions{WeightDecay: want[tt.name].WeightDecay, LRScale: 3}
	}
	ref := newFloat64Reference(referenceSpec{alg: NameFAdam, cfg: cfg, perTensor: groups}, init)
	theta := toFloat64(init)
	for s := range grads {
		ref.step(theta, grads[s])
		compare(t, s+1, got[s], theta, 1e-5)
	}
}

// TestSetVariableOptionsBetweenSteps changes the per-variable options after step 4 (a
// weight-decay and learning-rate schedule per parameter group) and checks the run against the
// reference, and the errors of SetVariableOptions and VariableOptionsOf.
func TestSetVariableOptionsBetweenSteps(t *testing.T) {
	const steps, change = 8, 4
	changed := map[string]VariableOptions{"vector": {0.5, 1.5}, "matrix": {0.1, 0.3}, "cube": {0.02, 1}}
	for _, alg := range []Algorithm{NameFAdam, NameAdafactor} {
		t.Run(string(alg), func(t *testing.T) {
			cfg := testConfig()
			if alg == NameAdafactor {
				cfg.Eps = AdafactorEpsilon
			}
			opt := builderOf[alg]().FromConfig(cfg).PerVariable(perVariableRule)
			init := initialValues(61)
			grads := gradientSequence(steps, 62)
			got := runGoMLXSteps(t, nil, opt.Done(), init, grads, func(step int, ctx *context.Context) {
				if step != change {
					return
				}
				for name, o := range changed {
					v := ctx.GetVariableByScopeAndName("/model", name)
					if err := opt.SetVariableOptions(ctx, v, o); err != nil {
						t.Fatal(err)
					}
					if now, err := opt.VariableOptionsOf(ctx, v); err != nil || now != asFloat32(o) {
						t.Fatalf("VariableOptionsOf(%s) = %+v, %v; want %+v", name, now, err, o)
					}
				}
				matrix := ctx.GetVariableByScopeAndName("/model", "matrix")
				for _, bad := range []VariableOptions{{-1, 1}, {0, math.Inf(1)}, {0, 1e300}} {
					if err := opt.SetVariableOptions(ctx, matrix, bad); err == nil {
						t.Errorf("SetVariableOptions(%+v): no error", bad)
					}
				}
				if now, _ := opt.VariableOptionsOf(ctx, matrix); now != asFloat32(changed["matrix"]) {
					t.Errorf("a rejected SetVariableOptions changed the options to %+v", now)
				}
				if err := builderOf[alg]().SetVariableOptions(ctx, matrix, changed["matrix"]); err == nil {
					t.Error("SetVariableOptions without PerVariable: no error")
				}
			})
			ref := newFloat64Reference(referenceSpec{alg: alg, cfg: cfg, perTensor: groupsFor(cfg.WeightDecay)}, init)
			theta := toFloat64(init)
			for s := range grads {
				if s == change {
					for k, tt := range testTensors {
						if o, ok := changed[tt.name]; ok {
							ref.setOptions(k, o)
						}
					}
				}
				ref.step(theta, grads[s])
				compare(t, s+1, got[s], theta, 1e-5)
			}
		})
	}
}

// asFloat32 rounds options as their float32 context variables store them.
func asFloat32(o VariableOptions) VariableOptions {
	return VariableOptions{WeightDecay: float64(float32(o.WeightDecay)), LRScale: float64(float32(o.LRScale))}
}

// TestNonFiniteGlobalNormChangesNothing feeds a NaN gradient at step 3 and an infinite one at
// step 5 with ClipGlobalNorm: those steps must leave the variables, the optimizer state and its
// step count exactly as they were, report the non-finite norm, and the run must match the
// reference that skips them.
func TestNonFiniteGlobalNormChangesNothing(t *testing.T) {
	const steps = 7
	for _, tc := range []struct {
		build      func() *Config
		stochastic bool
	}{{FAdam, false}, {FAdafactor, false}, {Adafactor, false}, {FAdafactor, true}} {
		cfg := tc.build().LearningRate(1e-2).ClipGlobalNorm(1).DType(dtypes.BFloat16).StochasticRounding(tc.stochastic)
		name := fmt.Sprintf("%s/stochastic=%v", cfg.algorithm, tc.stochastic)
		t.Run(name, func(t *testing.T) {
			init := initialValues(41)
			grads := gradientSequence(steps, 42)
			grads[2][2][3] = float32(math.NaN())
			grads[4][3][0] = float32(math.Inf(-1))
			// The bytes of every variable after each step, but the loop's global step (which
			// counts iterations) and the gradient norm.
			snapshots := make([]map[string]string, steps+1)
			norms := make([]float64, steps+1)
			got := runGoMLXSteps(t, nil, cfg.Done(), init, grads, func(step int, ctx *context.Context) {
				snapshots[step] = map[string]string{}
				for v := range ctx.IterVariables() {
					if v.Scope() == context.RootScope || v.Name() == GradientNormVariable {
						continue
					}
					if err := v.MustValue().ConstBytes(func(data []byte) {
						snapshots[step][v.ScopeAndName()] = string(data)
					}); err != nil {
						t.Fatal(err)
					}
				}
				var err error
				if norms[step], err = cfg.GradientNorm(ctx); err != nil {
					t.Fatal(err)
				}
			})
			for _, bad := range []int{3, 5} {
				if !math.IsNaN(norms[bad]) && !math.IsInf(norms[bad], 0) {
					t.Errorf("step %d: gradient norm %v, want NaN or Inf", bad, norms[bad])
				}
				keys := []string{"/model/matrix", "/" + cfg.scopeName + "/model/matrix_momentum", "/" + cfg.scopeName + "/global_step"}
				if tc.stochastic {
					keys = append(keys, "/"+cfg.scopeName+"/"+RoundingRNGVariable)
				}
				for _, key := range keys {
					if _, ok := snapshots[bad][key]; !ok {
						t.Fatalf("no variable %s", key)
					}
				}
				for key, before := range snapshots[bad-1] {
					if snapshots[bad][key] != before {
						t.Fatalf("step %d changed %s", bad, key)
					}
				}
			}
			if tc.stochastic {
				return // the float64 reference rounds to nearest
			}
			spec := referenceSpec{alg: cfg.algorithm, cfg: fadam.Defaults(), maxNorm: 1, bf16State: true}
			spec.cfg.LR = 1e-2
			if cfg.algorithm == NameAdafactor {
				spec.cfg.Eps = AdafactorEpsilon
			}
			spec.perTensor = spec.withDefaults(spec.cfg.WeightDecay)
			ref := newFloat64Reference(spec, init)
			theta := toFloat64(init)
			for s := range grads {
				ref.step(theta, grads[s])
				compare(t, s+1, got[s], theta, 2e-5) // equal at the skipped steps: the step count did not advance
			}
		})
	}
}

// TestRoundToBFloat16 checks the graph's rounding against rounding the float32 bits to nearest,
// ties to even, on random values, exact ties, and values at the ends of the range it rounds.
func TestRoundToBFloat16(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var xs []float32
	for i := range 4000 {
		bits := rng.Uint32()
		if i%4 == 0 {
			bits = bits&0xffff0000 | 0x8000 // a tie
		}
		x := math.Float32frombits(bits)
		if a := math.Abs(float64(x)); a < 0x1p-126 || a >= 0x1p111 || math.IsNaN(a) {
			continue
		}
		xs = append(xs, x)
	}
	xs = append(xs, 0, 1, -1, 0x1p-126, 0x1.fffffep110, float32(math.Inf(1)))
	backend := goBackend(t)
	exec := MustNewExec(backend, func(x *Node) (*Node, *Node) {
		rounded := roundToBFloat16(x)
		return rounded, ConvertDType(ConvertDType(rounded, dtypes.BFloat16), dtypes.Float32)
	})
	outs := exec.MustExec(xs)
	rounded := tensors.MustCopyFlatData[float32](outs[0])
	viaBF16 := tensors.MustCopyFlatData[float32](outs[1])
	for i, x := range xs {
		want := float32(bfloat16RoundNearest(float64(x)))
		if math.IsInf(float64(x), 0) {
			want = x
		}
		if rounded[i] != want || viaBF16[i] != want {
			t.Fatalf("round(%v = %#08x) = %v, through bfloat16 %v, want %v", x, math.Float32bits(x), rounded[i], viaBF16[i], want)
		}
	}
}

// TestBFloat16StateVariables checks that DType(dtypes.BFloat16) stores the state as bfloat16
// (FAdafactor: m, and √R, √C for matrices) while the parameters stay float32, and that the run
// differs from one with float32 state (so the rounding is in effect) by no more than 1e-2.
func TestBFloat16StateVariables(t *testing.T) {
	ctx := context.New()
	init := initialValues(51)
	grads := gradientSequence(10, 52)
	got := runGoMLX(t, ctx, FAdafactor().LearningRate(1e-2).DType(dtypes.BFloat16).Done(), init, grads)
	states := 0
	for v := range ctx.IterVariables() {
		switch {
		case strings.HasPrefix(v.Scope(), "/model"):
			if v.DType() != dtypes.Float32 {
				t.Errorf("parameter %s has dtype %s", v.ScopeAndName(), v.DType())
			}
		case strings.Contains(v.Name(), "momentum") || strings.Contains(v.Name(), "sqrt_fisher"):
			states++
			if v.DType() != dtypes.BFloat16 {
				t.Errorf("state %s has dtype %s, want bfloat16", v.ScopeAndName(), v.DType())
			}
		}
	}
	if states != 2+2+3+3 {
		t.Errorf("%d state variables, want 10", states)
	}
	float32State := runGoMLX(t, nil, FAdafactor().LearningRate(1e-2).Done(), init, grads)
	largest := 0.0
	for k := range got[len(got)-1] {
		for i, v := range got[len(got)-1][k] {
			largest = math.Max(largest, math.Abs(float64(v-float32State[len(got)-1][k][i])))
		}
	}
	t.Logf("largest difference to float32 state after %d steps: %.3g", len(grads), largest)
	if largest == 0 || largest > 1e-2 {
		t.Errorf("bfloat16 state moved the values by %.3g from float32 state, want (0, 1e-2]", largest)
	}
}

// TestOptionErrors checks the errors of the new options: invalid per-variable values name the
// variable, and GradientNorm reports a context without the norm.
func TestOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		rule func(*context.Variable, VariableOptions) VariableOptions
		want string
	}{
		{"negative λ", func(v *context.Variable, o VariableOptions) VariableOptions {
			if v.Name() == "matrix" {
				o.WeightDecay = -1
			}
			return o
		}, "/model/matrix: weight decay -1"},
		{"NaN scale", func(v *context.Variable, o VariableOptions) VariableOptions {
			o.LRScale = math.NaN()
			return o
		}, "learning-rate scale NaN"},
		{"overflow", func(v *context.Variable, o VariableOptions) VariableOptions {
			o.LRScale = 1e300
			return o
		}, "overflows float32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := buildError(t, FAdam().PerVariable(tc.rule).Done())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := FAdam().GradientNorm(context.New()); err == nil {
		t.Error("GradientNorm without ClipGlobalNorm: no error")
	}
}

// buildError builds and runs one step of opt on the test tensors and returns the error.
func buildError(t *testing.T, opt optimizers.Interface) error {
	t.Helper()
	exec, _, err := newTestExec(t, context.New(), opt, initialValues(1))
	if err != nil {
		return err
	}
	defer exec.Finalize()
	return execTestStep(exec, gradientSequence(1, 2)[0])
}

// TestStochasticRoundToBFloat16 checks stochastic rounding against the float32 bits: with
// uniform = 0 every inexact value rounds up in magnitude and with uniform just below 1 it rounds
// down (truncates), so the threshold is exactly the fraction of a bfloat16 unit; and the mean of
// many roundings with random numbers from the graph is the value itself.
func TestStochasticRoundToBFloat16(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var xs []float32
	for len(xs) < 4000 {
		x := math.Float32frombits(rng.Uint32())
		if a := math.Abs(float64(x)); a >= 0x1p-126 && a < 0x1p104 {
			xs = append(xs, x)
		}
	}
	xs = append(xs, 1, -0.5, 0x1p-126, 0x1.fffffep103, 0)
	backend := goBackend(t)
	exec := MustNewExec(backend, func(x, uniform *Node) *Node {
		return stochasticRoundToBFloat16(x, BroadcastToShape(uniform, x.Shape()))
	})
	for _, u := range []float32{0, math.Nextafter32(1, 0)} {
		got := tensors.MustCopyFlatData[float32](exec.MustExec(xs, u)[0])
		for i, x := range xs {
			bits := math.Float32bits(x)
			want := math.Float32frombits(bits & 0xffff0000) // truncated
			if u == 0 && want != x {
				want = math.Float32frombits(bits&0xffff0000 + 0x10000)
			}
			if got[i] != want {
				t.Fatalf("uniform %v: round(%v = %#08x) = %v, want %v", u, x, bits, got[i], want)
			}
		}
	}

	const n = 1 << 14
	values := []float32{1 + 0x1p-9, -3.0001, 1e-20, 7e30}
	mean := MustNewExec(backend, func(x *Node) *Node {
		rngState := RNGStateFromSeedForGraph(x.Graph(), 3)
		_, uniform := RandomUniform(rngState, shapes.Make(dtypes.Float32, len(values), n))
		return ReduceMean(stochasticRoundToBFloat16(BroadcastToDims(ExpandAxes(x, -1), len(values), n), uniform), -1)
	})
	got := tensors.MustCopyFlatData[float32](mean.MustExec(values)[0])
	for i, x := range values {
		lo := math.Float32frombits(math.Float32bits(x) & 0xffff0000)
		ulp := math.Abs(float64(math.Float32frombits(math.Float32bits(lo)+0x10000) - lo))
		// Each rounding is lo or lo+ulp: the mean's standard deviation is at most ulp/(2√n).
		if d := math.Abs(float64(got[i]) - float64(x)); d > 5*ulp/(2*math.Sqrt(n)) {
			t.Errorf("mean of %d roundings of %v = %v: off by %.3g ulp", n, x, got[i], d/ulp)
		}
	}
}

// TestStochasticRoundingTracksFisher shows why bfloat16 state rounds stochastically by default:
// with β₂ = 0.999, gradients that shrink tenfold after 50 steps make √f fall over the next 450
// steps. Stochastic rounding follows the float32 state (within 2% on average); rounding to
// nearest keeps √f where it was once β̂₂ is close to β₂ (each step's decrease is then below half
// a bfloat16 unit).
func TestStochasticRoundingTracksFisher(t *testing.T) {
	const steps = 500
	rng := rand.New(rand.NewPCG(9, 10))
	grads := make([][][]float32, steps)
	for s := range grads {
		scale := 1.0
		if s >= 50 {
			scale = 0.1
		}
		grads[s] = make([][]float32, len(testTensors))
		for k, tt := range testTensors {
			grads[s][k] = make([]float32, size(tt.shape))
			for i := range grads[s][k] {
				grads[s][k][i] = float32(rng.NormFloat64() * scale)
			}
		}
	}
	meanSqrtFisher := func(cfg *Config) float64 {
		ctx := context.New()
		runGoMLX(t, ctx, cfg.LearningRate(1e-3).Done(), initialValues(1), grads)
		value := ctx.GetVariableByScopeAndName("/FAdamOptimizer/model", "cube_sqrt_fisher").MustValue()
		var flat []float32
		if value.DType() == dtypes.BFloat16 {
			for _, v := range tensors.MustCopyFlatData[bfloat16.BFloat16](value) {
				flat = append(flat, v.Float32())
			}
		} else {
			flat = tensors.MustCopyFlatData[float32](value)
		}
		sum := 0.0
		for _, v := range flat {
			sum += float64(v)
		}
		return sum / float64(len(flat))
	}
	want := meanSqrtFisher(FAdam())
	stochastic := meanSqrtFisher(FAdam().DType(dtypes.BFloat16))
	nearest := meanSqrtFisher(FAdam().DType(dtypes.BFloat16).StochasticRounding(false))
	t.Logf("mean √f after %d steps: float32 %.4f, bfloat16 stochastic %.4f, bfloat16 nearest %.4f", steps, want, stochastic, nearest)
	if d := math.Abs(stochastic-want) / want; d > 0.02 {
		t.Errorf("stochastic rounding: mean √f %.4f, %.1f%% from float32's %.4f", stochastic, 100*d, want)
	}
	if nearest < 1.1*want {
		t.Errorf("rounding to nearest: mean √f %.4f, expected it stuck above float32's %.4f", nearest, want)
	}
}
