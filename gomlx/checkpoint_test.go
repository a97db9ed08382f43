package fadamgomlx

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/checkpoints"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// TestCheckpointRestoresState trains 10 steps, saves a GoMLX checkpoint, loads it into a fresh
// context and trains 10 more: the result must equal 20 uninterrupted steps bit for bit, which
// needs the momentum, the Fisher (full and factored) and the step counter t all restored.
func TestCheckpointRestoresState(t *testing.T) {
	const steps, split = 20, 10
	bf16Clipped := func() *Config {
		return FAdafactor().DType(dtypes.BFloat16).ClipGlobalNorm(0.5).PerVariable(perVariableRule)
	}
	for _, build := range []func() *Config{FAdam, FAdafactor, Adafactor, bf16Clipped} {
		opt := func() optimizers.Interface { return build().LearningRate(0.01).Done() }
		name := string(build().algorithm)
		if build().dtype == dtypes.BFloat16 {
			name += "/bfloat16-state,clip-global-norm,per-variable"
		}
		t.Run(name, func(t *testing.T) {
			init := initialValues(3)
			grads := gradientSequence(steps, 4)
			whole := runGoMLX(t, nil, opt(), init, grads)

			dir := t.TempDir()
			first := context.New()
			saver, err := checkpoints.Build(first).Dir(dir).Done()
			if err != nil {
				t.Fatalf("checkpoint handler: %v", err)
			}
			runGoMLX(t, first, opt(), init, grads[:split])
			if err := saver.Save(); err != nil {
				t.Fatalf("save: %v", err)
			}

			resumed := context.New()
			if _, err := checkpoints.Load(resumed).Dir(dir).Immediate().Done(); err != nil {
				t.Fatalf("load: %v", err)
			}
			if got := optimizers.GetGlobalStep(resumed); got != split {
				t.Fatalf("restored global step %d, want %d", got, split)
			}
			if build().perVariable != nil {
				matrix := resumed.GetVariableByScopeAndName("/model", "matrix")
				if got, err := build().VariableOptionsOf(resumed, matrix); err != nil || got != asFloat32(testGroups["matrix"]) {
					t.Fatalf("restored options of matrix %+v, %v", got, err)
				}
			}
			for v := range resumed.IterVariables() {
				if v.Name() == "matrix_momentum" && v.DType() != build().dtype && build().dtype != dtypes.InvalidDType {
					t.Fatalf("restored %s has dtype %s", v.ScopeAndName(), v.DType())
				}
			}
			rest := runGoMLX(t, resumed.Reuse(), opt(), init, grads[split:])
			for s := range rest {
				for k := range rest[s] {
					for i, v := range rest[s][k] {
						if w := whole[split+s][k][i]; v != w {
							t.Fatalf("step %d, %s[%d]: resumed %v, uninterrupted %v", split+s+1, testTensors[k].name, i, v, w)
						}
					}
				}
			}
		})
	}
}

// TestClear checks that Clear deletes the state, so the next step starts again at t = 1.
func TestClear(t *testing.T) {
	ctx := context.New()
	opt := FAdafactor().Done()
	runGoMLX(t, ctx, opt, initialValues(5), gradientSequence(2, 6))
	count := func() int {
		n := 0
		for v := range ctx.IterVariables() {
			if len(v.Scope()) >= len("/FAdafactorOptimizer") && v.Scope()[:len("/FAdafactorOptimizer")] == "/FAdafactorOptimizer" {
				n++
			}
		}
		return n
	}
	// Per tensor: momentum plus fisher (rank ≤ 1) or rows and cols; and the step counter.
	if got, want := count(), 2+2+3+3+1; got != want {
		t.Fatalf("%d state variables before Clear, want %d", got, want)
	}
	if err := opt.Clear(ctx); err != nil {
		t.Fatalf("Clear: %v", err)
	}
	if got := count(); got != 0 {
		t.Fatalf("%d state variables after Clear, want 0", got)
	}
}
