package fadam_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fadam-go/fadam"
)

// groupStep is what a param-group test does before one step, and what it expects.
type groupStep struct {
	lr, wd float64                       // SetLR, SetWeightDecay
	set    map[string]fadam.ParamOptions // SetParamOptions
	clear  []string                      // ClearParamOptions
	rule   func(string, []int) fadam.ParamOptions
	want   groupWant // per tensor; unlisted: LRScale 1 and λ = wd
}

// groupWant maps a tensor's name to its expected LR scale and λ.
type groupWant map[string]struct{ lrS, wd float64 }

// paramGroupCases are shared by the reference and the equivalence tests. mixedSpecs: w [7 5],
// b [5], s [], big [3 20000], t3 [2 3 4], empty [0 3].
var paramGroupCases = []struct {
	name  string
	steps []groupStep
}{
	{"by-name", []groupStep{
		{lr: 0.05, wd: 0.1, set: map[string]fadam.ParamOptions{
			"w": fadam.ParamOptions{LRScale: 2}.WithWeightDecay(0.7),
			"b": {NoWeightDecay: true},
			"s": {LRScale: 0.25},
		}, want: groupWant{"w": {2, 0.7}, "b": {1, 0}, "s": {0.25, 0.1}}},
		{lr: 0.05, wd: 0.1, want: groupWant{"w": {2, 0.7}, "b": {1, 0}, "s": {0.25, 0.1}}},
		{lr: 0.02, wd: 0.3, want: groupWant{"w": {2, 0.7}, "b": {1, 0}, "s": {0.25, 0.3}}},
	}},
	{"by-rule", []groupStep{
		{lr: 0.03, wd: 0.2, rule: func(name string, shape []int) fadam.ParamOptions {
			if len(shape) <= 1 {
				return fadam.ParamOptions{}.WithWeightDecay(0)
			}
			return fadam.ParamOptions{LRScale: 0.5}
		}, set: map[string]fadam.ParamOptions{"big": fadam.ParamOptions{}.WithWeightDecay(0.01)},
			// Explicit options replace the rule's entirely: big's LRScale is 1, not 0.5.
			want: groupWant{"w": {0.5, 0.2}, "b": {1, 0}, "s": {1, 0}, "big": {1, 0.01}, "t3": {0.5, 0.2}, "empty": {0.5, 0.2}}},
		{lr: 0.03, wd: 0.2, want: groupWant{"w": {0.5, 0.2}, "b": {1, 0}, "s": {1, 0}, "big": {1, 0.01}, "t3": {0.5, 0.2}, "empty": {0.5, 0.2}}},
		{lr: 0.03, wd: 0.2, clear: []string{"big"},
			want: groupWant{"w": {0.5, 0.2}, "b": {1, 0}, "s": {1, 0}, "big": {0.5, 0.2}, "t3": {0.5, 0.2}, "empty": {0.5, 0.2}}},
	}},
	{"schedule", []groupStep{ // λ, per-parameter λ and η change at every step
		{lr: 0.05, wd: 0.1, set: map[string]fadam.ParamOptions{"w": fadam.ParamOptions{}.WithWeightDecay(0.05)},
			want: groupWant{"w": {1, 0.05}}},
		{lr: 0.04, wd: 0.3, set: map[string]fadam.ParamOptions{"w": fadam.ParamOptions{}.WithWeightDecay(0.5), "t3": {LRScale: 3}},
			want: groupWant{"w": {1, 0.5}, "t3": {3, 0.3}}},
		{lr: 0.02, wd: 0, set: map[string]fadam.ParamOptions{"w": {}}, want: groupWant{"t3": {3, 0}}},
		{lr: 0.01, wd: 0.05, clear: []string{"t3"}},
	}},
}

// applyGroupStep configures o for step s of a case and returns every tensor's expected LR
// scale and λ.
func applyGroupStep(t *testing.T, o *fadam.Optimizer, s groupStep) groupWant {
	t.Helper()
	o.SetLR(s.lr)
	o.SetWeightDecay(s.wd)
	if s.rule != nil {
		o.SetParamOptionsFunc(s.rule)
	}
	for name, opts := range s.set {
		if err := o.SetParamOptions(name, opts); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range s.clear {
		o.ClearParamOptions(name)
	}
	want := groupWant{}
	for _, sp := range mixedSpecs {
		want[sp.name] = struct{ lrS, wd float64 }{1, s.wd}
	}
	for name, w := range s.want {
		want[name] = w
	}
	return want
}

// TestParamGroupsAgainstReference runs FAdam and FAdafactor with per-parameter λ and LR scale,
// changed between steps, against the float64 reference of Algorithms 1 and 2.
func TestParamGroupsAgainstReference(t *testing.T) {
	for _, c := range paramGroupCases {
		for _, factored := range []bool{false, true} {
			t.Run(c.name+map[bool]string{false: "/fadam", true: "/fadafactor"}[factored], func(t *testing.T) {
				rng := rand.New(rand.NewPCG(8, 9))
				ps := makeParams(rng, mixedSpecs)
				cfg := fadam.Defaults()
				ref := newRef(t, cfg, factored, ps)
				opt := mustNew(t, cfg, factored)
				for _, s := range c.steps {
					expect := applyGroupStep(t, opt, s)
					ref.Config.LR = s.lr
					for _, tn := range ref.Tensors {
						tn.LRScale, tn.WeightDecay = expect[tn.Name].lrS, expect[tn.Name].wd
					}
					refStep(t, ref, fillGrads(rng, ps, 1))
					if err := opt.Step(ps); err != nil {
						t.Fatal(err)
					}
					for i, p := range ps {
						if err := closeTo(p.Value, ref.Tensors[i].Theta, 2e-5); err != nil {
							t.Fatalf("step %d %s (lrS %v, λ %v): %v", opt.Steps(), p.Name, ref.Tensors[i].LRScale, ref.Tensors[i].WeightDecay, err)
						}
					}
				}
			})
		}
	}
}

// TestParamGroupsEqualSeparateOptimizers checks the per-parameter semantics of all four
// algorithms exactly: every tensor is updated independently, so a tensor with (LRScale s, λ w)
// inside one optimizer must come out bit-identical to the same tensor stepped alone by an
// optimizer configured with LR = η·s and WeightDecay = w.
func TestParamGroupsEqualSeparateOptimizers(t *testing.T) {
	for _, c := range paramGroupCases {
		for _, alg := range fadam.Algorithms {
			t.Run(c.name+"/"+string(alg), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(8, 9))
				ps := makeParams(rng, mixedSpecs)
				alone := cloneParams(ps)
				cfg := fadam.DefaultsFor(alg)
				opt, err := alg.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				single := make([]*fadam.Optimizer, len(ps))
				for i := range single {
					if single[i], err = alg.New(cfg); err != nil {
						t.Fatal(err)
					}
				}
				for _, s := range c.steps {
					expect := applyGroupStep(t, opt, s)
					fillGrads(rng, ps, 1)
					for i := range ps {
						copy(alone[i].Grad, ps[i].Grad)
						single[i].SetLR(s.lr * expect[ps[i].Name].lrS)
						single[i].SetWeightDecay(expect[ps[i].Name].wd)
						if err := single[i].Step(alone[i : i+1]); err != nil {
							t.Fatal(err)
						}
					}
					if err := opt.Step(ps); err != nil {
						t.Fatal(err)
					}
					for i, p := range ps {
						if !slices.Equal(p.Value, alone[i].Value) {
							t.Fatalf("step %d %s: differs from a separate optimizer with LR %v, λ %v",
								opt.Steps(), p.Name, s.lr*expect[p.Name].lrS, expect[p.Name].wd)
						}
					}
				}
			})
		}
	}
}

func TestParamOptionsValidation(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name string
		lr   float64
		opts fadam.ParamOptions
		ok   bool
	}{
		{"zero", 1e-3, fadam.ParamOptions{}, true},
		{"own-wd", 1e-3, fadam.ParamOptions{LRScale: 3}.WithWeightDecay(0.5), true},
		{"own-wd-zero", 1e-3, fadam.ParamOptions{}.WithWeightDecay(0), true},
		{"no-wd-alias-with-zero", 1e-3, fadam.ParamOptions{NoWeightDecay: true, HasWeightDecay: true}, true},
		{"big-but-finite", 1e300, fadam.ParamOptions{LRScale: 1e8}, true},
		{"lrscale<0", 1e-3, fadam.ParamOptions{LRScale: -1}, false},
		{"lrscale NaN", 1e-3, fadam.ParamOptions{LRScale: nan}, false},
		{"lrscale Inf", 1e-3, fadam.ParamOptions{LRScale: inf}, false},
		{"wd<0", 1e-3, fadam.ParamOptions{}.WithWeightDecay(-0.1), false},
		{"wd NaN", 1e-3, fadam.ParamOptions{}.WithWeightDecay(nan), false},
		{"wd Inf", 1e-3, fadam.ParamOptions{}.WithWeightDecay(inf), false},
		{"wd without flag", 1e-3, fadam.ParamOptions{WeightDecay: 0.1}, false},
		{"wd contradicts NoWeightDecay", 1e-3, fadam.ParamOptions{NoWeightDecay: true, WeightDecay: 0.1, HasWeightDecay: true}, false},
		{"lr×scale overflows", 1e300, fadam.ParamOptions{LRScale: 1e300}, false},
	}
	for _, c := range cases {
		for _, alg := range fadam.Algorithms {
			cfg := fadam.DefaultsFor(alg)
			cfg.LR = c.lr
			// By name: rejected at once, nothing stored.
			o, err := alg.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = o.SetParamOptions("w", c.opts)
			if c.ok != (err == nil) || (err != nil && !errors.Is(err, fadam.ErrInvalidConfig)) {
				t.Errorf("%s/%s: SetParamOptions = %v, want ok=%v", c.name, alg, err, c.ok)
			}
			if err != nil && o.ParamOptions("w", nil) != (fadam.ParamOptions{}) {
				t.Errorf("%s/%s: rejected options were stored", c.name, alg)
			}
			// By rule: Step fails and changes nothing.
			ps := makeParams(rand.New(rand.NewPCG(1, 2)), []spec{{"w", []int{3, 4}}})
			fillGrads(rand.New(rand.NewPCG(3, 4)), ps, 1)
			before := slices.Clone(ps[0].Value)
			o, _ = alg.New(cfg)
			o.SetParamOptionsFunc(func(string, []int) fadam.ParamOptions { return c.opts })
			err = o.Step(ps)
			if c.ok != (err == nil) || (err != nil && !errors.Is(err, fadam.ErrInvalidConfig)) {
				t.Errorf("%s/%s: Step with the rule = %v, want ok=%v", c.name, alg, err, c.ok)
			}
			if err != nil && (!slices.Equal(before, ps[0].Value) || o.Steps() != 0) {
				t.Errorf("%s/%s: failed Step changed the values or the step count", c.name, alg)
			}
		}
	}
	// An LR raised after the options were set is checked at Step, and Save refuses what Load
	// would reject.
	o := mustNew(t, fadam.Defaults(), false)
	if err := o.SetParamOptions("w", fadam.ParamOptions{LRScale: 1e300}); err != nil {
		t.Fatal(err)
	}
	o.SetLR(1e300)
	ps := makeParams(rand.New(rand.NewPCG(1, 2)), []spec{{"w", []int{3}}})
	if err := o.Step(ps); !errors.Is(err, fadam.ErrInvalidConfig) {
		t.Errorf("Step with LR × LRScale overflowing = %v, want ErrInvalidConfig", err)
	}
	if err := o.Save(t.TempDir() + "/x.safetensors"); !errors.Is(err, fadam.ErrInvalidConfig) {
		t.Errorf("Save with LR × LRScale overflowing = %v, want ErrInvalidConfig", err)
	}
}

// TestParamOptionsCheckpoint: per-parameter λ and LR scale, explicit and from a rule, the
// optimizer's λ, MaxGradNorm and the Variant survive Save and Load, and the loaded optimizer
// continues bit-identically.
func TestParamOptionsCheckpoint(t *testing.T) {
	for _, alg := range fadam.Algorithms {
		rng := rand.New(rand.NewPCG(5, 6))
		ps := makeParams(rng, mixedSpecs)
		cfg := fadam.DefaultsFor(alg)
		cfg.MaxGradNorm, cfg.Variant = 3, fadam.LaterEps
		a, _ := alg.New(cfg)
		a.SetParamOptionsFunc(func(_ string, shape []int) fadam.ParamOptions {
			if len(shape) <= 1 {
				return fadam.ParamOptions{NoWeightDecay: true}
			}
			return fadam.ParamOptions{LRScale: 0.5}
		})
		explicit := fadam.ParamOptions{LRScale: 2}.WithWeightDecay(0.25)
		if err := a.SetParamOptions("w", explicit); err != nil {
			t.Fatal(err)
		}
		a.SetWeightDecay(0.02)
		for range 2 {
			fillGrads(rng, ps, 1)
			if err := a.Step(ps); err != nil {
				t.Fatal(err)
			}
		}
		path := t.TempDir() + "/opt.safetensors"
		if err := a.Save(path); err != nil {
			t.Fatal(err)
		}
		b, _ := alg.New(fadam.DefaultsFor(alg))
		if err := b.Load(path); err != nil {
			t.Fatal(err)
		}
		if b.WeightDecay() != 0.02 || b.Config() != a.Config() {
			t.Errorf("%s: loaded config %+v, want %+v", alg, b.Config(), a.Config())
		}
		for _, sp := range mixedSpecs {
			if got, want := b.ParamOptions(sp.name, sp.shape), a.ParamOptions(sp.name, sp.shape); got != want {
				t.Errorf("%s: %s: loaded options %+v, want %+v", alg, sp.name, got, want)
			}
		}
		copies := cloneParams(ps)
		for range 2 {
			fillGrads(rng, ps, 1)
			for i := range ps {
				copy(copies[i].Grad, ps[i].Grad)
			}
			if err := a.Step(ps); err != nil {
				t.Fatal(err)
			}
			if err := b.Step(copies); err != nil {
				t.Fatal(err)
			}
		}
		for i := range ps {
			if !slices.Equal(ps[i].Value, copies[i].Value) {
				t.Errorf("%s: %s differs after Load", alg, ps[i].Name)
			}
		}
	}
}
