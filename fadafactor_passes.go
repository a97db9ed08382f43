package fadam

// fadafactorKernel is Algorithm 2 for one tensor of rank ≥ 2 (trailing n×m, one factored
// estimate per leading index). Lower ranks use fadamKernel, which is Algorithm 2 without the
// factoring.
//
// Pass 0 reads g for RMS(g) and the row and column sums of g² (lines 7–8, 10); between passes
// R, C and the factors of f are updated (lines 7–9). Pass 1 sums ḡ² and ḡ_w² (lines 11, 14);
// pass 2 clips and updates m and θ (lines 12–13, 15–16).
type fadafactorKernel struct {
	n            int
	f            *factoredFisher
	m            []float32
	value, grad  []float32
	c            *stepConsts
	den          denominator
	scaleG       float64
	scaleW       float64
	pytorchClips bool
	bf           *bf16Arrays // bfloat16 state (m is then nil), bf16_passes.go
}

func newFAdafactorKernel(shape []int, n int, dtype StateDType) *fadafactorKernel {
	if dtype == BFloat16 {
		k := &fadafactorKernel{n: n, f: newFactoredFisher(shape, 1), bf: newBF16Arrays(n, -1)}
		k.f.toBF16(&k.bf.bf16State)
		return k
	}
	return &fadafactorKernel{n: n, f: newFactoredFisher(shape, 1), m: make([]float32, n)}
}

func (k *fadafactorKernel) chunks() int      { return k.f.Chunks() }
func (k *fadafactorKernel) active(pass) bool { return true }

func (k *fadafactorKernel) begin(value, grad []float32, c *stepConsts) {
	k.value, k.grad, k.c = value, grad, c
	k.pytorchClips = c.cfg.Variant.clipsByMaxRMS()
	k.f.Begin(grad)
	if k.bf != nil {
		k.bf.begin(c)
	}
}

func (k *fadafactorKernel) run(p pass, chunk int) sums {
	if p == passRead {
		return sums{grad: k.f.Stats(chunk)}
	}
	if p == passUpdate && k.bf != nil {
		k.updateBF16(chunk)
		return sums{}
	}
	l, r0, r1, c0, c1 := k.f.Tile(chunk)
	f := k.f
	colF := f.ColF[l*f.M+c0 : l*f.M+c1]
	var sumG, sumW float64
	b1, sign, lr := k.c.cfg.Beta1, k.c.sign, k.c.lr
	decay := k.c.wd != 0
	gScale := finite((1 - b1) * sign * k.scaleG)
	wScale := finite(k.c.wd * k.scaleW)
	eps := k.den.epsTerm
	for r := r0; r < r1; r++ {
		rowF := f.RowF[l*f.N+r]
		base := (l*f.N+r)*f.M + c0
		g := k.grad[base : base+len(colF)]
		theta := k.value[base : base+len(colF)]
		var m []float32 // passUpdate with float32 state only
		if k.m != nil {
			m = k.m[base : base+len(colF)]
		}
		switch {
		case p == passFisher && k.den.halfRho:
			if !decay {
				theta = g // read and discarded
			}
			sg, sw := fisherFactoredHalf(g, theta, colF, rowF, eps)
			sumG += sg
			if decay {
				sumW += sw
			}
		case p == passFisher:
			for j, cf := range colF {
				inv := k.den.inverse(rowF * cf)
				x := float64(g[j]) * inv
				sumG += x * x
				if decay {
					w := float64(theta[j]) * inv
					sumW += w * w
				}
			}
		case lr == 0:
			for j, cf := range colF {
				inv := k.den.inverse(rowF * cf)
				m[j] = sat32(b1*float64(m[j]) + gScale*(float64(g[j])*inv))
			}
		case k.den.halfRho:
			n4 := len(g) &^ 3
			updateFactoredLanes(g[:n4], m[:n4], theta[:n4], colF[:n4], rowF, b1, gScale, wScale, lr, eps)
			for j := n4; j < len(g); j++ {
				updateElemInv(g, m, theta, j, factoredInverse(rowF, colF[j], eps), b1, gScale, wScale, lr)
			}
		default:
			for j, cf := range colF {
				updateElemInv(g, m, theta, j, k.den.inverse(rowF*cf), b1, gScale, wScale, lr)
			}
		}
	}
	return sums{grad: sumG, decay: sumW}
}

// factoredInverse is 1/d for d = √f_ij + ε̂, √f_ij = rowF·colF (ρ = 0.5), with the
// zero-denominator rule.
func factoredInverse(rowF, colF, eps float64) float64 {
	d := rowF*colF + eps
	inv := 1 / d
	if d < minDenominator {
		inv = reciprocal(d)
	}
	return inv
}

// fisherFactoredHalf is lines 11 and 14's sums over one row segment (ρ = 0.5): the bulk in
// fisherFactoredLanes, the tail after.
func fisherFactoredHalf(g, theta []float32, colF []float64, rowF, eps float64) (sumG, sumW float64) {
	n4 := len(g) &^ 3
	var lanes [8]float64
	fisherFactoredLanes(g[:n4], theta[:n4], colF[:n4], rowF, eps, &lanes)
	sumG = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
	sumW = (lanes[4] + lanes[5]) + (lanes[6] + lanes[7])
	for j := n4; j < len(g); j++ {
		inv := factoredInverse(rowF, colF[j], eps)
		x := float64(g[j]) * inv
		sumG += x * x
		w := float64(theta[j]) * inv
		sumW += w * w
	}
	return sumG, sumW
}

// fisherFactoredLanesGo is the portable fisherFactoredLanes (len(g) a multiple of 4).
func fisherFactoredLanesGo(g, theta []float32, colF []float64, rowF, eps float64, lanes *[8]float64) {
	theta, colF = theta[:len(g)], colF[:len(g)]
	*lanes = [8]float64{}
	for i := 0; i+4 <= len(g); i += 4 {
		for k := range 4 {
			inv := factoredInverse(rowF, colF[i+k], eps)
			x := float64(g[i+k]) * inv
			lanes[k] += x * x
			w := float64(theta[i+k]) * inv
			lanes[4+k] += w * w
		}
	}
}

// updateFactoredLanesGo is the portable updateFactoredLanes.
func updateFactoredLanesGo(g, m, theta []float32, colF []float64, rowF, b1, gScale, wScale, lr, eps float64) {
	for j := range g {
		updateElemInv(g, m, theta, j, factoredInverse(rowF, colF[j], eps), b1, gScale, wScale, lr)
	}
}

func (k *fadafactorKernel) finish(p pass, chunks []sums) {
	s := total(chunks)
	switch p {
	case passRead:
		k.f.Update(k.c.beta2Hat, 0)          // lines 7–9
		k.den.set(k.c.cfg, rms(s.grad, k.n)) // line 10
	case passFisher:
		clip := k.c.cfg.Clip
		k.scaleG = clipScale(rms(s.grad, k.n), clip, k.pytorchClips)  // line 12
		k.scaleW = clipScale(rms(s.decay, k.n), clip, k.pytorchClips) // line 15
	}
}

func (k *fadafactorKernel) state() []stateTensor {
	if k.bf != nil {
		return k.f.stateBF16(k.bf.m)
	}
	rs, cs := k.f.Shapes()
	return []stateTensor{
		{suffix: "m", data: k.m},
		{suffix: "sqrt_R", shape: rs, data: k.f.SqrtR, nonNegative: true},
		{suffix: "sqrt_C", shape: cs, data: k.f.SqrtC, nonNegative: true},
	}
}

func (k *fadafactorKernel) fisher(int64) []float32 { return k.f.Fisher() }

// Traffic: pass 0 reads g (4); pass 1 reads g (and θ with weight decay) (4/8); pass 2 reads g,
// m, θ and writes m, θ (20). R and C are O(n+m) and not counted.
func (k *fadafactorKernel) traffic() int64 {
	per := int64(4 + 4 + 20)
	if k.bf != nil { // m moves 2 bytes instead of 4, read and written
		per -= 4
	}
	if k.c == nil || k.c.wd != 0 {
		per += 4
	}
	return per * int64(k.n)
}
