package fadam

import (
	"math"
)

// denominator holds what Algorithm 1 line 9 needs to form d = f^ρ + ε̂^{2ρ} from √f.
type denominator struct {
	epsTerm float64 // ε̂^{2ρ} (Paper) or ε̂ (PyTorchReference, LaterEps)
	twoRho  float64
	halfRho bool // ρ = 0.5: f^ρ is √f itself, no pow
}

// set computes ε̂ from RMS(g) (line 8; the PyTorch code's ε·max(1, RMS(g)); the later form's
// ε·min(1, RMS(g))) and the term d adds.
func (d *denominator) set(cfg *Config, rmsG float64) {
	d.twoRho = 2 * cfg.Rho
	d.halfRho = cfg.Rho == 0.5
	switch cfg.Variant {
	case PyTorchReference:
		d.epsTerm = cfg.Eps * max(1, rmsG)
		return
	case LaterEps:
		d.epsTerm = cfg.Eps * min(1, rmsG)
		return
	}
	epsHat := min(cfg.Eps, cfg.Eps2*rmsG)
	if d.halfRho {
		d.epsTerm = epsHat
	} else {
		d.epsTerm = math.Pow(epsHat, d.twoRho)
	}
}

// inverse returns 1/d for d = (√f)^{2ρ} + ε̂^{2ρ}, with the zero-denominator rule.
func (d *denominator) inverse(sqrtF float64) float64 {
	if d.halfRho {
		return reciprocal(sqrtF + d.epsTerm)
	}
	return reciprocal(math.Pow(sqrtF, d.twoRho) + d.epsTerm)
}

// fadamKernel is Algorithm 1 for one tensor. State: momentum m (init 0) and √f (init 1; f is kept
// as its square root so that float32 covers g² for every finite float32 g).
//
// Pass 0 reads g for RMS(g) (line 8). Pass 1 updates f (line 7) and sums ḡ² and ḡ_w² (lines 9
// and 12) for the clips. Pass 2 clips (lines 10, 13), updates m (line 11) and θ (line 14).
type fadamKernel struct {
	n            int
	m, sqrtF     []float32
	value, grad  []float32
	c            *stepConsts
	den          denominator
	scaleG       float64 // line 10's 1/max(1, RMS(ḡ)/c)
	scaleW       float64 // line 13's 1/max(1, RMS(ḡ_w)/c)
	pytorchClips bool
	bf           *bf16Arrays // bfloat16 state (m and sqrtF are then nil), bf16_passes.go
}

func newFAdamKernel(n int, dtype StateDType) *fadamKernel {
	if dtype == BFloat16 {
		return &fadamKernel{n: n, bf: newBF16Arrays(n, 1)}
	}
	k := &fadamKernel{n: n, m: make([]float32, n), sqrtF: make([]float32, n)}
	for i := range k.sqrtF {
		k.sqrtF[i] = 1
	}
	return k
}

func (k *fadamKernel) chunks() int      { return flatChunks(k.n) }
func (k *fadamKernel) active(pass) bool { return true }

func (k *fadamKernel) begin(value, grad []float32, c *stepConsts) {
	k.value, k.grad, k.c = value, grad, c
	k.pytorchClips = c.cfg.Variant.clipsByMaxRMS()
	if k.bf != nil {
		k.bf.begin(c)
	}
}

func (k *fadamKernel) run(p pass, chunk int) sums {
	lo, hi := flatRange(k.n, chunk)
	switch {
	case p == passRead:
		return sums{grad: sumSquares(k.grad[lo:hi])}
	case k.bf != nil:
		return k.runBF16(p, lo, hi)
	case p == passFisher:
		sumG, sumW := k.fisherPass(lo, hi)
		return sums{grad: sumG, decay: sumW}
	default:
		k.updatePass(lo, hi)
		return sums{}
	}
}

// fisherPass is lines 7, 9 and 12 over [lo, hi): f ← β̂₂f + (1−β̂₂)g², then Σḡ² and Σḡ_w².
func (k *fadamKernel) fisherPass(lo, hi int) (sumG, sumW float64) {
	g, sf := k.grad[lo:hi], k.sqrtF[lo:hi]
	var theta []float32
	if k.c.wd != 0 {
		theta = k.value[lo:hi]
	}
	if k.den.halfRho {
		return fisherHalf(g, sf, theta, k.c.beta2Hat, k.den.epsTerm)
	}
	b2 := k.c.beta2Hat
	for i := range g {
		gi := float64(g[i])
		s := float64(sf[i])
		s32 := float32(math.Sqrt(b2*s*s + (1-b2)*gi*gi))
		sf[i] = s32
		inv := k.den.inverse(float64(s32))
		x := gi * inv
		sumG += x * x
		if theta != nil {
			w := float64(theta[i]) * inv
			sumW += w * w
		}
	}
	return sumG, sumW
}

// fisherHalf is fisherPass for ρ = 0.5 (d = √f + ε̂): one sqrt and one reciprocal per element,
// shared by ḡ and ḡ_w. theta is nil without weight decay. The bulk runs in fisherLanes (four
// accumulators, element i into lane i mod 4, combined as (l0+l1)+(l2+l3)); the tail follows.
func fisherHalf(g, sf, theta []float32, b2, eps float64) (sumG, sumW float64) {
	decay := theta != nil
	if !decay {
		theta = g // read and discarded: keeps one loop
	}
	sf, theta = sf[:len(g)], theta[:len(g)]
	n4 := len(g) &^ 3
	var lanes [8]float64
	fisherLanes(g[:n4], sf[:n4], theta[:n4], b2, 1-b2, eps, &lanes)
	sumG = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
	sumW = (lanes[4] + lanes[5]) + (lanes[6] + lanes[7])
	for i := n4; i < len(g); i++ {
		inv := fisherElem(g, sf, i, b2, 1-b2, eps)
		x := float64(g[i]) * inv
		sumG += x * x
		w := float64(theta[i]) * inv
		sumW += w * w
	}
	if !decay {
		sumW = 0
	}
	return sumG, sumW
}

// fisherElem is line 7 for element i (storing √f) and returns 1/d for line 9, d = √f + ε̂.
func fisherElem(g, sf []float32, i int, b2, c2, eps float64) float64 {
	gi := float64(g[i])
	s := float64(sf[i])
	s32 := float32(math.Sqrt(b2*s*s + c2*gi*gi))
	sf[i] = s32
	return halfInverse(s32, eps)
}

// halfInverse is 1/(√f + ε̂) with the zero-denominator rule (reciprocal).
func halfInverse(sqrtF float32, eps float64) float64 {
	d := float64(sqrtF) + eps
	inv := 1 / d
	if d < minDenominator {
		inv = reciprocal(d)
	}
	return inv
}

// fisherLanesGo is the portable fisherLanes: len(g) is a multiple of 4; lanes[k] and
// lanes[4+k] receive Σḡ² and Σḡ_w² over the elements i ≡ k (mod 4).
func fisherLanesGo(g, sf, theta []float32, b2, c2, eps float64, lanes *[8]float64) {
	sf, theta = sf[:len(g)], theta[:len(g)]
	*lanes = [8]float64{}
	for i := 0; i+4 <= len(g); i += 4 {
		for k := range 4 {
			inv := fisherElem(g, sf, i+k, b2, c2, eps)
			x := float64(g[i+k]) * inv
			lanes[k] += x * x
			w := float64(theta[i+k]) * inv
			lanes[4+k] += w * w
		}
	}
}

// updatePass is lines 10, 11, 13 and 14 over [lo, hi).
func (k *fadamKernel) updatePass(lo, hi int) {
	b1 := k.c.cfg.Beta1
	gScale := finite((1 - b1) * k.c.sign * k.scaleG) // (1−β₁)·sign·clip of line 10
	wScale := finite(k.c.wd * k.scaleW)              // λ·clip of line 13
	g, sf, m, theta := k.grad[lo:hi], k.sqrtF[lo:hi], k.m[lo:hi], k.value[lo:hi]
	if k.den.halfRho && k.c.lr != 0 {
		updateHalf(g, sf, m, theta, b1, gScale, wScale, k.c.lr, k.den.epsTerm)
		return
	}
	sf, m, theta = sf[:len(g)], m[:len(g)], theta[:len(g)]
	for i := range g {
		inv := k.den.inverse(float64(sf[i]))
		mi := sat32(b1*float64(m[i]) + gScale*(float64(g[i])*inv))
		m[i] = mi
		if k.c.lr != 0 {
			th := float64(theta[i])
			theta[i] = sat32(th - k.c.lr*(float64(mi)+wScale*(th*inv)))
		}
	}
}

// updateHalf is updatePass for ρ = 0.5 and η ≠ 0: the bulk in updateLanes, the tail here.
func updateHalf(g, sf, m, theta []float32, b1, gScale, wScale, lr, eps float64) {
	sf, m, theta = sf[:len(g)], m[:len(g)], theta[:len(g)]
	n4 := len(g) &^ 3
	updateLanes(g[:n4], sf[:n4], m[:n4], theta[:n4], b1, gScale, wScale, lr, eps)
	for i := n4; i < len(g); i++ {
		updateElem(g, sf, m, theta, i, b1, gScale, wScale, lr, eps)
	}
}

// updateElem is lines 11 and 14 for element i with ρ = 0.5.
func updateElem(g, sf, m, theta []float32, i int, b1, gScale, wScale, lr, eps float64) {
	updateElemInv(g, m, theta, i, halfInverse(sf[i], eps), b1, gScale, wScale, lr)
}

// updateElemInv is lines 11 and 14 for element i given inv = 1/d:
// m ← β₁m + gScale·g/d and θ ← θ − η(m + wScale·θ/d), both saturated to float32.
func updateElemInv(g, m, theta []float32, i int, inv, b1, gScale, wScale, lr float64) {
	mi := b1*float64(m[i]) + gScale*(float64(g[i])*inv)
	m32 := float32(clampFloat32(mi))
	m[i] = m32
	th := float64(theta[i])
	th -= lr * (float64(m32) + wScale*(th*inv))
	theta[i] = float32(clampFloat32(th))
}

// clampFloat32 limits x to ±MaxFloat32 (sat32 before the conversion).
func clampFloat32(x float64) float64 {
	return max(-math.MaxFloat32, min(x, math.MaxFloat32))
}

// updateLanesGo is the portable updateLanes: updateElem over every element.
func updateLanesGo(g, sf, m, theta []float32, b1, gScale, wScale, lr, eps float64) {
	for i := range g {
		updateElem(g, sf, m, theta, i, b1, gScale, wScale, lr, eps)
	}
}

func (k *fadamKernel) finish(p pass, chunks []sums) {
	s := total(chunks)
	switch p {
	case passRead:
		k.den.set(k.c.cfg, rms(s.grad, k.n)) // line 8
	case passFisher:
		clip := k.c.cfg.Clip
		k.scaleG = clipScale(rms(s.grad, k.n), clip, k.pytorchClips)  // line 10
		k.scaleW = clipScale(rms(s.decay, k.n), clip, k.pytorchClips) // line 13
	}
}

func (k *fadamKernel) state() []stateTensor {
	if k.bf != nil {
		return k.bf.state("sqrt_f")
	}
	return []stateTensor{
		{suffix: "m", data: k.m},
		{suffix: "sqrt_f", data: k.sqrtF, nonNegative: true},
	}
}

func (k *fadamKernel) fisher(int64) []float32 {
	if k.bf != nil {
		return squares(k.bf.sqrtF)
	}
	return squares32(k.sqrtF)
}

// Traffic: pass 0 reads g (4); pass 1 reads g, √f (and θ with weight decay), writes √f (12/16);
// pass 2 reads g, √f, m, θ and writes m, θ (24).
func (k *fadamKernel) traffic() int64 {
	per := int64(4 + 12 + 24)
	if k.bf != nil { // √f and m move 2 bytes instead of 4 (three accesses each)
		per -= 6 + 4
	}
	if k.c == nil || k.c.wd != 0 {
		per += 4
	}
	return per * int64(k.n)
}
