//go:build amd64 && !purego

package nn

// tileStepsAVX512 is tileStepsGeneric with add as 0 or 1, over m, n ≥ 1 and k ≥ 0, the extents
// checked by the caller.
//
//go:noescape
func tileStepsAVX512(c *float32, ldc int, a *float32, rsa, csa int, b *float32, ldb int, m, n, k int, alpha float32, add int, nFirst, nStep, kFirst, kStep, pStep int)

func tileStepsArch(c []float32, ldc int, a []float32, rsa, csa int, b []float32, ldb int, m, n, k int, alpha float32, add bool, st tileSteps) bool {
	if !hasAVX512 {
		return false
	}
	ad := 0
	if add {
		ad = 1
	}
	tileStepsAVX512(&c[0], ldc, &a[0], rsa, csa, &b[0], ldb, m, n, k, alpha, ad, st.nFirst, st.nStep, st.kFirst, st.kStep, st.pStep)
	return true
}

// transposeAVX512 is transposeHead's loop for t, hs ≥ 1 and ld·t < 2³¹, the extents checked by
// the caller.
//
//go:noescape
func transposeAVX512(dst, src *float32, ld, t, hs int)

// transpose16AVX512 is transposeHead's loop for t and hs multiples of 16, the extents checked
// by the caller.
//
//go:noescape
func transpose16AVX512(dst, src *float32, ld, t, hs int)

func transposeArch(dst, src []float32, ld, t, hs int) bool {
	switch {
	case !hasAVX512:
		return false
	case t%16 == 0 && hs%16 == 0:
		transpose16AVX512(&dst[0], &src[0], ld, t, hs)
	case ld*t < 1<<31:
		transposeAVX512(&dst[0], &src[0], ld, t, hs)
	default:
		return false
	}
	return true
}

// softmaxBlockAVX512 is softmaxBlock's loop over m ≥ 1 rows, the extents checked by the
// caller.
//
//go:noescape
func softmaxBlockAVX512(p *float32, ld, m, l0, inc, w int, stats *float32, c *[len(elementwiseConsts)]float32)

// softmaxGradBlockAVX512 is softmaxGradBlock's loop over m ≥ 1 rows; stats nil means p holds
// probabilities already, dots nil that each row's dot product is summed from p and ds.
//
//go:noescape
func softmaxGradBlockAVX512(p, ds *float32, ld, m, l0, inc, w int, stats, dots *float32, c *[len(elementwiseConsts)]float32)

// rowDotsAVX512 is rowDots' loop over m ≥ 1 rows of n ≥ 1 floats, the extents checked by the
// caller.
//
//go:noescape
func rowDotsAVX512(d, a *float32, lda int, b *float32, ldb, m, n int)

func rowDotsArch(d, a []float32, lda int, b []float32, ldb, m, n int) bool {
	if !hasAVX512 {
		return false
	}
	rowDotsAVX512(&d[0], &a[0], lda, &b[0], ldb, m, n)
	return true
}

func softmaxBlockArch(p []float32, ld, m, l0, inc, w int, stats []float32) bool {
	if !hasAVX512 {
		return false
	}
	softmaxBlockAVX512(&p[0], ld, m, l0, inc, w, &stats[0], &elementwiseConsts)
	return true
}

func softmaxGradBlockArch(p, ds []float32, ld, m, l0, inc, w int, stats, dots []float32) bool {
	if !hasAVX512 {
		return false
	}
	var st, dt *float32
	if stats != nil {
		st = &stats[0]
	}
	if dots != nil {
		dt = &dots[0]
	}
	softmaxGradBlockAVX512(&p[0], &ds[0], ld, m, l0, inc, w, st, dt, &elementwiseConsts)
	return true
}

// prefetchRowsAsm is prefetchRows' loop; it reads nothing architecturally, so it needs no
// bounds.
//
//go:noescape
func prefetchRowsAsm(p *float32, ld, rows, n int)

func prefetchRowsArch(p []float32, ld, rows, n int) { prefetchRowsAsm(&p[0], ld, rows, n) }
