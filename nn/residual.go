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

// addRows sets every row of y (rows of len(b)) to the same row of res plus b, in assembly where
// the CPU has it (the same bits).
func addRows(y, res, b []float32) {
	if len(y) == 0 {
		return
	}
	if len(y)%len(b) != 0 {
		panic("nn: addRows over a partial row")
	}
	_ = res[len(y)-1]
	if !addRowsArch(y, res, b) {
		addRowsGeneric(y, res, b)
	}
}

// addRowsGeneric is addRows in Go.
func addRowsGeneric(y, res, b []float32) {
	n := len(b)
	for r := 0; r < len(y); r += n {
		addGeneric(y[r:r+n], res[r:r+n], b)
	}
}

// sumRows adds rows of dy (row stride ld, the first len(db) floats of each) to db, each
// element summed in row order, in assembly where the CPU has it (the same bits).
func sumRows(db, dy []float32, ld, rows int) {
	if len(db) == 0 || rows <= 0 {
		return
	}
	_ = dy[(rows-1)*ld+len(db)-1]
	if !sumRowsArch(db, dy, ld, rows) {
		sumRowsGeneric(db, dy, ld, rows)
	}
}

// sumRowsGeneric is sumRows in Go.
func sumRowsGeneric(db, dy []float32, ld, rows int) {
	for r := range rows {
		addGeneric(db, db, dy[r*ld:r*ld+len(db)])
	}
}
