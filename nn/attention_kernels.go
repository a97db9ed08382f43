package nn

// The inner kernels of CausalSelfAttention: a small matrix product read in place (no packing),
// the recomputation of a softmax row from its saved statistics and a head's transpose. Each has
// an AVX-512 twin (attention_amd64.s) that performs the same operations in the same order.

// tileMul sets c[i·ldc+j] to alpha·Σ_p a[i·rsa+p·csa]·b[p·ldb+j] for i < m, j < n, or adds
// that to it if add. A is read through any strides (rsa, csa), so it may be a transposed view;
// B and C are row-major. Each element's sum runs over p in order from 0 by fused multiply-adds
// (one rounding per step).
func tileMul(c []float32, ldc int, a []float32, rsa, csa int, b []float32, ldb int, m, n, k int, alpha float32, add bool) {
	tileMulSteps(c, ldc, a, rsa, csa, b, ldb, m, n, k, alpha, add, tileSteps{nFirst: n, kFirst: k})
}

// tileRows is the height of the product kernel's register tile, the unit in which tileSteps
// varies a product's extents.
const tileRows = 8

// tileSteps makes a tileMulSteps product trapezoidal, for the triangles of causal attention:
// row tile g (rows [g·tileRows, (g+1)·tileRows)) covers columns [0, min(n, nFirst + g·nStep))
// and sums p over [g·pStep, min(k, kFirst + g·kStep)).
type tileSteps struct{ nFirst, nStep, kFirst, kStep, pStep int }

// tileMulSteps is tileMul with each row tile's columns and depth set by st. The extents are
// checked as for a full m×n×k product.
func tileMulSteps(c []float32, ldc int, a []float32, rsa, csa int, b []float32, ldb int, m, n, k int, alpha float32, add bool, st tileSteps) {
	if m <= 0 || n <= 0 {
		return
	}
	if st.nStep < 0 || st.kStep < 0 || st.pStep < 0 {
		panic("nn: negative tile steps")
	}
	// The assembly reads and writes through pointers: check the extents here.
	_ = c[(m-1)*ldc+n-1]
	_ = b[max(k-1, 0)*ldb+n-1]
	if k > 0 {
		_ = a[(m-1)*rsa+(k-1)*csa]
	}
	if tileStepsArch(c, ldc, a, rsa, csa, b, ldb, m, n, k, alpha, add, st) {
		return
	}
	tileStepsGeneric(c, ldc, a, rsa, csa, b, ldb, m, n, k, alpha, add, st)
}

// tileStepsGeneric is tileMulSteps in Go, the same bits as the assembly: its fused
// multiply-add is fma32, and the explicit conversion of alpha·s keeps the compiler from fusing
// the last multiply and add.
func tileStepsGeneric(c []float32, ldc int, a []float32, rsa, csa int, b []float32, ldb int, m, n, k int, alpha float32, add bool, st tileSteps) {
	for i := range m {
		g := i / tileRows
		ng, p0, k1 := min(n, st.nFirst+g*st.nStep), g*st.pStep, min(k, st.kFirst+g*st.kStep)
		if ng <= 0 {
			continue
		}
		ci := c[i*ldc : i*ldc+ng]
		for j := range ci {
			var s float32
			for p := p0; p < k1; p++ {
				s = fma32(a[i*rsa+p*csa], b[p*ldb+j], s)
			}
			if add {
				ci[j] += float32(alpha * s)
			} else {
				ci[j] = alpha * s
			}
		}
	}
}

// softmaxRecomputeGeneric sets x[i] = expFMA32(x[i] − mx)·inv: the probabilities
// softmaxBlock wrote for the same scores x, given the maximum and inv it kept.
func softmaxRecomputeGeneric(x []float32, mx, inv float32) {
	for i, v := range x {
		x[i] = expFMA32(v-mx) * inv
	}
}

// prefetchRows asks the CPU to bring the first n floats of rows rows of p (row stride ld) into
// its cache, where the CPU has a prefetch instruction (a hint only: it changes no value).
func prefetchRows(p []float32, ld, rows, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	_ = p[(rows-1)*ld+n-1]
	prefetchRowsArch(p, ld, rows, n)
}

// transposeHead writes the t×hs block src (row stride ld) transposed into dst[hs·t]:
// dst[d·t+j] = src[j·ld+d].
func transposeHead(dst, src []float32, ld, t, hs int) {
	if t <= 0 || hs <= 0 {
		return
	}
	dst = dst[:hs*t]
	_ = src[(t-1)*ld+hs-1]
	if transposeArch(dst, src, ld, t, hs) {
		return
	}
	for j := range t {
		row := src[j*ld : j*ld+hs]
		for d, v := range row {
			dst[d*t+j] = v
		}
	}
}

// softmaxBlock turns m rows of scores into softmax probabilities: row r of p (stride ld) has
// l = l0 + r·inc valid scores (inc 1 for causal attention, 0 when every row sees the same
// keys), which become e^(s−max)·inv (expFMA32) with inv = 1/Σ e^(s−max) summed in 16 float32 lanes
// (reduce16f32), while columns [l, w) become 0; stats[2r] and stats[2r+1] receive the maximum
// and inv, from which softmaxGradBlock recomputes the same probabilities bit for bit.
func softmaxBlock(p []float32, ld, m, l0, inc, w int, stats []float32) {
	if m <= 0 {
		return
	}
	checkSoftmaxRows(m, l0, inc, w)
	_ = p[(m-1)*ld+w-1]
	_ = stats[2*m-1]
	if !softmaxBlockArch(p, ld, m, l0, inc, w, stats) {
		softmaxBlockGeneric(p, ld, m, l0, inc, w, stats)
	}
}

// checkSoftmaxRows panics unless every row of a softmax block has between 1 and w valid
// columns.
func checkSoftmaxRows(m, l0, inc, w int) {
	if l0 < 1 || inc < 0 || inc > 1 || l0+(m-1)*inc > w {
		panic("nn: softmax block rows outside their width")
	}
}

// softmaxBlockGeneric is softmaxBlock in Go.
func softmaxBlockGeneric(p []float32, ld, m, l0, inc, w int, stats []float32) {
	for r := range m {
		row, l := p[r*ld:r*ld+w], l0+r*inc
		x := row[:l]
		mx := x[0]
		for _, v := range x {
			mx = max(mx, v)
		}
		for i, v := range x {
			x[i] = expFMA32(v - mx)
		}
		var lanes [16]float32
		for i, e := range x {
			lanes[i%16] += e
		}
		inv := 1 / reduce16f32(&lanes)
		for i := range x {
			x[i] *= inv
		}
		clear(row[l:])
		stats[2*r], stats[2*r+1] = mx, inv
	}
}

// softmaxGradBlock is the softmax backward of m rows: row r of p and ds (stride ld) has
// l = l0 + r·inc valid columns. If stats is not nil, p holds the scores and first becomes the
// probabilities softmaxBlock computed (from its stats; columns [l, w) 0). Then
// ds = p ⊙ (ds − dot) over the l columns, and ds's columns [l, w) become 0. dot is dots[r] if
// dots is not nil (the row's dout·out, equal to Σ p⊙ds: with stats, the whole row is then one
// pass), else Σ p⊙ds summed in 16 float32 lanes.
func softmaxGradBlock(p, ds []float32, ld, m, l0, inc, w int, stats, dots []float32) {
	if m <= 0 {
		return
	}
	checkSoftmaxRows(m, l0, inc, w)
	_, _ = p[(m-1)*ld+w-1], ds[(m-1)*ld+w-1]
	if stats != nil {
		_ = stats[2*m-1]
	}
	if dots != nil {
		_ = dots[m-1]
	}
	if !softmaxGradBlockArch(p, ds, ld, m, l0, inc, w, stats, dots) {
		softmaxGradBlockGeneric(p, ds, ld, m, l0, inc, w, stats, dots)
	}
}

// softmaxGradBlockGeneric is softmaxGradBlock in Go.
func softmaxGradBlockGeneric(p, ds []float32, ld, m, l0, inc, w int, stats, dots []float32) {
	for r := range m {
		prow, drow, l := p[r*ld:r*ld+w], ds[r*ld:r*ld+w], l0+r*inc
		if stats != nil {
			softmaxRecomputeGeneric(prow[:l], stats[2*r], stats[2*r+1])
			clear(prow[l:])
		}
		var dot float32
		if dots != nil {
			dot = dots[r]
		} else {
			var lanes [16]float32
			for i, pv := range prow[:l] {
				lanes[i%16] += float32(pv * drow[i])
			}
			dot = reduce16f32(&lanes)
		}
		for i, pv := range prow[:l] {
			drow[i] = pv * (drow[i] - dot)
		}
		clear(drow[l:])
	}
}

// rowDots sets d[r] = Σ_i a[r·lda+i]·b[r·ldb+i] for r < m, i < n: the softmax backward's
// per-row dout·out. Each row's products are accumulated by fused multiply-adds into 16 float32
// lanes (element i into lane i mod 16), which reduce16f32 sums, as the assembly does.
func rowDots(d, a []float32, lda int, b []float32, ldb, m, n int) {
	if m <= 0 {
		return
	}
	_ = d[m-1]
	if n <= 0 {
		clear(d[:m])
		return
	}
	_, _ = a[(m-1)*lda+n-1], b[(m-1)*ldb+n-1]
	if rowDotsArch(d, a, lda, b, ldb, m, n) {
		return
	}
	rowDotsGeneric(d, a, lda, b, ldb, m, n)
}

// rowDotsGeneric is rowDots in Go.
func rowDotsGeneric(d, a []float32, lda int, b []float32, ldb, m, n int) {
	for r := range m {
		ar, br := a[r*lda:r*lda+n], b[r*ldb:r*ldb+n]
		var lanes [16]float32
		for i, x := range ar {
			lanes[i%16] = fma32(x, br[i], lanes[i%16])
		}
		d[r] = reduce16f32(&lanes)
	}
}

// reduce16f32 sums 16 lanes as a tree: pairs 8 apart, then 4, 2 and 1 apart.
func reduce16f32(l *[16]float32) float32 {
	var s8 [8]float32
	for j := range s8 {
		s8[j] = l[j] + l[j+8]
	}
	s4 := [4]float32{s8[0] + s8[4], s8[1] + s8[5], s8[2] + s8[6], s8[3] + s8[7]}
	return (s4[0] + s4[2]) + (s4[1] + s4[3])
}
