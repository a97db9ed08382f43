package fadam

import "math"

// NewAdafactor returns Adafactor, Algorithm 4 of the FAdam paper as printed: ε is added to g² inside the EMA
// (lines 7–8), the learning rate sits inside the momentum (line 12), and the weight decay λθ is
// not scaled by η (line 13):
//
//	ḡ = g/√f, clipped to RMS ≤ c;  m ← β₁m + (1−β₁)ηḡ;  θ ← θ − (m + λθ).
//
// Tensors of rank ≥ 2 keep a factored f per leading index over their trailing n×m dimensions
// (R and C start at 0); rank 0 and 1 tensors, and tensors without elements, keep f unfactored.
// Where f = 0 (possible only with ε = 0) ḡ is 0, the zero-denominator rule.
//
// NewAdafactor reads LR, Beta1, Beta2, Eps, WeightDecay, Clip (0 disables clipping) and
// Maximize; [DefaultsFor](AlgorithmAdafactor) gives Algorithm 4's line 1 (ε = 1e-30, c = 1).
func NewAdafactor(cfg Config) (*Optimizer, error) { return optimizerOf(adafactorAlgorithm, cfg) }

var adafactorAlgorithm = &algorithm{
	name: AlgorithmAdafactor,
	newKernel: func(shape []int, n int, cfg *Config) kernel {
		if cfg.StateDType == BFloat16 {
			return newAdafactorBF16(shape, n)
		}
		k := &adafactorKernel{n: n, m: make([]float32, n)}
		if factorable(shape, n) {
			k.f = newFactoredFisher(shape, 0)
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
	sqrtF       []float32       // unfactored √f
	f           *factoredFisher // factored R and C
	value, grad []float32
	c           *stepConsts
	scale       float64
	// 1/(√R_i/√ΣR) and 1/√C_j (reciprocal) of the factored f: ḡ = g·invRow·invCol needs
	// no division per element.
	invRow, invCol []float64
	bf             *bf16Arrays // bfloat16 state (m and sqrtF are then nil), bf16_passes.go
}

func (k *adafactorKernel) chunks() int {
	if k.f != nil {
		return k.f.Chunks()
	}
	return flatChunks(k.n)
}

func (k *adafactorKernel) active(pass) bool { return true }

func (k *adafactorKernel) begin(value, grad []float32, c *stepConsts) {
	k.value, k.grad, k.c = value, grad, c
	if k.f != nil {
		k.f.Begin(grad)
	}
	if k.bf != nil {
		k.bf.begin(c)
	}
}

// run: passRead sums g² (and, factored, the row and column sums); passFisher updates an
// unfactored f (lines 7–9) and sums ḡ² for the clip; passUpdate updates m and θ.
func (k *adafactorKernel) run(p pass, chunk int) sums {
	if k.f == nil {
		lo, hi := flatRange(k.n, chunk)
		if p == passRead {
			return sums{grad: sumSquares(k.grad[lo:hi])}
		}
		if k.bf != nil {
			return sums{grad: k.runRangeBF16(p, lo, hi, nil, 0)}
		}
		return sums{grad: k.runRange(p, lo, hi, k.sqrtF[lo:hi], nil, 0)}
	}
	if p == passRead {
		return sums{grad: k.f.Stats(chunk)}
	}
	l, r0, r1, c0, c1 := k.f.Tile(chunk)
	f := k.f
	invCol := k.invCol[l*f.M+c0 : l*f.M+c1]
	sum := 0.0
	for r := r0; r < r1; r++ {
		base := (l*f.N+r)*f.M + c0
		if k.bf != nil {
			sum += k.runRangeBF16(p, base, base+len(invCol), invCol, k.invRow[l*f.N+r])
			continue
		}
		sum += k.runRange(p, base, base+len(invCol), nil, invCol, k.invRow[l*f.N+r])
	}
	return sums{grad: sum}
}

// runRange is pass p over elements [lo, hi), whose √f is sqrtF (unfactored) or, factored,
// 1/√f = invRow·invCol (at most 1/minDenominator, as reciprocal).
func (k *adafactorKernel) runRange(p pass, lo, hi int, sqrtF []float32, invCol []float64, invRow float64) float64 {
	cfg := k.c.cfg
	g, m, theta := k.grad[lo:hi], k.m[lo:hi], k.value[lo:hi]
	m, theta = m[:len(g)], theta[:len(g)]
	if p == passFisher {
		if invCol != nil {
			return gradSumFactored(g, invCol[:len(g)], invRow)
		}
		return updateFisher(g, sqrtF[:len(g)], k.c.beta2Hat, cfg.Eps)
	}
	gScale := finite((1 - cfg.Beta1) * k.c.lr * k.c.sign * k.scale)
	if invCol != nil {
		n4 := len(g) &^ 3
		adafactorUpdateLanes(g[:n4], m[:n4], theta[:n4], invCol[:n4], invRow, cfg.Beta1, gScale, k.c.wd)
		for i := n4; i < len(g); i++ {
			adafactorUpdate(g, m, theta, i, min(invRow*invCol[i], maxInverse), cfg.Beta1, gScale, k.c.wd)
		}
		return 0
	}
	sqrtF = sqrtF[:len(g)]
	for i := range g {
		adafactorUpdate(g, m, theta, i, reciprocal(float64(sqrtF[i])), cfg.Beta1, gScale, k.c.wd)
	}
	return 0
}

// maxInverse caps 1/√f as reciprocal does.
const maxInverse = 1 / minDenominator

// gradSumFactored is Σḡ² (line 10) over a row segment with 1/√f = invRow·invCol: four lanes
// (element i into i mod 4, in assembly where available) combined as (l0+l1)+(l2+l3), then the
// tail.
func gradSumFactored(g []float32, invCol []float64, invRow float64) float64 {
	n4 := len(g) &^ 3
	var l [4]float64
	adafactorSumLanes(g[:n4], invCol[:n4], invRow, &l)
	sum := (l[0] + l[1]) + (l[2] + l[3])
	for i := n4; i < len(g); i++ {
		x := float64(g[i]) * min(invRow*invCol[i], maxInverse)
		sum += x * x
	}
	return sum
}

// adafactorSumLanesGo is the portable adafactorSumLanes (len(g) a multiple of 4).
func adafactorSumLanesGo(g []float32, invCol []float64, invRow float64, l *[4]float64) {
	invCol = invCol[:len(g)]
	*l = [4]float64{}
	for i := 0; i+4 <= len(g); i += 4 {
		for k := range 4 {
			x := float64(g[i+k]) * min(invRow*invCol[i+k], maxInverse)
			l[k] += x * x
		}
	}
}

// adafactorUpdateLanesGo is the portable adafactorUpdateLanes.
func adafactorUpdateLanesGo(g, m, theta []float32, invCol []float64, invRow, b1, gScale, wd float64) {
	invCol = invCol[:len(g)]
	for i := range g {
		adafactorUpdate(g, m, theta, i, min(invRow*invCol[i], maxInverse), b1, gScale, wd)
	}
}

// updateFisher is the unfactored lines 7–10: f ← β̂₂f + (1−β̂₂)(g² + ε) (√f stored), and Σḡ².
func updateFisher(g, sqrtF []float32, b2, eps float64) float64 {
	sum := 0.0
	for i := range g {
		gi := float64(g[i])
		s := float64(sqrtF[i])
		sqrtF[i] = sat32(math.Sqrt(b2*s*s + (1-b2)*(gi*gi+eps)))
		x := gi * reciprocal(float64(sqrtF[i]))
		sum += x * x
	}
	return sum
}

// adafactorUpdate is lines 12–13 for element i given inv = 1/√f: m ← β₁m + (1−β₁)η·clip·ḡ,
// θ ← θ − (m + λθ).
func adafactorUpdate(g, m, theta []float32, i int, inv, b1, gScale, wd float64) {
	mi := sat32(b1*float64(m[i]) + gScale*(float64(g[i])*inv))
	m[i] = mi
	th := float64(theta[i])
	theta[i] = sat32(th - (float64(mi) + wd*th))
}

func (k *adafactorKernel) finish(p pass, chunks []sums) {
	switch p {
	case passRead:
		if f := k.f; f != nil {
			f.Update(k.c.beta2Hat, k.c.cfg.Eps)
			if k.invRow == nil {
				k.invRow, k.invCol = make([]float64, len(f.RowF)), make([]float64, len(f.ColF))
			}
			for i, x := range f.RowF {
				k.invRow[i] = reciprocal(x)
			}
			for j, x := range f.ColF {
				k.invCol[j] = reciprocal(x)
			}
		}
	case passFisher:
		k.scale = 1
		if c := k.c.cfg.Clip; c > 0 { // line 11
			k.scale = clipScale(rms(total(chunks).grad, k.n), c, false)
		}
	}
}

func (k *adafactorKernel) state() []stateTensor {
	switch {
	case k.bf != nil && k.f != nil:
		return k.f.stateBF16(k.bf.m)
	case k.bf != nil:
		return k.bf.state("sqrt_f")
	}
	if k.f == nil {
		return []stateTensor{{suffix: "m", data: k.m}, {suffix: "sqrt_f", data: k.sqrtF, nonNegative: true}}
	}
	rs, cs := k.f.Shapes()
	return []stateTensor{
		{suffix: "m", data: k.m},
		{suffix: "sqrt_R", shape: rs, data: k.f.SqrtR, nonNegative: true},
		{suffix: "sqrt_C", shape: cs, data: k.f.SqrtC, nonNegative: true},
	}
}

func (k *adafactorKernel) fisher(int64) []float32 {
	if k.f != nil {
		return k.f.Fisher()
	}
	if k.bf != nil {
		return squares(k.bf.sqrtF)
	}
	return squares32(k.sqrtF)
}

// Traffic: pass 0 reads g (4); pass 1 reads g (factored) or g, √f and writes √f (4/12); pass 2
// reads g, m, θ (and √f unfactored) and writes m, θ (20/24).
func (k *adafactorKernel) traffic() int64 {
	per := int64(40)
	if k.f != nil {
		per = 28
	}
	if k.bf != nil { // m (and an unfactored √f) move 2 bytes instead of 4
		per -= 4 + (per-28)/2
	}
	return per * int64(k.n)
}
