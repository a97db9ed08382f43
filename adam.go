package fadam

import "math"

// NewAdam returns Adam with decoupled weight decay, as PyTorch's AdamW computes it: the uncorrected
// moments m and v are the state, bias-corrected on use, and
//
//	θ ← θ − η(m̂/(√v̂ + ε) + λθ),
//
// with the update m̂/(√v̂+ε) clipped to RMS ≤ c first when Clip > 0 (Algorithm 3, line 9).
// Algorithm 3 as printed stores the bias-corrected f (and m) back into the state, which
// compounds the correction at every step; no Adam implementation does that, and neither do we.
//
// NewAdam reads LR, Beta1, Beta2, Eps, WeightDecay, Clip (0 disables clipping) and Maximize;
// [DefaultsFor](AlgorithmAdam) gives PyTorch's defaults.
func NewAdam(cfg Config) (*Optimizer, error) { return optimizerOf(adamAlgorithm, cfg) }

var adamAlgorithm = &algorithm{
	name: AlgorithmAdam,
	newKernel: func(shape []int, n int, cfg *Config) kernel {
		if cfg.StateDType == BFloat16 {
			return &adamKernel{n: n, bf: newBF16Arrays(n, 0), beta2: cfg.Beta2}
		}
		return &adamKernel{n: n, m: make([]float32, n), sqrtV: make([]float32, n), beta2: cfg.Beta2}
	},
}

// adamKernel: pass 0 reads g; pass 1 updates m and v and, without clipping, θ; with clipping it
// sums the squared update instead and pass 2 updates θ.
type adamKernel struct {
	n           int
	m, sqrtV    []float32 // v is kept as its square root: float32 then covers g² for any finite g
	value, grad []float32
	c           *stepConsts
	invBC1      float64 // 1/(1−β₁^t)
	invSqrtBC2  float64 // 1/√(1−β₂^t)
	scale       float64 // the update clip factor
	clip        bool
	beta2       float64
	bf          *bf16Arrays // bfloat16 state (m and sqrtV are then nil), bf16_passes.go
}

func (k *adamKernel) chunks() int        { return flatChunks(k.n) }
func (k *adamKernel) active(p pass) bool { return p != passUpdate || k.clip }

func (k *adamKernel) begin(value, grad []float32, c *stepConsts) {
	k.value, k.grad, k.c = value, grad, c
	k.clip = c.cfg.Clip > 0
	t := float64(c.t)
	k.invBC1 = 1 / (1 - math.Pow(c.cfg.Beta1, t))
	k.invSqrtBC2 = 1 / math.Sqrt(1-math.Pow(c.cfg.Beta2, t))
	k.scale = 1
	if k.bf != nil {
		k.bf.begin(c)
	}
}

// adamConsts are one step's constants of the element loops.
type adamConsts struct {
	b1, c1, b2, c2, sign    float64 // β₁, 1−β₁, β₂, 1−β₂, −1 when maximizing
	invBC1, invSqrtBC2, eps float64 // 1/(1−β₁^t), 1/√(1−β₂^t), ε
	scale, lr, wd           float64 // clip factor, η, λ
}

func (k *adamKernel) consts() adamConsts {
	cfg := k.c.cfg
	return adamConsts{b1: cfg.Beta1, c1: 1 - cfg.Beta1, b2: cfg.Beta2, c2: 1 - cfg.Beta2, sign: k.c.sign,
		invBC1: k.invBC1, invSqrtBC2: k.invSqrtBC2, eps: cfg.Eps, scale: k.scale, lr: k.c.lr, wd: k.c.wd}
}

// run: passRead sums g²; passFisher updates m and √v and sums the squared update for the clip,
// and without clipping also updates θ; passUpdate (with clipping) updates θ.
func (k *adamKernel) run(p pass, chunk int) sums {
	lo, hi := flatRange(k.n, chunk)
	if p == passRead {
		return sums{grad: sumSquares(k.grad[lo:hi])}
	}
	if k.bf != nil {
		return k.runBF16(p, lo, hi)
	}
	c := k.consts()
	g, m, sv, theta := k.grad[lo:hi], k.m[lo:hi], k.sqrtV[lo:hi], k.value[lo:hi]
	m, sv, theta = m[:len(g)], sv[:len(g)], theta[:len(g)]
	n4 := len(g) &^ 3
	sum := 0.0
	if p == passFisher { // moments, and Σu² for the clip
		var lanes [4]float64
		adamMomentLanes(g[:n4], m[:n4], sv[:n4], &c, &lanes)
		sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
		for i := n4; i < len(g); i++ {
			u := adamMomentElem(g, m, sv, i, &c)
			sum += u * u
		}
		if k.clip {
			return sums{grad: sum}
		}
	}
	if c.lr != 0 { // θ ← θ − η(u·clip + λθ)
		adamUpdateLanes(m[:n4], sv[:n4], theta[:n4], &c)
		for i := n4; i < len(g); i++ {
			adamUpdateElem(m, sv, theta, i, &c)
		}
	}
	return sums{grad: sum}
}

// adamMomentElem updates m and √v of element i and returns the update m̂/(√v̂+ε).
func adamMomentElem(g, m, sv []float32, i int, c *adamConsts) float64 {
	gi := c.sign * float64(g[i])
	// float64(…) around each product keeps the compiler from fusing it into an FMA (as it may
	// under GOAMD64=v3), so this loop stays bit-identical to the assembly, which does not fuse.
	m32 := sat32(float64(c.b1*float64(m[i])) + float64(c.c1*gi))
	m[i] = m32
	s := float64(sv[i])
	sv32 := float32(math.Sqrt(float64(c.b2*s*s) + float64(c.c2*gi*gi)))
	sv[i] = sv32
	return adamUpdate(m32, sv32, c)
}

// adamUpdate is m̂/(√v̂+ε) from the stored m and √v (0 where the denominator is 0).
func adamUpdate(m, sqrtV float32, c *adamConsts) float64 {
	d := float64(float64(sqrtV)*c.invSqrtBC2) + c.eps
	inv := 1 / d
	if d < minDenominator {
		inv = reciprocal(d)
	}
	return float64(m) * c.invBC1 * inv
}

// adamUpdateElem is θ ← θ − η(u·clip + λθ) for element i.
func adamUpdateElem(m, sv, theta []float32, i int, c *adamConsts) {
	u := adamUpdate(m[i], sv[i], c)
	th := float64(theta[i])
	theta[i] = sat32(th - float64(c.lr*(float64(u*c.scale)+float64(c.wd*th))))
}

// adamMomentLanesGo is the portable adamMomentLanes (len(g) a multiple of 4): lanes[k] gets
// Σu² over the elements i ≡ k (mod 4).
func adamMomentLanesGo(g, m, sv []float32, c *adamConsts, lanes *[4]float64) {
	*lanes = [4]float64{}
	for i := 0; i+4 <= len(g); i += 4 {
		for k := range 4 {
			u := adamMomentElem(g, m, sv, i+k, c)
			lanes[k] += float64(u * u)
		}
	}
}

// adamUpdateLanesGo is the portable adamUpdateLanes.
func adamUpdateLanesGo(m, sv, theta []float32, c *adamConsts) {
	for i := range m {
		adamUpdateElem(m, sv, theta, i, c)
	}
}

func (k *adamKernel) finish(p pass, chunks []sums) {
	if p == passFisher && k.clip {
		k.scale = clipScale(rms(total(chunks).grad, k.n), k.c.cfg.Clip, false)
	}
}

func (k *adamKernel) state() []stateTensor {
	if k.bf != nil {
		return k.bf.state("sqrt_v")
	}
	return []stateTensor{{suffix: "m", data: k.m}, {suffix: "sqrt_v", data: k.sqrtV, nonNegative: true}}
}

// Fisher is v̂ = v/(1−β₂^t), 0 before the first step.
func (k *adamKernel) fisher(t int64) []float32 {
	out := make([]float32, k.n)
	if t == 0 {
		return out
	}
	bc2 := 1 - math.Pow(k.beta2, float64(t))
	if k.bf != nil {
		for i, h := range k.bf.sqrtF {
			s := float64(bf16ToFloat(h))
			out[i] = sat32(s * s / bc2)
		}
		return out
	}
	for i, s := range k.sqrtV {
		out[i] = sat32(float64(s) * float64(s) / bc2)
	}
	return out
}

// Traffic: pass 0 reads g (4); with clipping pass 1 reads g, m, √v, writes m, √v (20) and pass
// 2 reads m, √v, θ and writes θ (16); without, one pass reads g, m, √v, θ and writes m, √v, θ (28).
func (k *adamKernel) traffic() int64 {
	per := int64(32)
	if k.c == nil || k.clip {
		per = 40
	}
	if k.bf != nil { // m and √v move 2 bytes instead of 4: 4 accesses (6 with clipping)
		per -= 8 + (per-32)/2
	}
	return per * int64(k.n)
}
