package fadam_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fadam-go/fadam"
)

// refGradNorm is sqrt(Σ g²) over all gradients, summed naively in float64.
func refGradNorm(ps []fadam.Param) float64 {
	s := 0.0
	for _, p := range ps {
		for _, g := range p.Grad {
			s += float64(g) * float64(g)
		}
	}
	return math.Sqrt(s)
}

// prescale applies clip_grad_norm_ by hand: every gradient times max/(n + 1e-6), rounded to
// float32, if n > max. It reports whether it scaled.
func prescale(ps []fadam.Param, n, max float64) bool {
	if n <= max {
		return false
	}
	s := max / (n + 1e-6)
	for _, p := range ps {
		for i, g := range p.Grad {
			p.Grad[i] = float32(float64(g) * s)
		}
	}
	return true
}

// manySpecs: hundreds of small tensors and one that spans several chunks.
func manySpecs() []spec {
	var s []spec
	for i := range 300 {
		s = append(s, spec{fmt.Sprintf("p%03d", i), []int{1 + i%5, 7}})
	}
	return append(s, spec{"big", []int{3, 40000}}, spec{"v", []int{70001}})
}

// TestGlobalNormClipping: with MaxGradNorm set, every algorithm's step equals, bit for bit, the
// step of an unclipped optimizer on gradients pre-scaled as PyTorch's clip_grad_norm_ does; the
// reported norm is the pre-clip norm; the Grad buffers hold the clipped gradients afterwards.
func TestGlobalNormClipping(t *testing.T) {
	cases := []struct {
		name      string
		specs     []spec
		maxNorm   float64
		gradScale float64
		clips     bool
	}{
		{"clipped", mixedSpecs, 1, 1, true},
		{"unclipped", mixedSpecs, 1e6, 1, false},
		{"many-tensors-clipped", manySpecs(), 10, 1, true},
		{"many-tensors-unclipped", manySpecs(), 1e4, 1, false},
		{"huge-gradients", mixedSpecs, 0.5, 1e30, true},
		{"tiny-norm", mixedSpecs, 1e-20, 1e-12, true},
		{"zero-gradients", mixedSpecs, 1, 0, false},
	}
	for _, c := range cases {
		for _, alg := range fadam.Algorithms {
			t.Run(c.name+"/"+string(alg), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(31, 32))
				clipped := makeParams(rng, c.specs)
				plain := cloneParams(clipped)
				cfg := fadam.DefaultsFor(alg)
				cfg.LR, cfg.WeightDecay = 0.01, 0.1
				a, err := alg.New(withMaxNorm(cfg, c.maxNorm))
				if err != nil {
					t.Fatal(err)
				}
				b, _ := alg.New(cfg)
				for step := range 3 {
					fillGrads(rng, clipped, c.gradScale)
					for i := range clipped {
						copy(plain[i].Grad, clipped[i].Grad)
					}
					want := refGradNorm(clipped)
					if err := a.Step(clipped); err != nil {
						t.Fatal(err)
					}
					if got := a.LastGradNorm(); math.Abs(got-want) > 1e-12*want {
						t.Fatalf("step %d: LastGradNorm = %v, want %v", step, got, want)
					}
					if prescale(plain, a.LastGradNorm(), c.maxNorm) != c.clips {
						t.Fatalf("step %d: norm %v against max %v: clipping = %v, want %v", step, want, c.maxNorm, !c.clips, c.clips)
					}
					if c.clips { // max·n/(n + 1e-6): max, unless n is tiny against PyTorch's 1e-6
						wantAfter := c.maxNorm * want / (want + 1e-6)
						if got := refGradNorm(clipped); math.Abs(got-wantAfter) > 1e-6*wantAfter {
							t.Errorf("step %d: norm after clipping %v, want %v", step, got, wantAfter)
						}
					}
					if err := b.Step(plain); err != nil {
						t.Fatal(err)
					}
					if b.LastGradNorm() != refGradNorm(plain) && math.Abs(b.LastGradNorm()-refGradNorm(plain)) > 1e-12*refGradNorm(plain) {
						t.Errorf("unclipped optimizer reports %v, want %v", b.LastGradNorm(), refGradNorm(plain))
					}
					for i := range clipped {
						if !slices.Equal(clipped[i].Grad, plain[i].Grad) {
							t.Fatalf("step %d %s: the clipped Grad buffer differs from the pre-scaled gradients", step, clipped[i].Name)
						}
						if !slices.Equal(clipped[i].Value, plain[i].Value) {
							t.Fatalf("step %d %s: differs from the step on pre-scaled gradients", step, clipped[i].Name)
						}
					}
				}
			})
		}
	}
}

func withMaxNorm(cfg fadam.Config, maxNorm float64) fadam.Config {
	cfg.MaxGradNorm = maxNorm
	return cfg
}

// TestGlobalNormClippingAgainstReference: FAdam and FAdafactor with clipping against the
// float64 reference fed gradients clipped by hand (norm computed independently).
func TestGlobalNormClippingAgainstReference(t *testing.T) {
	for _, factored := range []bool{false, true} {
		cfg := fadam.Defaults()
		cfg.LR, cfg.WeightDecay, cfg.MaxGradNorm = 0.05, 0.1, 2
		rng := rand.New(rand.NewPCG(41, 42))
		ps := makeParams(rng, mixedSpecs)
		ref := newRef(t, cfg, factored, ps)
		opt := mustNew(t, cfg, factored)
		for step := range 4 {
			fillGrads(rng, ps, float64(step+1)) // the norm grows: clipped from the first step on
			byHand := cloneParams(ps)
			prescale(byHand, refGradNorm(ps), cfg.MaxGradNorm)
			gs := make([][]float32, len(byHand))
			for i := range byHand {
				gs[i] = byHand[i].Grad
			}
			refStep(t, ref, gs)
			if err := opt.Step(ps); err != nil {
				t.Fatal(err)
			}
			for i, p := range ps {
				if err := closeTo(p.Value, ref.Tensors[i].Theta, 2e-5); err != nil {
					t.Fatalf("factored=%v step %d %s: %v", factored, step+1, p.Name, err)
				}
			}
		}
	}
}

// TestGlobalNormClippingErrors: a non-finite gradient is an error that scales nothing; a bad
// MaxGradNorm is ErrInvalidConfig.
func TestGlobalNormClippingErrors(t *testing.T) {
	for _, alg := range fadam.Algorithms {
		cfg := withMaxNorm(fadam.DefaultsFor(alg), 1e-3)
		o, err := alg.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ps := makeParams(rand.New(rand.NewPCG(1, 2)), mixedSpecs)
		fillGrads(rand.New(rand.NewPCG(3, 4)), ps, 1)
		ps[3].Grad[50000] = float32(math.Inf(1))
		before := cloneParams(ps)
		if err := o.Step(ps); !errors.Is(err, fadam.ErrNonFinite) {
			t.Errorf("%s: Step with an Inf gradient = %v, want ErrNonFinite", alg, err)
		}
		for i := range ps {
			if !slices.Equal(ps[i].Grad, before[i].Grad) || !slices.Equal(ps[i].Value, before[i].Value) {
				t.Errorf("%s: %s changed by a failed Step", alg, ps[i].Name)
			}
		}
		for _, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
			if _, err := alg.New(withMaxNorm(fadam.DefaultsFor(alg), bad)); !errors.Is(err, fadam.ErrInvalidConfig) {
				t.Errorf("%s: MaxGradNorm = %v: err = %v, want ErrInvalidConfig", alg, bad, err)
			}
		}
	}
}
