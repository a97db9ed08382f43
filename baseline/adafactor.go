package baseline

import (
	"math"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/internal/engine"
)

// Adafactor is Algorithm 4 of the FAdam paper as printed: ε is added to g² inside the EMA
// (lines 7–8), the learning rate sits inside the momentum (line 12), and the weight decay λθ is
// not scaled by η (line 13):
//
//	ḡ = g/√f, clipped to RMS ≤ c;  m ← β₁m + (1−β₁)ηḡ;  θ ← θ − (m + λθ).
//
// Tensors of rank ≥ 2 keep a factored f per leading index over their trailing n×m dimensions
// (R and C start at 0); rank 0 and 1 tensors keep f unfactored. Where f = 0 (possible only with
// ε = 0) ḡ is 0, the zero-denominator rule of DESIGN.md §2.
type Adafactor struct{ optimizer }

// AdafactorDefaults returns Algorithm 4's line 1 (ε = 1e-30, λ = 0.001) with a learning rate of
// 1e-3.
func AdafactorDefaults() fadam.Config {
	c := fadam.Defaults()
	c.Eps = 1e-30
	return c
}

// NewAdafactor returns an Adafactor optimizer. It reads LR, Beta1, Beta2, Eps, WeightDecay,
// Clip (0 disables clipping) and Maximize.
func NewAdafactor(cfg fadam.Config) (*Adafactor, error) {
	o, err := newOptimizer(adafactorAlgorithm, cfg)
	if err != nil {
		return nil, err
	}
	return &Adafactor{o}, nil
}

var adafactorAlgorithm = &engine.Algorithm{
	Name:     "adafactor",
	Passes:   3,
	Validate: engine.RequireClipNonNegative,
	NewKernel: func(shape []int, n int, cfg *engine.Config) engine.Kernel {
		k := &adafactorKernel{n: n, m: make([]float32, n)}
		if len(shape) >= 2 {
			k.f = engine.NewFactored(shape, 0)
		} else {
			k.sqrtF = make([]float32, n)
		}
		return k
	},
}

// adafactorKernel: pass 0 reads g (and the row and column sums of g² when factored); pass 1
// (unfactored: updates f, lines 7–9) sums ḡ² for the clip; pass 2 updates m and θ.
type adafactorKernel struct {
	n           int
	m           []float32
	sqrtF       []float32        // unfactored √f
	f           *engine.Factored // factored R and C
	value, grad []float32
	c           *engine.Consts
	scale       float64
}

func (k *adafactorKernel) Chunks() int {
	if k.f != nil {
		return k.f.Chunks()
	}
	return engine.FlatChunks(k.n)
}

func (k *adafactorKernel) Active(int) bool { return true }

func (k *adafactorKernel) Begin(value, grad []float32, c *engine.Consts) {
	k.value, k.grad, k.c = value, grad, c
	if k.f != nil {
		k.f.Begin(grad)
	}
}

func (k *adafactorKernel) Run(p, chunk int) (float64, float64) {
	if k.f == nil {
		lo, hi := engine.FlatRange(k.n, chunk)
		if p == 0 {
			return engine.SumSquares(k.grad[lo:hi]), 0
		}
		return k.run(p, lo, hi, k.sqrtF[lo:hi], nil, 0), 0
	}
	if p == 0 {
		return k.f.Stats(chunk), 0
	}
	l, r0, r1, c0, c1 := k.f.Tile(chunk)
	f := k.f
	colF := f.ColF[l*f.M+c0 : l*f.M+c1]
	sum := 0.0
	for r := r0; r < r1; r++ {
		base := (l*f.N+r)*f.M + c0
		sum += k.run(p, base, base+len(colF), nil, colF, f.RowF[l*f.N+r])
	}
	return sum, 0
}

// run is pass p over elements [lo, hi), whose √f is sqrtF (unfactored) or rowF·colF (factored).
func (k *adafactorKernel) run(p, lo, hi int, sqrtF []float32, colF []float64, rowF float64) float64 {
	cfg := k.c.Cfg
	b1, b2, eps, sign := cfg.Beta1, k.c.Beta2Hat, cfg.Eps, k.c.Sign
	g, m, theta := k.grad[lo:hi], k.m[lo:hi], k.value[lo:hi]
	m, theta = m[:len(g)], theta[:len(g)]
	gScale := engine.Finite((1 - b1) * k.c.LR * sign * k.scale)
	wd := k.c.WD
	sum := 0.0
	for i := range g {
		var sf float64
		if colF != nil {
			sf = rowF * colF[i]
		} else {
			if p == 1 { // line 7 unfactored: f ← β̂₂f + (1−β̂₂)(g² + ε)
				gi := float64(g[i])
				s := float64(sqrtF[i])
				sqrtF[i] = engine.Sat32(math.Sqrt(b2*s*s + (1-b2)*(gi*gi+eps)))
			}
			sf = float64(sqrtF[i])
		}
		inv := engine.Reciprocal(sf) // line 10: ḡ = g/√f
		if p == 1 {
			x := float64(g[i]) * inv
			sum += x * x
			continue
		}
		mi := engine.Sat32(b1*float64(m[i]) + gScale*(float64(g[i])*inv)) // line 12
		m[i] = mi
		th := float64(theta[i])
		theta[i] = engine.Sat32(th - (float64(mi) + wd*th)) // line 13
	}
	return sum
}

func (k *adafactorKernel) Finish(p int, sums [][2]float64) {
	s := 0.0
	for _, x := range sums {
		s += x[0]
	}
	switch p {
	case 0:
		if k.f != nil {
			k.f.Update(k.c.Beta2Hat, k.c.Cfg.Eps)
		}
	case 1:
		k.scale = 1
		if c := k.c.Cfg.Clip; c > 0 { // line 11
			k.scale = engine.ClipScale(engine.RMS(s, k.n), c, false)
		}
	}
}

func (k *adafactorKernel) State() []engine.StateTensor {
	if k.f == nil {
		return []engine.StateTensor{{Suffix: "m", Data: k.m}, {Suffix: "sqrt_f", Data: k.sqrtF, NonNegative: true}}
	}
	rs, cs := k.f.Shapes()
	return []engine.StateTensor{
		{Suffix: "m", Data: k.m},
		{Suffix: "sqrt_R", Shape: rs, Data: k.f.SqrtR, NonNegative: true},
		{Suffix: "sqrt_C", Shape: cs, Data: k.f.SqrtC, NonNegative: true},
	}
}

func (k *adafactorKernel) Fisher(int64) []float32 {
	if k.f != nil {
		return k.f.Fisher()
	}
	out := make([]float32, k.n)
	for i, s := range k.sqrtF {
		out[i] = engine.Square32(s)
	}
	return out
}

// Traffic: pass 0 reads g (4); pass 1 reads g (factored) or g, √f and writes √f (4/12); pass 2
// reads g, m, θ (and √f unfactored) and writes m, θ (20/24).
func (k *adafactorKernel) Traffic() int64 {
	if k.f != nil {
		return 28 * int64(k.n)
	}
	return 40 * int64(k.n)
}
