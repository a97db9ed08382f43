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
