//go:build amd64 && !purego

package nn

import "golang.org/x/sys/cpu"

// hasAVX512 reports whether the AVX-512 element-wise loops can run (HasAVX512F also requires
// the OS to save the ZMM state).
var hasAVX512 = cpu.X86.HasAVX512F

// expAVX512 is expInPlaceGeneric over x[:n] (n ≥ 1), 16 lanes at a time:
//
//	for i := range x[:n] { x[i] = expApprox32(x[i]) }
//
//go:noescape
func expAVX512(x *float32, n int, c *[len(elementwiseConsts)]float32)

// geluForwardAVX512 is geluForwardGeneric over n ≥ 1 elements:
//
//	for i { v := clamp(x[i], ±geluLinear); s := 1/(1 + e^{−2·geluScale·(v + geluCubic·v³)}); if x[i] < −geluLinear { s = 0 }; sig[i] = s; y[i] = x[i]·s }
//
//go:noescape
func geluForwardAVX512(y, sig, x *float32, n int, c *[len(elementwiseConsts)]float32)

// geluBackwardAVX512 is geluBackwardGeneric over n ≥ 1 elements, add 1 (accumulate) or 0
// (set):
//
//	for i { s := sig[i]; v := x[i]; d := s + v·s·(1−s)·(2·geluScale)·(1 + 3·geluCubic·v²); if |v| > geluLinear { d = s }; dx[i] = old + dy[i]·d }
//
// where old is dx[i] when adding and 0 when setting.
//
//go:noescape
func geluBackwardAVX512(dx, dy, x, sig *float32, n int, c *[len(elementwiseConsts)]float32, add int)

// geluBiasForwardAVX512 is geluBiasForwardGeneric over n ≥ 1 elements:
// for i { u := x[i] + b[i]; then geluForwardAVX512's σ and y on u }.
//
//go:noescape
func geluBiasForwardAVX512(y, sig, x, b *float32, n int, c *[len(elementwiseConsts)]float32)

// geluBiasBackwardAVX512 is geluBiasBackwardGeneric over n ≥ 1 elements:
// for i { v := x[i] + b[i]; dx[i] = 0 + dy[i]·d with geluBackwardAVX512's d of v and sig[i] }.
//
//go:noescape
func geluBiasBackwardAVX512(dx, dy, x, b, sig *float32, n int, c *[len(elementwiseConsts)]float32)

// geluBiasForwardArch runs geluBiasForwardAVX512 if it can; x is not empty and the others as
// long.
func geluBiasForwardArch(y, sig, x, b []float32) bool {
	if !hasAVX512 {
		return false
	}
	_, _, _ = y[len(x)-1], sig[len(x)-1], b[len(x)-1]
	geluBiasForwardAVX512(&y[0], &sig[0], &x[0], &b[0], len(x), &elementwiseConsts)
	return true
}

// geluBiasBackwardArch runs geluBiasBackwardAVX512 if it can; x is not empty and the others
// as long.
func geluBiasBackwardArch(dx, dy, x, b, sig []float32) bool {
	if !hasAVX512 {
		return false
	}
	_, _, _, _ = dx[len(x)-1], dy[len(x)-1], b[len(x)-1], sig[len(x)-1]
	geluBiasBackwardAVX512(&dx[0], &dy[0], &x[0], &b[0], &sig[0], len(x), &elementwiseConsts)
	return true
}

func expInPlaceArch(x []float32) bool {
	if !hasAVX512 {
		return false
	}
	expAVX512(&x[0], len(x), &elementwiseConsts)
	return true
}

// geluForwardArch runs geluForwardAVX512 if it can; x is not empty and y, sig are as long.
func geluForwardArch(y, sig, x []float32) bool {
	if !hasAVX512 {
		return false
	}
	_, _ = y[len(x)-1], sig[len(x)-1]
	geluForwardAVX512(&y[0], &sig[0], &x[0], len(x), &elementwiseConsts)
	return true
}

// geluBackwardArch runs geluBackwardAVX512 if it can; x is not empty and the others as long.
func geluBackwardArch(dx, dy, x, sig []float32, add bool) bool {
	if !hasAVX512 {
		return false
	}
	_, _, _ = dx[len(x)-1], dy[len(x)-1], sig[len(x)-1]
	a := 0
	if add {
		a = 1
	}
	geluBackwardAVX512(&dx[0], &dy[0], &x[0], &sig[0], len(x), &elementwiseConsts, a)
	return true
}

// softmaxRowAVX512 is softmaxRowGeneric over x[:n], n ≥ 1:
//
//	mx = max(x); for i { x[i] = expApprox32(x[i] − mx); lanes[i%16] += float64(x[i]) }; sum = reduce16f64(lanes); for i { x[i] *= float32(1/sum) }
//
//go:noescape
func softmaxRowAVX512(x *float32, n int, c *[len(elementwiseConsts)]float32) (mx float32, sum float64)

func softmaxRowArch(x []float32) (mx float32, sum float64, ok bool) {
	if !hasAVX512 {
		return 0, 0, false
	}
	mx, sum = softmaxRowAVX512(&x[0], len(x), &elementwiseConsts)
	return mx, sum, true
}

// addAVX512 is addGeneric over n ≥ 1 elements: for i { dst[i] = a[i] + b[i] }. dst may be a
// or b.
//
//go:noescape
func addAVX512(dst, a, b *float32, n int)

// addArch runs addAVX512 if it can; dst is not empty and a, b are as long.
func addArch(dst, a, b []float32) bool {
	if !hasAVX512 {
		return false
	}
	_, _ = a[len(dst)-1], b[len(dst)-1]
	addAVX512(&dst[0], &a[0], &b[0], len(dst))
	return true
}

// scaleAVX512 is scaleGeneric over n ≥ 1 elements: for i { dst[i] = src[i]·a }.
//
//go:noescape
func scaleAVX512(dst, src *float32, n int, a float32)

// scaleArch runs scaleAVX512 if it can; dst is not empty and src is as long.
func scaleArch(dst, src []float32, a float32) bool {
	if !hasAVX512 {
		return false
	}
	_ = src[len(dst)-1]
	scaleAVX512(&dst[0], &src[0], len(dst), a)
	return true
}

// addRowsAVX512 is addRowsGeneric over rows ≥ 1 rows of n ≥ 1 floats:
// for r, j { y[r·n+j] = res[r·n+j] + b[j] }.
//
//go:noescape
func addRowsAVX512(y, res, b *float32, rows, n int)

// sumRowsAVX512 is sumRowsGeneric over rows ≥ 1 rows and n ≥ 1 columns:
// for r { for j { db[j] += dy[r·ld+j] } }, each db[j] kept in a register across the rows.
//
//go:noescape
func sumRowsAVX512(db, dy *float32, ld, rows, n int)

func addRowsArch(y, res, b []float32) bool {
	if !hasAVX512 {
		return false
	}
	addRowsAVX512(&y[0], &res[0], &b[0], len(y)/len(b), len(b))
	return true
}

func sumRowsArch(db, dy []float32, ld, rows int) bool {
	if !hasAVX512 {
		return false
	}
	sumRowsAVX512(&db[0], &dy[0], ld, rows, len(db))
	return true
}

// layerNormRowAVX512 is layerNormRowGeneric over one row of n ≥ 1 features:
//
//	m := Σ float64(x)/n (16 lanes); rs := 1/√(Σ (float64(x)−m)²/n + eps) (16 lanes); mean, rstd = float32(m), float32(rs); y = (x − mean)·rstd·g + b
//
//go:noescape
func layerNormRowAVX512(y, x, gain, b *float32, n int, eps float64) (mean, rstd float32)

// layerNormBackwardRowAVX512 is layerNormBackwardRowGeneric over one row of n ≥ 1 features:
//
//	x̂ = (x−mean)·rstd; md, mdx = float32(Σ float64(dy·g)/n), float32(Σ float64(dy·g)·float64(x̂)/n) (16 lanes); dx += rstd·((dy·g − md) − x̂·mdx)
//
//go:noescape
func layerNormBackwardRowAVX512(dx, dy, x, gain *float32, n int, mean, rstd float32)

// layerNormParamGradsAVX512 is layerNormParamGradsRowsGeneric over rows ≥ 1 rows and n ≥ 1
// features: for r { for i { dg[i] += dy[r·ld+i]·(x[r·ld+i]−mean[r])·rstd[r]; db[i] += dy[r·ld+i] } }.
//
//go:noescape
func layerNormParamGradsAVX512(dg, db, dy, x, mean, rstd *float32, ld, rows, n int)

// layerNormRowArch runs layerNormRowAVX512 if it can; x is not empty and y, g, b are as long.
func layerNormRowArch(y, x, g, b []float32, eps float64) (mean, rstd float32, ok bool) {
	if !hasAVX512 {
		return 0, 0, false
	}
	_, _, _ = y[len(x)-1], g[len(x)-1], b[len(x)-1]
	mean, rstd = layerNormRowAVX512(&y[0], &x[0], &g[0], &b[0], len(x), eps)
	return mean, rstd, true
}

// layerNormBackwardRowArch runs layerNormBackwardRowAVX512 if it can; x is not empty and the
// others as long.
func layerNormBackwardRowArch(dx, dy, x, g []float32, mean, rstd float32) bool {
	if !hasAVX512 {
		return false
	}
	_, _, _ = dx[len(x)-1], dy[len(x)-1], g[len(x)-1]
	layerNormBackwardRowAVX512(&dx[0], &dy[0], &x[0], &g[0], len(x), mean, rstd)
	return true
}

// layerNormParamGradsArch runs layerNormParamGradsAVX512 if it can; the extents are checked
// by the caller.
func layerNormParamGradsArch(dg, db, dy, x, mean, rstd []float32, ld, rows int) bool {
	if !hasAVX512 {
		return false
	}
	layerNormParamGradsAVX512(&dg[0], &db[0], &dy[0], &x[0], &mean[0], &rstd[0], ld, rows, len(dg))
	return true
}
