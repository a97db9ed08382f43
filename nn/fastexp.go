package nn

import "math"

// expApprox32 returns e^x in float32 with a relative error below 4e-7 for x in [−87, 87]
// (inputs outside are clamped, so the result is always finite and positive; NaN stays NaN). It
// is the transcendental of GELU and the softmaxes, where math.Exp's float64 accuracy is wasted
// and its cost dominated the layers' time. Method (Cody–Waite): n = round(x·log₂e),
// r = x − n·ln 2 with ln 2 split in two so the product is exact, e^r by its degree-6 Taylor
// polynomial (|r| ≤ 0.35), and 2^n written into the exponent bits.
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

// expInPlaceGeneric is expInPlace32 in Go. A loop over a slice keeps the polynomial in
// registers; a call per element does not inline.
func expInPlaceGeneric(x []float32) {
	for i, v := range x {
		if v < expMin {
			v = expMin
		} else if v > expMax {
			v = expMax
		}
		n := int32(v*math.Log2E+128.5) - 128 // round to nearest; the sum is positive, so truncation floors
		r := v - float32(n)*ln2Hi - float32(n)*ln2Lo
		p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
		x[i] = p * math.Float32frombits(uint32(n+127)<<23)
	}
}
