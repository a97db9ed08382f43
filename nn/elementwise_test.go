package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// elementwiseInputs returns n values spread over the ranges that matter to exp and GELU, with
// the special values (±0, the clamps, huge, ±Inf) at the start when n allows.
func elementwiseInputs(n int, seed uint64) []float32 {
	special := []float32{0, float32(math.Copysign(0, -1)), -87, 87, -87.5, 88, -1e6, 1e6, -1.5e6, 2e6, -3e38, 3e38,
		float32(math.Inf(1)), float32(math.Inf(-1)), 1e-40, -1e-40}
	rng := rand.New(rand.NewPCG(seed, 5))
	x := make([]float32, n)
	for i := range x {
		switch {
		case i < len(special) && n > 2*len(special):
			x[i] = special[i]
		case i%3 == 0:
			x[i] = float32(rng.NormFloat64() * 3)
		default:
			x[i] = float32((rng.Float64()*2 - 1) * 100)
		}
	}
	return x
}

func sameBits(t *testing.T, what string, n int, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s n=%d: element %d = %v (%#x), the Go loop gives %v (%#x)", what, n, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// lengths covers whole vectors, every tail and several vectors with a tail.
var elementwiseLengths = []int{1, 2, 7, 15, 16, 17, 31, 32, 33, 47, 100, 1000, 4099}

// TestExpArchMatchesGeneric checks the assembly exponential against its Go twin bit for bit
// (the twin fuses its multiply-adds explicitly, with fma32, so this holds whatever GOAMD64
// allows the compiler).
func TestExpArchMatchesGeneric(t *testing.T) {
	for _, n := range elementwiseLengths {
		x := elementwiseInputs(n, uint64(n))
		got, want := append([]float32(nil), x...), append([]float32(nil), x...)
		if !expInPlaceArch(got) {
			t.Skip("no assembly exponential on this CPU or build")
		}
		expInPlaceGeneric(want)
		sameBits(t, "exp", n, got, want)
	}
	nan := []float32{float32(math.NaN())}
	if expInPlaceArch(nan); !math.IsNaN(float64(nan[0])) {
		t.Errorf("exp(NaN) = %v, want NaN", nan[0])
	}
}

// TestGELUArchMatchesGeneric checks the assembly GELU forward and backward against their Go
// twins bit for bit. The Go loops outside the exponential must not be compiled with fused
// multiply-adds for this to hold (GOAMD64 v1/v2, the default).
func TestGELUArchMatchesGeneric(t *testing.T) {
	for _, n := range elementwiseLengths {
		x := elementwiseInputs(n, uint64(n))
		y, sig := make([]float32, n), make([]float32, n)
		wy, wsig := make([]float32, n), make([]float32, n)
		if !geluForwardArch(y, sig, x) {
			t.Skip("no assembly GELU on this CPU or build")
		}
		geluForwardGeneric(wy, wsig, x)
		sameBits(t, "gelu forward y", n, y, wy)
		sameBits(t, "gelu forward σ", n, sig, wsig)

		dy := elementwiseInputs(n, uint64(n)+99)
		for i := range dy {
			dy[i] = float32(math.Mod(float64(dy[i]), 10)) // finite upstream gradients
		}
		for _, add := range []bool{true, false} {
			dx, wdx := elementwiseInputs(n, 7), elementwiseInputs(n, 7) // accumulates into what is there
			for i := range dx {
				if math.IsInf(float64(dx[i]), 0) {
					dx[i], wdx[i] = 1, 1
				}
			}
			geluBackwardArch(dx, dy, x, sig, add)
			geluBackwardGeneric(wdx, dy, x, wsig, add)
			sameBits(t, fmt.Sprintf("gelu backward (add=%v)", add), n, dx, wdx)
		}
	}
}

// TestSoftmaxRowArchMatchesGeneric checks the assembly softmax row and its backward against
// their Go twins bit for bit, for every tail length and with the maximum anywhere in the row.
func TestSoftmaxRowArchMatchesGeneric(t *testing.T) {
	for n := 1; n <= 70; n++ {
		x := elementwiseInputs(n, uint64(n)+11)
		for i := range x {
			x[i] = float32(math.Mod(float64(x[i]), 20)) // scores, finite
			if math.IsNaN(float64(x[i])) {
				x[i] = 1
			}
		}
		got, want := append([]float32(nil), x...), append([]float32(nil), x...)
		mx, sum, ok := softmaxRowArch(got)
		if !ok {
			t.Skip("no assembly softmax on this CPU or build")
		}
		wmx, wsum := softmaxRowGeneric(want)
		sameBits(t, "softmax", n, got, want)
		if mx != wmx || sum != wsum {
			t.Fatalf("n=%d: max, sum = %v, %v; the Go loop gives %v, %v", n, mx, sum, wmx, wsum)
		}
		var total float64
		for _, v := range want {
			total += float64(v)
		}
		if math.Abs(total-1) > 1e-5 {
			t.Fatalf("n=%d: softmax sums to %v", n, total)
		}
		// Against a float64 softmax: within 2e-6 relative.
		var z float64
		for _, v := range x {
			z += math.Exp(float64(v) - float64(wmx))
		}
		for i, v := range x {
			p := math.Exp(float64(v)-float64(wmx)) / z
			if d := math.Abs(float64(got[i]) - p); d > 2e-6*p {
				t.Fatalf("n=%d: p[%d] = %v, want %v", n, i, got[i], p)
			}
		}
	}
}

// TestReduce16f64 checks the tree order against a hand-written sum whose order matters.
func TestReduce16f64(t *testing.T) {
	var l [16]float64
	l[0], l[8], l[4], l[2] = 1e17, -1e17, 1, 3
	// ((l0+l8) + (l4+l12)) + ((l2+l10) + (l6+l14)) + … = (0 + 1) + 3
	if got := reduce16f64(&l); got != 4 {
		t.Fatalf("reduce16f64 = %v, want 4", got)
	}
}

// TestAddArchMatchesGeneric checks the assembly sum, in place too, against the Go loop.
func TestAddArchMatchesGeneric(t *testing.T) {
	for _, n := range elementwiseLengths {
		a, b := elementwiseInputs(n, 1), elementwiseInputs(n, 2)
		got, want := make([]float32, n), make([]float32, n)
		if !addArch(got, a, b) {
			t.Skip("no assembly add on this CPU or build")
		}
		addGeneric(want, a, b)
		sameBits(t, "add", n, got, want)
		addArch(a, a, b) // dst aliasing an operand
		sameBits(t, "add in place", n, a, want)
	}
}

// TestLayerNormArchMatchesGeneric checks the assembly LayerNorm row forward, backward and
// parameter gradients against their Go twins bit for bit, for every tail length.
func TestLayerNormArchMatchesGeneric(t *testing.T) {
	for n := 1; n <= 70; n++ {
		x, g, b := substrateRandIn(n, 3, 1), substrateRandIn(n, 1, 2), substrateRandIn(n, 1, 3)
		y, wy := make([]float32, n), make([]float32, n)
		m, rs, ok := layerNormRowArch(y, x, g, b, 1e-5)
		if !ok {
			t.Skip("no assembly LayerNorm on this CPU or build")
		}
		wm, wrs := layerNormRowGeneric(wy, x, g, b, 1e-5)
		if m != wm || rs != wrs {
			t.Fatalf("n=%d: mean, rstd = %v, %v; the Go loop gives %v, %v", n, m, rs, wm, wrs)
		}
		sameBits(t, "layernorm forward", n, y, wy)

		dy := substrateRandIn(n, 1, 4)
		dx, wdx := substrateRandIn(n, 1, 5), substrateRandIn(n, 1, 5)
		layerNormBackwardRowArch(dx, dy, x, g, m, rs)
		layerNormBackwardRowGeneric(wdx, dy, x, g, m, rs)
		sameBits(t, "layernorm backward", n, dx, wdx)

		// Parameter gradients over 3 rows of stride n+5 (row 0 is x, dy).
		const rows = 3
		ld := n + 5
		xs, dys := substrateRandIn(rows*ld, 3, 8), substrateRandIn(rows*ld, 1, 9)
		copy(xs, x)
		copy(dys, dy)
		means, rstds := []float32{m, 0.3, -0.2}, []float32{rs, 1.5, 0.7}
		dg, db := substrateRandIn(n, 1, 6), substrateRandIn(n, 1, 7)
		wdg, wdb := append([]float32(nil), dg...), append([]float32(nil), db...)
		layerNormParamGradsArch(dg, db, dys, xs, means, rstds, ld, rows)
		layerNormParamGradsRowsGeneric(wdg, wdb, dys, xs, means, rstds, ld, rows)
		sameBits(t, "layernorm dg", n, dg, wdg)
		sameBits(t, "layernorm db", n, db, wdb)
	}
}

// substrateRandIn is N(0, std²) samples with a nonzero mean, for the package's own tests.
func substrateRandIn(n int, std float64, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 77))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(0.5 + rng.NormFloat64()*std)
	}
	return x
}

// TestScaleArchMatchesGeneric checks the assembly scaling against its Go twin bit for bit.
func TestScaleArchMatchesGeneric(t *testing.T) {
	for _, n := range elementwiseLengths {
		x := elementwiseInputs(n, uint64(n)+21)
		got, want := make([]float32, n), make([]float32, n)
		if !scaleArch(got, x, 0.37) {
			t.Skip("no assembly scaling on this CPU or build")
		}
		scaleGeneric(want, x, 0.37)
		sameBits(t, "scale", n, got, want)
	}
}

// TestRowKernelsArchMatchGeneric checks the bias kernels of Linear (a row added to every row,
// rows summed into a row) against their Go twins bit for bit, over widths with every tail and
// more than one block of 64 columns.
func TestRowKernelsArchMatchGeneric(t *testing.T) {
	for _, n := range []int{1, 7, 16, 17, 63, 64, 65, 130} {
		const rows = 5
		b := elementwiseInputs(n, 3)
		res := elementwiseInputs(rows*n, 4)
		got, want := make([]float32, rows*n), make([]float32, rows*n)
		if !addRowsArch(got, res, b) {
			t.Skip("no assembly row kernels on this CPU or build")
		}
		addRowsGeneric(want, res, b)
		sameBits(t, "addRows", n, got, want)

		const ld = 140
		dy := elementwiseInputs(rows*ld, 5)
		for i := range dy {
			if math.IsInf(float64(dy[i]), 0) || math.Abs(float64(dy[i])) > 1e30 {
				dy[i] = 1 // Inf − Inf would make NaNs whose bits are not compared meaningfully
			}
		}
		gs, ws := append([]float32(nil), b...), append([]float32(nil), b...)
		for i := range gs {
			if math.IsInf(float64(gs[i]), 0) || math.Abs(float64(gs[i])) > 1e30 {
				gs[i], ws[i] = 2, 2
			}
		}
		sumRowsArch(gs, dy, ld, rows)
		sumRowsGeneric(ws, dy, ld, rows)
		sameBits(t, "sumRows", n, gs, ws)
	}
}

// TestGELUBiasArchMatchesGeneric checks the bias-fused GELU forward and backward against their
// Go twins bit for bit, for every tail length and the special inputs.
func TestGELUBiasArchMatchesGeneric(t *testing.T) {
	for _, n := range elementwiseLengths {
		x := elementwiseInputs(n, uint64(n)+31)
		b := elementwiseInputs(n, uint64(n)+32)
		for i := range b {
			b[i] = finiteMod(b[i], 3)
		}
		y, sig, wy, wsig := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		if !geluBiasForwardArch(y, sig, x, b) {
			t.Skip("no assembly GELU on this CPU or build")
		}
		geluBiasForwardGeneric(wy, wsig, x, b)
		sameBits(t, "gelu+bias forward y", n, y, wy)
		sameBits(t, "gelu+bias forward σ", n, sig, wsig)
		dy := elementwiseInputs(n, uint64(n)+33)
		for i := range dy {
			dy[i] = finiteMod(dy[i], 10)
		}
		dx, wdx := make([]float32, n), make([]float32, n)
		geluBiasBackwardArch(dx, dy, x, b, sig)
		geluBiasBackwardGeneric(wdx, dy, x, b, wsig)
		sameBits(t, "gelu+bias backward", n, dx, wdx)
	}
}

// TestGELUAccuracy checks GELU's forward and backward (assembly where the CPU has it; the Go
// twin gives the same bits, TestGELUArchMatchesGeneric) against the tanh form and its
// derivative in float64 on a dense grid of [−12, 12]: y within 1e-6 relative (plus 1e-9
// absolute, for the tails where y is tiny), gelu′ within 3e-6 absolute (σ's rounding, in
// 1 − σ, dominates).
func TestGELUAccuracy(t *testing.T) {
	var x []float32
	for v := -12.0; v <= 12; v += 0.0007 {
		x = append(x, float32(v))
	}
	n := len(x)
	y, sig, dx, ones := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range ones {
		ones[i] = 1
	}
	var g GELU
	g.Forward(y, sig, x)
	g.BackwardSet(dx, ones, x, sig)
	worstY, worstD := 0.0, 0.0
	for i, xf := range x {
		v := float64(xf)
		u := geluScale * (v + geluCubic*v*v*v)
		th := math.Tanh(u)
		want := 0.5 * v * (1 + th)
		wantD := 0.5*(1+th) + 0.5*v*(1-th*th)*geluScale*(1+3*geluCubic*v*v)
		ey := math.Abs(float64(y[i])-want) / (math.Abs(want) + 1e-3)
		if math.Abs(float64(y[i])-want) > 1e-6*math.Abs(want)+1e-9 {
			t.Fatalf("gelu(%v) = %v, want %v", xf, y[i], want)
		}
		if d := math.Abs(float64(dx[i]) - wantD); d > 3e-6 {
			t.Fatalf("gelu′(%v) = %v, want %v", xf, dx[i], wantD)
		} else {
			worstD = math.Max(worstD, d)
		}
		worstY = math.Max(worstY, ey)
	}
	t.Logf("worst: y %.3g relative (to |y| + 1e-3), gelu′ %.3g absolute", worstY, worstD)
}
