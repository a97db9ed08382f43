package reference_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/reference"
)

const tol = 1e-12

func near(a, b float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

func param(name string, shape []int, values ...float32) fadam.Param {
	return fadam.Param{Name: name, Shape: shape, Value: values, Grad: make([]float32, len(values))}
}

// TestFirstStepsByHand checks each algorithm's first step against values worked out by hand from
// the paper's lines (at t = 1, β̂₂ = 0 so the Fisher estimate is g² or its factored form).
func TestFirstStepsByHand(t *testing.T) {
	const lr, wd = 0.1, 0.1
	const eps = 1e-8
	cases := []struct {
		name  string
		alg   fadam.Algorithm
		shape []int
		theta []float32
		g     []float64
		want  func() []float64
	}{
		{
			// f = g², ε̂ = min(1e-8, 0.01·RMS(g)) = 1e-8, d = |g| + 1e-8; ḡ ≈ sign(g) (RMS ≤ 1: no
			// clip); m = 0.1ḡ; ḡ_w = θ/d (RMS 0.42: no clip); θ − η(m + λḡ_w).
			name: "fadam", alg: fadam.AlgorithmFAdam, shape: []int{2}, theta: []float32{1, 2}, g: []float64{3, -4},
			want: func() []float64 {
				d0, d1 := 3+eps, 4+eps
				return []float64{1 - lr*(0.1*3/d0+wd*1/d0), 2 - lr*(0.1*-4/d1+wd*2/d1)}
			},
		},
		{
			// R = row sums of g² = [5, 25], C = column sums = [10, 20], f_ij = R_i C_j / 30.
			name: "fadafactor", alg: fadam.AlgorithmFAdafactor, shape: []int{2, 2}, theta: []float32{1, 1, 1, 1}, g: []float64{1, 2, 3, 4},
			want: func() []float64 {
				f := []float64{5 * 10 / 30.0, 5 * 20 / 30.0, 25 * 10 / 30.0, 25 * 20 / 30.0}
				g := []float64{1, 2, 3, 4}
				gBar := make([]float64, 4)
				s := 0.0
				for i := range f {
					gBar[i] = g[i] / (math.Sqrt(f[i]) + eps)
					s += gBar[i] * gBar[i]
				}
				if math.Sqrt(s/4) > 1 {
					panic("hand case expects no clipping")
				}
				out := make([]float64, 4)
				for i := range f {
					out[i] = 1 - lr*(0.1*gBar[i]+wd*1/(math.Sqrt(f[i])+eps))
				}
				return out
			},
		},
		{
			// m̂ = g, v̂ = g²: u = g/(|g| + ε); θ − η(u + λθ).
			name: "adam", alg: fadam.AlgorithmAdam, shape: []int{2}, theta: []float32{1, 2}, g: []float64{3, -4},
			want: func() []float64 {
				return []float64{1 - lr*(3/(3+eps)+wd*1), 2 - lr*(-4/(4+eps)+wd*2)}
			},
		},
		{
			// Unfactored Algorithm 4 with ε = 1e-30: f = g² + ε, ḡ = g/√f ≈ sign(g); m = 0.1ηḡ;
			// θ − (m + λθ).
			name: "adafactor", alg: fadam.AlgorithmAdafactor, shape: []int{2}, theta: []float32{1, 2}, g: []float64{3, -4},
			want: func() []float64 {
				return []float64{1 - (0.1*lr*3/math.Sqrt(9+1e-30) + wd*1), 2 - (0.1*lr*-4/math.Sqrt(16+1e-30) + wd*2)}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := fadam.DefaultsFor(c.alg)
			cfg.LR, cfg.WeightDecay = lr, wd
			o, err := reference.New(c.alg, cfg, []fadam.Param{param("x", c.shape, c.theta...)})
			if err != nil {
				t.Fatal(err)
			}
			if err := o.Step([][]float64{c.g}); err != nil {
				t.Fatal(err)
			}
			want := c.want()
			for i, w := range want {
				if got := o.Tensors[0].Theta[i]; !near(got, w) {
					t.Errorf("θ[%d] = %.15g, want %.15g", i, got, w)
				}
			}
		})
	}
}

// TestSecondStepFAdam checks β̂₂, the Fisher EMA and the RMS clip at t = 2 by hand.
func TestSecondStepFAdam(t *testing.T) {
	cfg := fadam.Defaults()
	cfg.LR, cfg.WeightDecay, cfg.Clip = 0.1, 0, 0.5
	o, err := reference.New(fadam.AlgorithmFAdam, cfg, []fadam.Param{param("x", []int{2}, 1, 1)})
	if err != nil {
		t.Fatal(err)
	}
	g1, g2 := []float64{2, 2}, []float64{0.2, 4}
	for _, g := range [][]float64{g1, g2} {
		if err := o.Step([][]float64{g}); err != nil {
			t.Fatal(err)
		}
	}
	b2 := 0.999 * (1 - 0.999) / (1 - 0.999*0.999) // line 6 at t = 2
	if got := reference.Beta2Hat(0.999, 2); !near(got, b2) {
		t.Fatalf("Beta2Hat = %v, want %v", got, b2)
	}
	f := []float64{b2*4 + (1-b2)*0.04, b2*4 + (1-b2)*16}
	// Step 1: ḡ = 2/(2+ε) ≈ 1 in both elements, RMS ≈ 1 > c = 0.5: scaled to 0.5; m = 0.05.
	m1 := 0.1 * 0.5 * (2 / (2 + 1e-8)) / (2 / (2 + 1e-8))
	theta1 := 1 - 0.1*m1
	// Step 2.
	gBar := []float64{0.2 / (math.Sqrt(f[0]) + 1e-8), 4 / (math.Sqrt(f[1]) + 1e-8)}
	r := math.Sqrt((gBar[0]*gBar[0] + gBar[1]*gBar[1]) / 2)
	div := math.Max(1, r/0.5)
	for i := range 2 {
		m2 := 0.9*m1 + 0.1*gBar[i]/div
		want := theta1 - 0.1*m2
		if got := o.Tensors[0].Theta[i]; !near(got, want) {
			t.Errorf("θ[%d] = %.15g, want %.15g", i, got, want)
		}
		if got := o.Fisher(o.Tensors[0])[i]; !near(got, f[i]) {
			t.Errorf("f[%d] = %v, want %v", i, got, f[i])
		}
	}
}

// TestZeroDenominatorRule: a tensor whose gradient is 0 at step 1 has f = 0 and ε̂ = 0; its
// elements contribute 0 instead of NaN.
func TestZeroDenominatorRule(t *testing.T) {
	for _, alg := range fadam.Algorithms {
		cfg := fadam.DefaultsFor(alg)
		cfg.Eps = 0 // Adafactor's ε inside the EMA would otherwise keep f > 0
		o, err := reference.New(alg, cfg, []fadam.Param{param("x", []int{2, 2}, 1, -1, 2, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Step([][]float64{{0, 0, 0, 0}}); err != nil {
			t.Fatal(err)
		}
		for i, v := range o.Tensors[0].Theta {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%s: θ[%d] = %v", alg, i, v)
			}
		}
	}
}

func TestVariants(t *testing.T) {
	c := fadam.Defaults()
	if got := reference.AdaptiveEps(c, 1e-9); !near(got, 1e-11) {
		t.Errorf("Paper ε̂ = %v, want ε₂·RMS = 1e-11", got)
	}
	if got := reference.AdaptiveEps(c, 5); got != 1e-8 {
		t.Errorf("Paper ε̂ = %v, want ε = 1e-8", got)
	}
	if got := reference.Denominator(c, 4, 1e-8); !near(got, 2+1e-8) {
		t.Errorf("Paper d = %v", got)
	}
	c.Variant = fadam.PyTorchReference
	if got := reference.AdaptiveEps(c, 5); got != 5e-8 {
		t.Errorf("PyTorchReference ε̂ = %v, want ε·max(1, RMS) = 5e-8", got)
	}
	c.Clip = 0.5
	x := []float64{3, 3}
	reference.ClipRMS(c, x) // x / (max(1, 3)/0.5) = x/6
	if !near(x[0], 0.5) {
		t.Errorf("PyTorchReference clip: %v, want 0.5", x[0])
	}
}

func TestStepRejectsBadGradients(t *testing.T) {
	o, err := reference.New(fadam.AlgorithmFAdam, fadam.Defaults(), []fadam.Param{param("x", []int{1}, 1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range [][][]float64{{}, {{1, 2}}, {{math.NaN()}}, {{math.Inf(-1)}}} {
		if err := o.Step(g); err == nil {
			t.Errorf("Step(%v) accepted", g)
		}
	}
	if o.T != 0 || o.Tensors[0].Theta[0] != 1 {
		t.Errorf("a rejected step changed the state: t=%d θ=%v", o.T, o.Tensors[0].Theta)
	}
	if _, err := reference.New(fadam.AlgorithmFAdam, fadam.Config{}, nil); err == nil {
		t.Error("New accepted an invalid config (ρ = 0, c = 0)")
	}
}

// TestGlobalNormClipping: two tensors with gradients (3, 4) and (12): n = 13; with a maximum of
// 1.3 every gradient is scaled by 1.3/(13 + 1e-6), which is the same step as on those scaled
// gradients without clipping.
func TestGlobalNormClipping(t *testing.T) {
	ps := []fadam.Param{param("a", []int{2}, 1, 1), param("b", []int{1}, 1)}
	for _, alg := range fadam.Algorithms {
		cfg := fadam.DefaultsFor(alg)
		cfg.MaxGradNorm = 1.3
		clipped, _ := reference.New(alg, cfg, ps)
		cfg.MaxGradNorm = 0
		plain, _ := reference.New(alg, cfg, ps)
		s := 1.3 / (13 + 1e-6)
		if err := clipped.Step([][]float64{{3, 4}, {12}}); err != nil {
			t.Fatal(err)
		}
		if err := plain.Step([][]float64{{3 * s, 4 * s}, {12 * s}}); err != nil {
			t.Fatal(err)
		}
		if clipped.LastGradNorm != 13 || !near(plain.LastGradNorm, 1.3/(1+1e-6/13)) {
			t.Errorf("%s: norms %v and %v", alg, clipped.LastGradNorm, plain.LastGradNorm)
		}
		for i := range ps {
			for j, want := range plain.Tensors[i].Theta {
				if got := clipped.Tensors[i].Theta[j]; !near(got, want) {
					t.Errorf("%s: θ %d[%d] = %v, want %v", alg, i, j, got, want)
				}
			}
		}
	}
}

// TestRoundState: the hook sees m and the square roots of the second moments.
func TestRoundState(t *testing.T) {
	o, err := reference.New(fadam.AlgorithmFAdam, fadam.Defaults(), []fadam.Param{param("x", []int{1}, 1)})
	if err != nil {
		t.Fatal(err)
	}
	o.RoundState = func(x float64) float64 { return math.Round(x*8) / 8 } // 1/8 steps
	if err := o.Step([][]float64{{3.3}}); err != nil {
		t.Fatal(err)
	}
	// m = 0.1·ḡ ≈ 0.1 → 0.125; √f = 3.3 → 3.25, f = 10.5625.
	if x := o.Tensors[0]; x.M[0] != 0.125 || x.F[0] != 3.25*3.25 {
		t.Errorf("m = %v, f = %v; want 0.125 and 10.5625", x.M[0], x.F[0])
	}
}

// Example runs one FAdam step on a two-element tensor in float64.
func Example() {
	cfg := fadam.Defaults()
	cfg.LR = 0.1
	o, err := reference.New(fadam.AlgorithmFAdam, cfg, []fadam.Param{{Name: "w", Shape: []int{2}, Value: []float32{1, 2}}})
	if err != nil {
		panic(err)
	}
	if err := o.Step([][]float64{{3, -4}}); err != nil {
		panic(err)
	}
	fmt.Printf("θ = %.6f, f = %.1f\n", o.Tensors[0].Theta, o.Fisher(o.Tensors[0]))
	// Output: θ = [0.989967 2.009950], f = [9.0 16.0]
}
