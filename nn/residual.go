package nn

// ResidualAdd writes out = a + b element-wise (out may alias a or b). Its backward needs no
// function: the gradient of out flows unchanged into both a and b, so a caller passes the same
// gradient buffer on (see models/gpt).
func ResidualAdd(out, a, b []float32) {
	if len(out) > 0 && addArch(out, a, b) {
		return
	}
	addGeneric(out, a, b)
}

// addGeneric is ResidualAdd in Go.
func addGeneric(out, a, b []float32) {
	a, b = a[:len(out)], b[:len(out)]
	for i := range out {
		out[i] = a[i] + b[i]
	}
}

// scaleInto sets dst[i] = src[i]·a (src at least as long as dst), in assembly where the CPU
// has it (the same bits).
func scaleInto(dst, src []float32, a float32) {
	if len(dst) > 0 && scaleArch(dst, src, a) {
		return
	}
	scaleGeneric(dst, src, a)
}

// scaleGeneric is scaleInto in Go.
func scaleGeneric(dst, src []float32, a float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = v * a
	}
}
