package baseline

import (
	"math"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/internal/engine"
)

// Adam is Adam with decoupled weight decay, as PyTorch's AdamW computes it: the uncorrected
// moments m and v are the state, bias-corrected on use, and
//
//	θ ← θ − η(m̂/(√v̂ + ε) + λθ),
//
// with the update m̂/(√v̂+ε) clipped to RMS ≤ c first when Clip > 0 (Algorithm 3, line 9).
// Algorithm 3 as printed stores the bias-corrected f (and m) back into the state, which
// compounds the correction at every step; no Adam implementation does that, and neither do we.
type Adam struct{ optimizer }

// NewAdam returns an Adam optimizer. It reads LR, Beta1, Beta2, Eps, WeightDecay, Clip (0
// disables clipping) and Maximize.
func NewAdam(cfg fadam.Config) (*Adam, error) {
	o, err := newOptimizer(adamAlgorithm, cfg)
	if err != nil {
		return nil, err
	}
	return &Adam{o}, nil
}

var adamAlgorithm = &engine.Algorithm{
	Name:     "adam",
	Passes:   3,
	Validate: engine.RequireClipNonNegative,
	NewKernel: func(shape []int, n int, cfg *engine.Config) engine.Kernel {
		return &adamKernel{n: n, m: make([]float32, n), sqrtV: make([]float32, n), beta2: cfg.Beta2}
	},
}

// adamKernel: pass 0 reads g; pass 1 updates m and v and, without clipping, θ; with clipping it
// sums the squared update instead and pass 2 updates θ.
type adamKernel struct {
	n           int
	m, sqrtV    []float32 // v is kept as its square root: float32 then covers g² for any finite g
	value, grad []float32
	c           *engine.Consts
	invBC1      float64 // 1/(1−β₁^t)
	invSqrtBC2  float64 // 1/√(1−β₂^t)
	scale       float64 // the update clip factor
	clip        bool
	beta2       float64
}

func (k *adamKernel) Chunks() int       { return engine.FlatChunks(k.n) }
func (k *adamKernel) Active(p int) bool { return p < 2 || k.clip }

func (k *adamKernel) Begin(value, grad []float32, c *engine.Consts) {
	k.value, k.grad, k.c = value, grad, c
	k.clip = c.Cfg.Clip > 0
	t := float64(c.T)
	k.invBC1 = 1 / (1 - math.Pow(c.Cfg.Beta1, t))
	k.invSqrtBC2 = 1 / math.Sqrt(1-math.Pow(c.Cfg.Beta2, t))
	k.scale = 1
}

// update is m̂/(√v̂+ε) from the stored m and √v (0 where the denominator is 0).
func (k *adamKernel) update(m, sqrtV float32) float64 {
	return float64(m) * k.invBC1 * engine.Reciprocal(float64(sqrtV)*k.invSqrtBC2+k.c.Cfg.Eps)
}

func (k *adamKernel) Run(p, chunk int) (float64, float64) {
	lo, hi := engine.FlatRange(k.n, chunk)
	if p == 0 {
		return engine.SumSquares(k.grad[lo:hi]), 0
	}
	b1, b2 := k.c.Cfg.Beta1, k.c.Cfg.Beta2
	lr, wd, sign := k.c.LR, k.c.WD, k.c.Sign
	g, m, sv, theta := k.grad[lo:hi], k.m[lo:hi], k.sqrtV[lo:hi], k.value[lo:hi]
	m, sv, theta = m[:len(g)], sv[:len(g)], theta[:len(g)]
	sum := 0.0
	for i := range g {
		if p == 1 {
			gi := sign * float64(g[i])
			m[i] = engine.Sat32(b1*float64(m[i]) + (1-b1)*gi)
			v := float64(sv[i])
			sv[i] = float32(math.Sqrt(b2*v*v + (1-b2)*gi*gi))
		}
		u := k.update(m[i], sv[i])
		if p == 1 && k.clip {
			sum += u * u
			continue
		}
		if lr != 0 {
			th := float64(theta[i])
			theta[i] = engine.Sat32(th - lr*(u*k.scale+wd*th))
		}
	}
	return sum, 0
}

func (k *adamKernel) Finish(p int, sums [][2]float64) {
	if p == 1 && k.clip {
		s := 0.0
		for _, x := range sums {
			s += x[0]
		}
		k.scale = engine.ClipScale(engine.RMS(s, k.n), k.c.Cfg.Clip, false)
	}
}

func (k *adamKernel) State() []engine.StateTensor {
	return []engine.StateTensor{{Suffix: "m", Data: k.m}, {Suffix: "sqrt_v", Data: k.sqrtV, NonNegative: true}}
}

// Fisher is v̂ = v/(1−β₂^t), 0 before the first step.
func (k *adamKernel) Fisher(t int64) []float32 {
	out := make([]float32, k.n)
	if t == 0 {
		return out
	}
	bc2 := 1 - math.Pow(k.beta2, float64(t))
	for i, s := range k.sqrtV {
		out[i] = engine.Sat32(float64(s) * float64(s) / bc2)
	}
	return out
}

// Traffic: pass 0 reads g (4); with clipping pass 1 reads g, m, √v, writes m, √v (20) and pass
// 2 reads m, √v, θ and writes θ (16); without, one pass reads g, m, √v, θ and writes m, √v, θ (28).
func (k *adamKernel) Traffic() int64 {
	if k.c == nil || k.clip {
		return 40 * int64(k.n)
	}
	return 32 * int64(k.n)
}
