package fadam

import "math"

// The bfloat16-state versions of the kernels' passes. They compute exactly what the float32
// passes compute (float64 arithmetic, the same order of operations), except that every load of
// m or √f widens a bfloat16 and every store rounds stochastically to bfloat16 (storeBF16); the
// value stored is the value used afterwards in the same step, as with float32 state.

// bf16Arrays is the bfloat16 state of one kernel: the momentum and, unless the Fisher estimate
// is factored, its square root (√f, or Adam's √v), with this step's random streams.
type bf16Arrays struct {
	bf16State
	m, sqrtF []uint16 // sqrtF is nil for a factored tensor
}

// newBF16Arrays returns m = 0 and √f = init, or no √f for init < 0 (factored).
func newBF16Arrays(n int, init float32) *bf16Arrays {
	a := &bf16Arrays{m: newBF16(n, 0)}
	if init >= 0 {
		a.sqrtF = newBF16(n, init)
	}
	return a
}

// begin takes the step's seed and step number.
func (a *bf16Arrays) begin(c *stepConsts) {
	a.seed = c.cfg.RoundingSeed
	a.rekey(c.t)
}

// state lists m and the unfactored √f (checkpoint suffix fisherSuffix).
func (a *bf16Arrays) state(fisherSuffix string) []stateTensor {
	return []stateTensor{{suffix: "m", bf16: a.m}, {suffix: fisherSuffix, bf16: a.sqrtF, nonNegative: true}}
}

func (k *fadamKernel) setTensorIndex(i int) {
	if k.bf != nil {
		k.bf.tensor = i
	}
}

func (k *fadafactorKernel) setTensorIndex(i int) {
	if k.bf != nil {
		k.bf.tensor = i
	}
}

func (k *adamKernel) setTensorIndex(i int) {
	if k.bf != nil {
		k.bf.tensor = i
	}
}

func (k *adafactorKernel) setTensorIndex(i int) {
	if k.bf != nil {
		k.bf.tensor = i
	}
}

// squares returns f = (√f)² from bfloat16 √f, for Fisher (exact in float32: 16 significant bits).
func squares(sqrtF []uint16) []float32 {
	out := make([]float32, len(sqrtF))
	for i, h := range sqrtF {
		out[i] = square32(bf16ToFloat(h))
	}
	return out
}

// FAdam (Algorithm 1) with bfloat16 m and √f.

func (k *fadamKernel) runBF16(p pass, lo, hi int) sums {
	if p == passFisher {
		sumG, sumW := k.fisherPassBF16(lo, hi)
		return sums{grad: sumG, decay: sumW}
	}
	k.updatePassBF16(lo, hi)
	return sums{}
}

// fisherPassBF16 is fisherPass: lines 7, 9 and 12 over [lo, hi).
func (k *fadamKernel) fisherPassBF16(lo, hi int) (sumG, sumW float64) {
	g, sf := k.grad[lo:hi], k.bf.sqrtF[lo:hi]
	var theta []float32
	if k.c.wd != 0 {
		theta = k.value[lo:hi]
	}
	b2, key := k.c.beta2Hat, k.bf.keyF
	if k.den.halfRho {
		return fisherHalfBF16(g, sf, theta, b2, k.den.epsTerm, key, lo)
	}
	sf = sf[:len(g)]
	for i := range g {
		gi := float64(g[i])
		s := float64(bf16ToFloat(sf[i]))
		s = storeBF16(sf, i, math.Sqrt(b2*s*s+(1-b2)*gi*gi), key, lo+i) // line 7
		inv := k.den.inverse(s)
		x := gi * inv
		sumG += x * x
		if theta != nil {
			w := float64(theta[i]) * inv
			sumW += w * w
		}
	}
	return sumG, sumW
}

// fisherHalfBF16 is fisherHalf (ρ = 0.5) for elements idx, idx+1, … of the tensor: the bulk in
// fisherLanesBF16, the tail here, the sums combined in the same order.
func fisherHalfBF16(g []float32, sf []uint16, theta []float32, b2, eps float64, key roundKey, idx int) (sumG, sumW float64) {
	decay := theta != nil
	if !decay {
		theta = g // read and discarded: keeps one loop
	}
	sf, theta = sf[:len(g)], theta[:len(g)]
	n4 := len(g) &^ 3
	var lanes [8]float64
	fisherLanesBF16(g[:n4], sf[:n4], theta[:n4], b2, 1-b2, eps, key, idx, &lanes)
	sumG = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
	sumW = (lanes[4] + lanes[5]) + (lanes[6] + lanes[7])
	for i := n4; i < len(g); i++ {
		inv := fisherElemBF16(g, sf, i, b2, 1-b2, eps, key, idx+i)
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

// fisherElemBF16 is line 7 for element i (tensor element idx), storing √f in bfloat16, and
// returns 1/d for line 9 from the stored value.
func fisherElemBF16(g []float32, sf []uint16, i int, b2, c2, eps float64, key roundKey, idx int) float64 {
	gi := float64(g[i])
	s := float64(bf16ToFloat(sf[i]))
	s = storeBF16(sf, i, math.Sqrt(b2*s*s+c2*gi*gi), key, idx)
	return halfInverse(float32(s), eps)
}

// fisherLanesBF16Go is the portable fisherLanesBF16: len(g) is a multiple of 4, g[0] is
// element idx; lanes[k] and lanes[4+k] receive Σḡ² and Σḡ_w² over the elements i ≡ k (mod 4).
func fisherLanesBF16Go(g []float32, sf []uint16, theta []float32, b2, c2, eps float64, key roundKey, idx int, lanes *[8]float64) {
	sf, theta = sf[:len(g)], theta[:len(g)]
	*lanes = [8]float64{}
	for i := 0; i+4 <= len(g); i += 4 {
		for k := range 4 {
			inv := fisherElemBF16(g, sf, i+k, b2, c2, eps, key, idx+i+k)
			x := float64(g[i+k]) * inv
			lanes[k] += x * x
			w := float64(theta[i+k]) * inv
			lanes[4+k] += w * w
		}
	}
}

// updatePassBF16 is updatePass: lines 10, 11, 13 and 14 over [lo, hi).
func (k *fadamKernel) updatePassBF16(lo, hi int) {
	b1, lr := k.c.cfg.Beta1, k.c.lr
	gScale := finite((1 - b1) * k.c.sign * k.scaleG)
	wScale := finite(k.c.wd * k.scaleW)
	g, sf, m, theta := k.grad[lo:hi], k.bf.sqrtF[lo:hi], k.bf.m[lo:hi], k.value[lo:hi]
	key := k.bf.keyM
	if k.den.halfRho && lr != 0 {
		updateHalfBF16(g, sf, m, theta, b1, gScale, wScale, lr, k.den.epsTerm, key, lo)
		return
	}
	sf, m, theta = sf[:len(g)], m[:len(g)], theta[:len(g)]
	for i := range g {
		inv := k.den.inverse(float64(bf16ToFloat(sf[i])))
		if lr == 0 {
			storeBF16(m, i, b1*float64(bf16ToFloat(m[i]))+gScale*(float64(g[i])*inv), key, lo+i)
			continue
		}
		updateElemInvBF16(g, m, theta, i, inv, b1, gScale, wScale, lr, key, lo+i)
	}
}

// updateHalfBF16 is updateHalf (ρ = 0.5, η ≠ 0) for elements idx, idx+1, …: the bulk in
// updateLanesBF16, the tail here.
func updateHalfBF16(g []float32, sf, m []uint16, theta []float32, b1, gScale, wScale, lr, eps float64, key roundKey, idx int) {
	sf, m, theta = sf[:len(g)], m[:len(g)], theta[:len(g)]
	n4 := len(g) &^ 3
	updateLanesBF16(g[:n4], sf[:n4], m[:n4], theta[:n4], b1, gScale, wScale, lr, eps, key, idx)
	for i := n4; i < len(g); i++ {
		updateElemInvBF16(g, m, theta, i, halfInverse(bf16ToFloat(sf[i]), eps), b1, gScale, wScale, lr, key, idx+i)
	}
}

// updateElemInvBF16 is updateElemInv with bfloat16 m: m ← β₁m + gScale·g/d (stored
// stochastically rounded, tensor element idx) and θ ← θ − η(m + wScale·θ/d) with the stored m.
func updateElemInvBF16(g []float32, m []uint16, theta []float32, i int, inv, b1, gScale, wScale, lr float64, key roundKey, idx int) {
	mi := storeBF16(m, i, b1*float64(bf16ToFloat(m[i]))+gScale*(float64(g[i])*inv), key, idx)
	th := float64(theta[i])
	th -= lr * (mi + wScale*(th*inv))
	theta[i] = float32(clampFloat32(th))
}

// updateLanesBF16Go is the portable updateLanesBF16: g[0] is element idx.
func updateLanesBF16Go(g []float32, sf, m []uint16, theta []float32, b1, gScale, wScale, lr, eps float64, key roundKey, idx int) {
	sf, m, theta = sf[:len(g)], m[:len(g)], theta[:len(g)]
	for i := range g {
		updateElemInvBF16(g, m, theta, i, halfInverse(bf16ToFloat(sf[i]), eps), b1, gScale, wScale, lr, key, idx+i)
	}
}

// FAdafactor (Algorithm 2) with bfloat16 m, √R and √C. Pass 1 reads neither, so only the update
// pass and the factored statistics differ.

// updateBF16 is the update pass (lines 12–13, 15–16) over tile chunk.
func (k *fadafactorKernel) updateBF16(chunk int) {
	l, r0, r1, c0, c1 := k.f.Tile(chunk)
	f := k.f
	colF := f.ColF[l*f.M+c0 : l*f.M+c1]
	b1, lr := k.c.cfg.Beta1, k.c.lr
	gScale := finite((1 - b1) * k.c.sign * k.scaleG)
	wScale := finite(k.c.wd * k.scaleW)
	eps, key := k.den.epsTerm, k.bf.keyM
	for r := r0; r < r1; r++ {
		rowF := f.RowF[l*f.N+r]
		base := (l*f.N+r)*f.M + c0
		g := k.grad[base : base+len(colF)]
		theta := k.value[base : base+len(colF)]
		m := k.bf.m[base : base+len(colF)]
		switch {
		case lr == 0:
			for j, cf := range colF {
				inv := k.den.inverse(rowF * cf)
				storeBF16(m, j, b1*float64(bf16ToFloat(m[j]))+gScale*(float64(g[j])*inv), key, base+j)
			}
		case k.den.halfRho:
			n4 := len(g) &^ 3
			updateFactoredLanesBF16(g[:n4], m[:n4], theta[:n4], colF[:n4], rowF, b1, gScale, wScale, lr, eps, key, base)
			for j := n4; j < len(g); j++ {
				updateElemInvBF16(g, m, theta, j, factoredInverse(rowF, colF[j], eps), b1, gScale, wScale, lr, key, base+j)
			}
		default:
			for j, cf := range colF {
				updateElemInvBF16(g, m, theta, j, k.den.inverse(rowF*cf), b1, gScale, wScale, lr, key, base+j)
			}
		}
	}
}

// updateFactoredLanesBF16Go is the portable updateFactoredLanesBF16: g[0] is element idx.
func updateFactoredLanesBF16Go(g []float32, m []uint16, theta []float32, colF []float64, rowF, b1, gScale, wScale, lr, eps float64, key roundKey, idx int) {
	m, theta, colF = m[:len(g)], theta[:len(g)], colF[:len(g)]
	for j := range g {
		updateElemInvBF16(g, m, theta, j, factoredInverse(rowF, colF[j], eps), b1, gScale, wScale, lr, key, idx+j)
	}
}

// toBF16 switches the factored statistics to bfloat16 storage (before any step: R and C hold
// their initial value, exact in bfloat16).
func (f *factoredFisher) toBF16(bf *bf16State) {
	f.sqrtR16, f.sqrtC16 = make([]uint16, len(f.SqrtR)), make([]uint16, len(f.SqrtC))
	for i, x := range f.SqrtR {
		f.sqrtR16[i] = uint16(math.Float32bits(x) >> 16)
	}
	for i, x := range f.SqrtC {
		f.sqrtC16[i] = uint16(math.Float32bits(x) >> 16)
	}
	f.SqrtR, f.SqrtC, f.bf = nil, nil, bf
}

// sqrtR is √R_i as stored.
func (f *factoredFisher) sqrtR(i int) float64 {
	if f.bf != nil {
		return float64(bf16ToFloat(f.sqrtR16[i]))
	}
	return float64(f.SqrtR[i])
}

// sqrtC is √C_j as stored.
func (f *factoredFisher) sqrtC(j int) float64 {
	if f.bf != nil {
		return float64(bf16ToFloat(f.sqrtC16[j]))
	}
	return float64(f.SqrtC[j])
}

// setSqrtR stores x as √R_i, saturated (float32) or stochastically rounded (bfloat16), and
// returns the stored value.
func (f *factoredFisher) setSqrtR(i int, x float64) float64 {
	if f.bf != nil {
		return storeBF16(f.sqrtR16, i, x, f.bf.keyF, i)
	}
	f.SqrtR[i] = sat32(x)
	return float64(f.SqrtR[i])
}

// setSqrtC is setSqrtR for √C_j.
func (f *factoredFisher) setSqrtC(j int, x float64) float64 {
	if f.bf != nil {
		return storeBF16(f.sqrtC16, j, x, f.bf.keyC, j)
	}
	f.SqrtC[j] = sat32(x)
	return float64(f.SqrtC[j])
}

// stateBF16 lists m and the bfloat16 √R and √C.
func (f *factoredFisher) stateBF16(m []uint16) []stateTensor {
	rs, cs := f.Shapes()
	return []stateTensor{
		{suffix: "m", bf16: m},
		{suffix: "sqrt_R", shape: rs, bf16: f.sqrtR16, nonNegative: true},
		{suffix: "sqrt_C", shape: cs, bf16: f.sqrtC16, nonNegative: true},
	}
}

// Adam with bfloat16 m and √v.

// runBF16 is run's passFisher and passUpdate: the moments and Σu², and θ.
func (k *adamKernel) runBF16(p pass, lo, hi int) sums {
	c := k.consts()
	g, m, sv, theta := k.grad[lo:hi], k.bf.m[lo:hi], k.bf.sqrtF[lo:hi], k.value[lo:hi]
	m, sv, theta = m[:len(g)], sv[:len(g)], theta[:len(g)]
	sum := 0.0
	if p == passFisher { // moments, and Σu² for the clip, summed as the float32 loops do
		keyM, keyV := k.bf.keyM, k.bf.keyF
		n4 := len(g) &^ 3
		var lanes [4]float64
		adamMomentLanesBF16(g[:n4], m[:n4], sv[:n4], &c, keyM, keyV, lo, &lanes)
		sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
		for i := n4; i < len(g); i++ {
			u := adamMomentElemBF16(g, m, sv, i, &c, keyM, keyV, lo+i)
			sum += u * u
		}
		if k.clip {
			return sums{grad: sum}
		}
	}
	if c.lr != 0 { // θ ← θ − η(u·clip + λθ)
		adamUpdateLanesBF16(m, sv, theta, &c)
	}
	return sums{grad: sum}
}

// adamMomentElemBF16 is adamMomentElem with bfloat16 m and √v (tensor element idx).
func adamMomentElemBF16(g []float32, m, sv []uint16, i int, c *adamConsts, keyM, keyV roundKey, idx int) float64 {
	gi := c.sign * float64(g[i])
	mi := storeBF16(m, i, c.b1*float64(bf16ToFloat(m[i]))+c.c1*gi, keyM, idx)
	s := float64(bf16ToFloat(sv[i]))
	si := storeBF16(sv, i, math.Sqrt(c.b2*s*s+c.c2*gi*gi), keyV, idx)
	return adamUpdate(float32(mi), float32(si), c)
}

// adamMomentLanesBF16Go is the portable adamMomentLanesBF16 (len(g) a multiple of 4, g[0] is
// element idx): lanes[k] gets Σu² over the elements i ≡ k (mod 4).
func adamMomentLanesBF16Go(g []float32, m, sv []uint16, c *adamConsts, keyM, keyV roundKey, idx int, lanes *[4]float64) {
	*lanes = [4]float64{}
	for i := 0; i+4 <= len(g); i += 4 {
		for k := range 4 {
			u := adamMomentElemBF16(g, m, sv, i+k, c, keyM, keyV, idx+i+k)
			lanes[k] += u * u
		}
	}
}

// adamUpdateLanesBF16Go is the portable adamUpdateLanesBF16: θ ← θ − η(u·clip + λθ) from
// bfloat16 m and √v.
func adamUpdateLanesBF16Go(m, sv []uint16, theta []float32, c *adamConsts) {
	sv, theta = sv[:len(m)], theta[:len(m)]
	for i := range m {
		u := adamUpdate(bf16ToFloat(m[i]), bf16ToFloat(sv[i]), c)
		th := float64(theta[i])
		theta[i] = sat32(th - c.lr*(u*c.scale+c.wd*th))
	}
}

// Adafactor (Algorithm 4) with bfloat16 m and √f, or m, √R and √C (Go loops only).

func newAdafactorBF16(shape []int, n int) *adafactorKernel {
	if len(shape) >= 2 {
		k := &adafactorKernel{n: n, f: newFactoredFisher(shape, 0), bf: newBF16Arrays(n, -1)}
		k.f.toBF16(&k.bf.bf16State)
		return k
	}
	return &adafactorKernel{n: n, bf: newBF16Arrays(n, 0)}
}

// runRangeBF16 is runRange over elements [lo, hi): unfactored (invCol nil) with the stored √f,
// or factored with 1/√f = invRow·invCol.
func (k *adafactorKernel) runRangeBF16(p pass, lo, hi int, invCol []float64, invRow float64) float64 {
	cfg := k.c.cfg
	g, m, theta := k.grad[lo:hi], k.bf.m[lo:hi], k.value[lo:hi]
	m, theta = m[:len(g)], theta[:len(g)]
	if p == passFisher {
		if invCol != nil {
			return gradSumFactored(g, invCol[:len(g)], invRow)
		}
		sf := k.bf.sqrtF[lo:hi]
		sf = sf[:len(g)]
		b2, key := k.c.beta2Hat, k.bf.keyF
		sum := 0.0
		for i := range g { // lines 7–10
			gi := float64(g[i])
			s := float64(bf16ToFloat(sf[i]))
			s = storeBF16(sf, i, math.Sqrt(b2*s*s+(1-b2)*(gi*gi+cfg.Eps)), key, lo+i)
			x := gi * reciprocal(s)
			sum += x * x
		}
		return sum
	}
	gScale := finite((1 - cfg.Beta1) * k.c.lr * k.c.sign * k.scale)
	key := k.bf.keyM
	if invCol != nil {
		adafactorUpdateLanesBF16(g, m, theta, invCol[:len(g)], invRow, cfg.Beta1, gScale, k.c.wd, key, lo)
		return 0
	}
	for i := range g { // lines 12–13
		inv := reciprocal(float64(bf16ToFloat(k.bf.sqrtF[lo+i])))
		adafactorUpdateBF16(g, m, theta, i, inv, cfg.Beta1, gScale, k.c.wd, key, lo+i)
	}
	return 0
}

// adafactorUpdateBF16 is adafactorUpdate with bfloat16 m (tensor element idx).
func adafactorUpdateBF16(g []float32, m []uint16, theta []float32, i int, inv, b1, gScale, wd float64, key roundKey, idx int) {
	mi := storeBF16(m, i, b1*float64(bf16ToFloat(m[i]))+gScale*(float64(g[i])*inv), key, idx)
	th := float64(theta[i])
	theta[i] = sat32(th - (mi + wd*th))
}

// adafactorUpdateLanesBF16Go is the portable adafactorUpdateLanesBF16: lines 12–13 over a
// factored row segment whose first element is idx, 1/√f = invRow·invCol.
func adafactorUpdateLanesBF16Go(g []float32, m []uint16, theta []float32, invCol []float64, invRow, b1, gScale, wd float64, key roundKey, idx int) {
	m, theta, invCol = m[:len(g)], theta[:len(g)], invCol[:len(g)]
	for i := range g {
		adafactorUpdateBF16(g, m, theta, i, min(invRow*invCol[i], maxInverse), b1, gScale, wd, key, idx+i)
	}
}
