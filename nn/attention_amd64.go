//go:build amd64 && !purego

package nn

// tileMulAVX512 is tileMulGeneric with add as 0 or 1, over m, n ≥ 1 and k ≥ 0, the extents
// checked by the caller.
//
//go:noescape
func tileMulAVX512(c *float32, ldc int, a *float32, rsa, csa int, b *float32, ldb int, m, n, k int, alpha float32, add int)

// softmaxRecomputeAVX512 is softmaxRecomputeGeneric over x[:n], n ≥ 1.
//
//go:noescape
func softmaxRecomputeAVX512(x *float32, n int, mx, inv float32, c *[len(elementwiseConsts)]float32)

func tileMulArch(c []float32, ldc int, a []float32, rsa, csa int, b []float32, ldb int, m, n, k int, alpha float32, add bool) bool {
	if !hasAVX512 {
		return false
	}
	ad := 0
	if add {
		ad = 1
	}
	tileMulAVX512(&c[0], ldc, &a[0], rsa, csa, &b[0], ldb, m, n, k, alpha, ad)
	return true
}

func softmaxRecomputeArch(x []float32, mx, inv float32) bool {
	if !hasAVX512 {
		return false
	}
	softmaxRecomputeAVX512(&x[0], len(x), mx, inv, &elementwiseConsts)
	return true
}

// transposeAVX512 is transposeHead's loop for t, hs ≥ 1 and ld·t < 2³¹, the extents checked by
// the caller.
//
//go:noescape
func transposeAVX512(dst, src *float32, ld, t, hs int)

func transposeArch(dst, src []float32, ld, t, hs int) bool {
	if !hasAVX512 || ld*t >= 1<<31 {
		return false
	}
	transposeAVX512(&dst[0], &src[0], ld, t, hs)
	return true
}
