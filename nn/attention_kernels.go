package nn

import "math"

// The inner kernels of CausalSelfAttention: a small matrix product read in place (no packing),
// the recomputation of a softmax row from its saved statistics and a head's transpose. Each has
// an AVX-512 twin (attention_amd64.s) that performs the same operations in the same order.

// tileMul sets c[i·ldc+j] = old + alpha·Σ_p a[i·rsa+p·csa]·b[p·ldb+j] for i < m, j < n, where
// old is c[i·ldc+j] if add and 0 otherwise. A is read through any strides (rsa, csa), so it
// may be a transposed view; B and C are row-major. Each element's sum runs over p in order
// from 0 by fused multiply-adds (one rounding per step).
func tileMul(c []float32, ldc int, a []float32, rsa, csa int, b []float32, ldb int, m, n, k int, alpha float32, add bool) {
	if m <= 0 || n <= 0 {
		return
	}
	// The assembly reads and writes through pointers: check the extents here.
	_ = c[(m-1)*ldc+n-1]
	_ = b[max(k-1, 0)*ldb+n-1]
	if k > 0 {
		_ = a[(m-1)*rsa+(k-1)*csa]
	}
	if k > 0 && tileMulArch(c, ldc, a, rsa, csa, b, ldb, m, n, k, alpha, add) {
		return
	}
	tileMulGeneric(c, ldc, a, rsa, csa, b, ldb, m, n, k, alpha, add)
}

// tileMulGeneric is tileMul in Go. Its fused multiply-add is math.FMA in float64 rounded to
// float32, which equals the float32 FMA of the assembly except in the rare cases where the
// double rounding lands on a tie (then it is 1 ulp of the sum off); the explicit conversion of
// alpha·s keeps the compiler from fusing the last multiply and add.
func tileMulGeneric(c []float32, ldc int, a []float32, rsa, csa int, b []float32, ldb int, m, n, k int, alpha float32, add bool) {
	for i := range m {
		ci := c[i*ldc : i*ldc+n]
		for j := range ci {
			var s float32
			for p := range k {
				s = float32(math.FMA(float64(a[i*rsa+p*csa]), float64(b[p*ldb+j]), float64(s)))
			}
			var old float32
			if add {
				old = ci[j]
			}
			ci[j] = old + float32(alpha*s)
		}
	}
}

// softmaxRecompute sets x[i] = expApprox32(x[i] − mx)·inv: the probabilities softmaxRow wrote
// for the same scores x, given the maximum it returned and inv = float32(1/sum).
func softmaxRecompute(x []float32, mx, inv float32) {
	if len(x) == 0 || softmaxRecomputeArch(x, mx, inv) {
		return
	}
	softmaxRecomputeGeneric(x, mx, inv)
}

// softmaxRecomputeGeneric is softmaxRecompute in Go, the operations of softmaxRowGeneric.
func softmaxRecomputeGeneric(x []float32, mx, inv float32) {
	for i, v := range x {
		x[i] = v - mx
	}
	expInPlaceGeneric(x)
	for i := range x {
		x[i] *= inv
	}
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
