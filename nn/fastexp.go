package nn

import "math"

// expApprox32 returns e^x in float32 with a relative error below 3e-7 for x in [−87, 87]
// (inputs outside are clamped, so the result is always finite and positive; NaN stays NaN). It
// is the transcendental of GELU and the softmaxes, where math.Exp's float64 accuracy is wasted
// and its cost dominated the layers' time. Method (Cody–Waite): n = round(x·log₂e),
// r = x − n·ln 2 with ln 2 split in two so the product is exact, e^r by its degree-6 Taylor
// polynomial (|r| ≤ 0.35), and 2^n applied as an exact product; it is expFMA32, every
// multiply-add fused into one rounding as the assembly computes it.
func expApprox32(x float32) float32 {
	var one [1]float32
	one[0] = x
	expInPlace32(one[:])
	return one[0]
}

// Constants of expApprox32 and GELU. The assembly loops read them from elementwiseConsts, so
// both paths round every constant to float32 the same way.
const (
	expMin = -87
	expMax = 87
	ln2Hi  = 0.693145751953125 // ln 2 to 16 bits: n·ln2Hi is exact in float32
	ln2Lo  = 1.428606765330187e-06
)

// elementwiseConsts holds the float32 constants of the vectorised loops in the order the
// assembly reads them (see elementwise_amd64.s).
var elementwiseConsts = [...]float32{
	expMin, expMax, math.Log2E, 128.5, ln2Hi, ln2Lo,
	1, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720,
	-geluLinear, geluLinear, geluCubic, -2 * geluScale, 2 * geluScale, 3 * geluCubic,
}

// expInPlace32 replaces every x[i] by expApprox32(x[i]), 16 lanes at a time in assembly where
// the CPU has AVX-512 (the same operations in the same order, so the same bits).
func expInPlace32(x []float32) {
	if len(x) == 0 || expInPlaceArch(x) {
		return
	}
	expInPlaceGeneric(x)
}

// expInPlaceGeneric is expInPlace32 in Go: expFMA32 of each element.
func expInPlaceGeneric(x []float32) {
	for i, v := range x {
		x[i] = expFMA32(v)
	}
}

// expFMA32 is the package's exponential (expApprox32, expInPlace32, and the attention
// softmaxes, which call it directly): the range reduction and polynomial above with every
// multiply-add fused into one rounding (fma32) and 2ⁿ applied as an exact product, as its
// AVX-512 twin (the EXP macro) computes it with fused multiply-adds and VSCALEFPS: 17 vector
// instructions where the unfused form takes 26.
func expFMA32(v float32) float32 {
	if v < expMin {
		v = expMin
	} else if v > expMax {
		v = expMax
	}
	n := int32(fma32(v, math.Log2E, 128.5)) - 128 // round to nearest; the sum is positive, so truncation floors
	fn := float32(n)
	r := fma32(-fn, ln2Hi, v) // fn·ln2Hi is exact, so this is v − fn·ln2Hi rounded once
	r = fma32(-fn, ln2Lo, r)
	p := fma32(1.0/720, r, 1.0/120)
	p = fma32(p, r, 1.0/24)
	p = fma32(p, r, 1.0/6)
	p = fma32(p, r, 1.0/2)
	p = fma32(p, r, 1)
	p = fma32(p, r, 1)
	return p * math.Float32frombits(uint32(n+127)<<23)
}

// fma32 returns a·b + c rounded once to float32, as a float32 fused multiply-add does. a·b is
// exact in float64; the float64 sum is rounded to odd (its last bit set when inexact, from the
// exact error of the sum), which makes the final rounding to float32 the correct one.
func fma32(a, b, c float32) float32 {
	ab, cd := float64(a)*float64(b), float64(c)
	s := ab + cd
	bv := s - ab
	if e := (ab - (s - bv)) + (cd - bv); e != 0 && math.Float64bits(s)&1 == 0 {
		s = math.Nextafter(s, math.Copysign(math.Inf(1), e))
	}
	return float32(s)
}
