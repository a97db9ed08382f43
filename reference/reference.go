// Package reference states the four algorithms of the FAdam paper in float64, one statement per
// line of the paper, labelled with the line numbers, for reading and for checking faster
// implementations against:
//
//   - FAdam, Algorithm 1 (arXiv 2405.12807: ε̂ = min(ε, ε₂·RMS(g)));
//   - FAdafactor, Algorithm 2 (rank ≥ 2 factored over the two trailing dimensions per leading
//     index; rank 0–1 exactly as FAdam);
//   - Adam with PyTorch AdamW semantics plus Algorithm 3's RMS update clipping when Clip > 0;
//   - Adafactor as printed in Algorithm 4.
//
// It follows the same contract as package fadam (docs/optimizer.md): the zero-denominator rule
// (an element whose denominator is 0 contributes 0 instead of 0/0), the Variant forms of adaptive
// ε and clipping, Maximize, and per-parameter weight decay and learning-rate scale. Everything is
// float64 and written for clarity, not speed: every step allocates. Package fadam's tests, the
// ablation path of the experiments and the GoMLX optimizers' tests are all checked against it.
package reference

import (
	"fmt"
	"math"

	"github.com/fadam-go/fadam"
)

// Tensor is one parameter and its optimizer state, all float64.
type Tensor struct {
	Name  string
	Shape []int
	Theta []float64 // the parameter values θ
	M     []float64 // momentum m (Adam: the uncorrected first moment)
	// F is the unfactored second-moment state: FAdam's f (init 1), Adam's uncorrected v
	// (init 0), Adafactor's f (init 0) for rank 0–1 tensors. Nil for factored tensors.
	F []float64
	// R and C are the factored state of a rank ≥ 2 tensor, per leading index: R has the
	// tensor's n rows, C its m columns (init 1 for FAdafactor, 0 for Adafactor).
	R, C [][]float64
	// WeightDecay is this tensor's λ (the optimizer's unless set otherwise).
	WeightDecay float64
	// LRScale multiplies the learning rate for this tensor (1 unless set otherwise).
	LRScale float64
}

// Optimizer is one of the four algorithms over a set of float64 tensors.
type Optimizer struct {
	Algorithm fadam.Algorithm
	Config    fadam.Config
	T         int // steps taken, the paper's t
	Tensors   []*Tensor
	// LastGradNorm is the global L2 norm of the last step's gradients, before global-norm
	// clipping (Config.MaxGradNorm).
	LastGradNorm float64
	// RoundState, when set, models low-precision optimizer state: after every step each
	// element of m is replaced by RoundState(m) and each second-moment value s (f, v, R or C)
	// by RoundState(√s)², as a library that stores m and √s in that precision would hold them.
	RoundState func(x float64) float64
}

// New returns the reference optimizer of algorithm alg for the given parameters (their names,
// shapes and current values; Grad is not read). Every tensor takes cfg.WeightDecay and an LR
// scale of 1; change Tensor.WeightDecay and Tensor.LRScale for per-parameter options.
func New(alg fadam.Algorithm, cfg fadam.Config, params []fadam.Param) (*Optimizer, error) {
	if err := cfg.Validate(alg); err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	o := &Optimizer{Algorithm: alg, Config: cfg}
	for _, p := range params {
		x := &Tensor{Name: p.Name, Shape: append([]int(nil), p.Shape...), WeightDecay: cfg.WeightDecay, LRScale: 1}
		x.Theta = make([]float64, len(p.Value))
		for i, v := range p.Value {
			x.Theta[i] = float64(v)
		}
		x.M = make([]float64, len(p.Value))
		// Line 2 of each algorithm: the initial second-moment state.
		init := 1.0 // FAdam, FAdafactor: "FIM init to 1"
		if alg == fadam.AlgorithmAdam || alg == fadam.AlgorithmAdafactor {
			init = 0
		}
		if factored(alg, p.Shape) {
			lead, n, m := dims(p.Shape)
			for range lead {
				x.R = append(x.R, filled(n, init))
				x.C = append(x.C, filled(m, init))
			}
		} else {
			x.F = filled(len(p.Value), init)
		}
		o.Tensors = append(o.Tensors, x)
	}
	return o, nil
}

// Step applies one step with the given gradients, one slice per tensor in order. It reports an
// error, changing nothing, when the gradients do not match the tensors or are not finite.
func (o *Optimizer) Step(grads [][]float64) error {
	if len(grads) != len(o.Tensors) {
		return fmt.Errorf("reference: %d gradients for %d tensors", len(grads), len(o.Tensors))
	}
	for i, g := range grads {
		if len(g) != len(o.Tensors[i].Theta) {
			return fmt.Errorf("reference: gradient %d has %d elements, want %d", i, len(g), len(o.Tensors[i].Theta))
		}
		for _, v := range g {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("reference: gradient %d is not finite", i)
			}
		}
	}
	// Global-norm clipping (opt-in, before the algorithm; PyTorch's clip_grad_norm_): with
	// n = sqrt(Σ over all tensors of Σg²), every gradient is scaled by max/(n + 1e-6) if n > max.
	norm := 0.0
	for _, g := range grads {
		for _, v := range g {
			norm += v * v
		}
	}
	norm = math.Sqrt(norm)
	scale := 1.0
	if limit := o.Config.MaxGradNorm; limit > 0 && norm > limit {
		scale = limit / (norm + 1e-6)
	}
	o.LastGradNorm = norm
	// Line 4: t ← t + 1.
	o.T++
	// Line 6 (Algorithms 1, 2 and 4): β̂₂ ← β₂(1 − β₂^{t−1})/(1 − β₂^t).
	beta2Hat := Beta2Hat(o.Config.Beta2, o.T)
	for i, x := range o.Tensors {
		// Line 5: g_t, the gradient (of −log P when maximizing the log-likelihood).
		g := make([]float64, len(grads[i]))
		for j, v := range grads[i] {
			g[j] = v * scale
			if o.Config.Maximize {
				g[j] = -v
			}
		}
		if len(g) == 0 {
			continue
		}
		switch {
		case o.Algorithm == fadam.AlgorithmAdam:
			o.adam(x, g)
		case o.Algorithm == fadam.AlgorithmAdafactor:
			o.adafactor(x, g, beta2Hat)
		case x.F == nil:
			o.fadafactor(x, g, beta2Hat)
		default:
			o.fadam(x, g, beta2Hat)
		}
		if o.RoundState != nil {
			o.roundState(x)
		}
	}
	return nil
}

// roundState applies RoundState to m and to the square roots of the second-moment state.
func (o *Optimizer) roundState(x *Tensor) {
	for i, v := range x.M {
		x.M[i] = o.RoundState(v)
	}
	roundRoots := func(s []float64) {
		for i, v := range s {
			r := o.RoundState(math.Sqrt(v))
			s[i] = r * r
		}
	}
	roundRoots(x.F)
	for l := range x.R {
		roundRoots(x.R[l])
		roundRoots(x.C[l])
	}
}

// StepFloat32 is Step with float32 gradients, such as those handed to a float32 optimizer
// being checked against this reference.
func (o *Optimizer) StepFloat32(grads [][]float32) error {
	g64 := make([][]float64, len(grads))
	for i, g := range grads {
		g64[i] = make([]float64, len(g))
		for j, v := range g {
			g64[i][j] = float64(v)
		}
	}
	return o.Step(g64)
}

// fadam is Algorithm 1, lines 7–14, for one tensor.
func (o *Optimizer) fadam(x *Tensor, g []float64, beta2Hat float64) {
	// Line 7: f ← β̂₂f + (1 − β̂₂)g².
	for i := range g {
		x.F[i] = beta2Hat*x.F[i] + (1-beta2Hat)*g[i]*g[i]
	}
	o.naturalStep(x, g, x.F)
}

// fadafactor is Algorithm 2, lines 7–16, for one tensor of rank ≥ 2.
func (o *Optimizer) fadafactor(x *Tensor, g []float64, beta2Hat float64) {
	lead, n, m := dims(x.Shape)
	for l := range lead {
		g2 := squares(g[l*n*m : (l+1)*n*m])
		// Line 7: R ← β̂₂R + (1 − β̂₂)(g²)1_m, the row sums.
		for i := range n {
			x.R[l][i] = beta2Hat*x.R[l][i] + (1-beta2Hat)*sum(g2[i*m:(i+1)*m])
		}
		// Line 8: C ← β̂₂C + (1 − β̂₂)1_nᵀ(g²), the column sums.
		for j := range m {
			x.C[l][j] = beta2Hat*x.C[l][j] + (1-beta2Hat)*columnSum(g2, n, m, j)
		}
	}
	// Line 9: f ← R C / 1_nᵀR.
	f := o.Fisher(x)
	// Lines 10–16 are Algorithm 1's lines 8–14.
	o.naturalStep(x, g, f)
}

// naturalStep is Algorithm 1 lines 8–14 (Algorithm 2 lines 10–16) given the Fisher estimate f.
func (o *Optimizer) naturalStep(x *Tensor, g, f []float64) {
	c := o.Config
	// Line 8: ε̂ ← min(ε, ε₂·RMS(g)).
	epsHat := AdaptiveEps(c, RMS(g))
	// The denominator of lines 9 and 12: f^ρ + ε̂^{2ρ}.
	d := make([]float64, len(f))
	for i := range f {
		d[i] = Denominator(c, f[i], epsHat)
	}
	// Line 9: ḡ ← g / (f^ρ + ε̂^{2ρ}).
	gBar := NaturalGrad(g, d)
	// Line 10: ḡ ← ḡ / max(1, RMS(ḡ)/c).
	ClipRMS(c, gBar)
	// Line 11: m ← β₁m + (1 − β₁)ḡ.
	for i := range x.M {
		x.M[i] = c.Beta1*x.M[i] + (1-c.Beta1)*gBar[i]
	}
	// Line 12: ḡ_w ← θ / (f^ρ + ε̂^{2ρ}).
	gW := NaturalGrad(x.Theta, d)
	// Line 13: ḡ_w ← ḡ_w / max(1, RMS(ḡ_w)/c).
	ClipRMS(c, gW)
	// Line 14: θ ← θ − η(m + λḡ_w).
	lr := c.LR * x.LRScale
	for i := range x.Theta {
		x.Theta[i] -= lr * (x.M[i] + x.WeightDecay*gW[i])
	}
}

// adam is Adam as PyTorch's AdamW computes it, with Algorithm 3's update clipping when c > 0.
// Algorithm 3 as printed stores the bias-corrected moments back into the state (lines 6–7),
// which compounds the correction at every step; here the state keeps the uncorrected moments,
// as every Adam implementation does.
func (o *Optimizer) adam(x *Tensor, g []float64) {
	c, t := o.Config, float64(o.T)
	u := make([]float64, len(g))
	for i := range g {
		// Line 6: v ← β₂v + (1 − β₂)g², used as v̂ = v/(1 − β₂^t).
		x.F[i] = c.Beta2*x.F[i] + (1-c.Beta2)*g[i]*g[i]
		vHat := x.F[i] / (1 - math.Pow(c.Beta2, t))
		// Line 7: m ← β₁m + (1 − β₁)g, used as m̂ = m/(1 − β₁^t).
		x.M[i] = c.Beta1*x.M[i] + (1-c.Beta1)*g[i]
		mHat := x.M[i] / (1 - math.Pow(c.Beta1, t))
		// Line 8: ḡ ← m̂ / (√v̂ + ε).
		u[i] = Div(mHat, math.Sqrt(vHat)+c.Eps)
	}
	// Line 9: ḡ ← ḡ / max(1, RMS(ḡ)/c), only when c > 0.
	if c.Clip > 0 {
		scale := 1 / math.Max(1, RMS(u)/c.Clip)
		for i := range u {
			u[i] *= scale
		}
	}
	// Line 10: θ ← θ − η(ḡ + λθ).
	lr := c.LR * x.LRScale
	for i := range x.Theta {
		x.Theta[i] -= lr * (u[i] + x.WeightDecay*x.Theta[i])
	}
}

// adafactor is Algorithm 4, lines 7–13, as printed: ε inside the EMA, η inside the momentum, λθ
// not scaled by η. Rank 0–1 tensors keep an unfactored f with the same EMA.
func (o *Optimizer) adafactor(x *Tensor, g []float64, beta2Hat float64) {
	c := o.Config
	var f []float64
	if x.F != nil {
		// Lines 7–9 unfactored: f ← β̂₂f + (1 − β̂₂)(g² + ε).
		for i := range g {
			x.F[i] = beta2Hat*x.F[i] + (1-beta2Hat)*(g[i]*g[i]+c.Eps)
		}
		f = x.F
	} else {
		lead, n, m := dims(x.Shape)
		for l := range lead {
			g2 := squares(g[l*n*m : (l+1)*n*m])
			for k := range g2 {
				g2[k] += c.Eps
			}
			// Line 7: R ← β̂₂R + (1 − β̂₂)(g² + ε1_n1_mᵀ)1_m.
			for i := range n {
				x.R[l][i] = beta2Hat*x.R[l][i] + (1-beta2Hat)*sum(g2[i*m:(i+1)*m])
			}
			// Line 8: C ← β̂₂C + (1 − β̂₂)1_nᵀ(g² + ε1_n1_mᵀ).
			for j := range m {
				x.C[l][j] = beta2Hat*x.C[l][j] + (1-beta2Hat)*columnSum(g2, n, m, j)
			}
		}
		// Line 9: f ← R C / 1_nᵀR.
		f = o.Fisher(x)
	}
	// Line 10: ḡ ← g / √f (0 where f = 0: the zero-denominator rule).
	d := make([]float64, len(f))
	for i := range f {
		d[i] = math.Sqrt(f[i])
	}
	gBar := NaturalGrad(g, d)
	// Line 11: ḡ ← ḡ / max(1, RMS(ḡ)/c), only when c > 0.
	if c.Clip > 0 {
		scale := 1 / math.Max(1, RMS(gBar)/c.Clip)
		for i := range gBar {
			gBar[i] *= scale
		}
	}
	lr := c.LR * x.LRScale
	for i := range x.Theta {
		// Line 12: m ← β₁m + (1 − β₁)ηḡ.
		x.M[i] = c.Beta1*x.M[i] + (1-c.Beta1)*lr*gBar[i]
		// Line 13: θ ← θ − (m + λθ).
		x.Theta[i] -= x.M[i] + x.WeightDecay*x.Theta[i]
	}
}

// Fisher returns the tensor's diagonal Fisher estimate: f itself when unfactored (for Adam the
// bias-corrected v̂), or R_i C_j / Σ_i R_i per leading index when factored (0 where Σ R = 0).
func (o *Optimizer) Fisher(x *Tensor) []float64 {
	if x.F != nil {
		f := append([]float64(nil), x.F...)
		if o.Algorithm == fadam.AlgorithmAdam && o.T > 0 {
			for i := range f {
				f[i] /= 1 - math.Pow(o.Config.Beta2, float64(o.T))
			}
		}
		return f
	}
	lead, n, m := dims(x.Shape)
	f := make([]float64, len(x.Theta))
	for l := range lead {
		sumR := sum(x.R[l])
		if sumR == 0 {
			continue
		}
		for i := range n {
			for j := range m {
				f[(l*n+i)*m+j] = x.R[l][i] * x.C[l][j] / sumR
			}
		}
	}
	return f
}

// Beta2Hat is line 6 of Algorithms 1, 2 and 4: β̂₂ = β₂(1 − β₂^{t−1})/(1 − β₂^t), 0 at t = 1.
func Beta2Hat(beta2 float64, t int) float64 {
	if t <= 1 || beta2 == 0 {
		return 0
	}
	return beta2 * (1 - math.Pow(beta2, float64(t-1))) / (1 - math.Pow(beta2, float64(t)))
}

// AdaptiveEps is Algorithm 1 line 8, ε̂ = min(ε, ε₂·RMS(g)), given rmsG = RMS(g); with Variant
// PyTorchReference it is the public PyTorch code's ε·max(1, RMS(g)), with Variant LaterEps the
// later form's ε·min(1, RMS(g)).
func AdaptiveEps(c fadam.Config, rmsG float64) float64 {
	switch c.Variant {
	case fadam.PyTorchReference:
		return c.Eps * math.Max(1, rmsG)
	case fadam.LaterEps:
		return c.Eps * math.Min(1, rmsG)
	}
	return math.Min(c.Eps, c.Eps2*rmsG)
}

// Denominator is the denominator of Algorithm 1 lines 9 and 12 for one element: f^ρ + ε̂^{2ρ}
// (Variants PyTorchReference and LaterEps: f^ρ + ε̂).
func Denominator(c fadam.Config, f, epsHat float64) float64 {
	if c.Variant == fadam.PyTorchReference || c.Variant == fadam.LaterEps {
		return math.Pow(f, c.Rho) + epsHat
	}
	return math.Pow(f, c.Rho) + math.Pow(epsHat, 2*c.Rho)
}

// NaturalGrad is x/d element by element (Div).
func NaturalGrad(x, d []float64) []float64 {
	out := make([]float64, len(x))
	for i := range x {
		out[i] = Div(x[i], d[i])
	}
	return out
}

// Div is x/d with the zero-denominator rule: where d = 0 there is no Fisher information yet and
// the element contributes 0 (instead of 0/0, which would poison the tensor's RMS with NaN).
func Div(x, d float64) float64 {
	if d == 0 {
		return 0
	}
	return x / d
}

// ClipRMS is Algorithm 1 lines 10 and 13, x ← x / max(1, RMS(x)/c), in place; with Variants
// PyTorchReference and LaterEps the PyTorch codes' x ← x / (max(1, RMS(x))/c).
func ClipRMS(c fadam.Config, x []float64) {
	div := math.Max(1, RMS(x)/c.Clip)
	if c.Variant == fadam.PyTorchReference || c.Variant == fadam.LaterEps {
		div = math.Max(1, RMS(x)) / c.Clip
	}
	for i := range x {
		x[i] /= div
	}
}

// RMS is sqrt(mean(x²)), 0 for an empty x.
func RMS(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := 0.0
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(len(x)))
}

// factored reports whether algorithm alg keeps a factored estimate for a tensor of this shape.
func factored(alg fadam.Algorithm, shape []int) bool {
	return (alg == fadam.AlgorithmFAdafactor || alg == fadam.AlgorithmAdafactor) && len(shape) >= 2
}

// dims splits a rank ≥ 2 shape into its leading count and trailing n×m.
func dims(shape []int) (lead, n, m int) {
	lead = 1
	for _, d := range shape[:len(shape)-2] {
		lead *= d
	}
	return lead, shape[len(shape)-2], shape[len(shape)-1]
}

func filled(n int, v float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = v
	}
	return x
}

func squares(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * v
	}
	return out
}

func sum(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s
}

// columnSum is Σ_i x[i][j] of an n×m row-major block.
func columnSum(x []float64, n, m, j int) float64 {
	s := 0.0
	for i := range n {
		s += x[i*m+j]
	}
	return s
}
