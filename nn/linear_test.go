package nn_test

import (
	"math"
	"testing"

	"github.com/fadam-go/fadam/nn"
)

func TestLinearForwardMatchesFloat64(t *testing.T) {
	const rows, in, out = 5, 7, 3
	l := nn.NewLinear("l", in, out, true)
	copy(l.W.Value, substrateRand(in*out, 1, 1))
	copy(l.B.Value, substrateRand(out, 1, 2))
	x := substrateRand(rows*in, 1, 3)
	y := make([]float32, rows*out)
	l.Forward(y, x, rows)
	want := make([]float64, rows*out)
	for r := range rows {
		for o := range out {
			s := float64(l.B.Value[o])
			for i := range in {
				s += float64(x[r*in+i]) * float64(l.W.Value[o*in+i])
			}
			want[r*out+o] = s
		}
	}
	substrateClose(t, "y", y, want, 1e-5)
}

func TestLinearGradients(t *testing.T) {
	for _, tc := range []struct {
		name          string
		rows, in, out int
		bias          bool
	}{
		{"bias", 6, 5, 4, true},
		{"nobias", 3, 8, 2, false},
		{"wide", 4, 3, 9, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := nn.NewLinear("l", tc.in, tc.out, tc.bias)
			copy(l.W.Value, substrateRand(tc.in*tc.out, 0.5, 1))
			if tc.bias {
				copy(l.B.Value, substrateRand(tc.out, 0.5, 2))
			}
			x := substrateRand(tc.rows*tc.in, 1, 3)
			w := substrateRand(tc.rows*tc.out, 1, 4)
			y := make([]float32, tc.rows*tc.out)
			loss := func() float64 { l.Forward(y, x, tc.rows); return substrateDot(w, y) }
			dx := make([]float32, len(x))
			nn.ZeroGrads(l.Params())
			l.Backward(dx, w, x, tc.rows)
			substrateGradcheck(t, "x", loss, x, dx, 1e-2, 1e-2)
			for _, p := range l.Params() {
				substrateGradcheck(t, p.Name, loss, p.Value, p.Grad, 1e-2, 1e-2)
			}
		})
	}
}

// TestLinearForwardResidual checks y = res + x·Wᵀ + b against Forward plus ResidualAdd, with y
// a separate buffer and y aliasing res, with and without bias, on enough rows to split the
// bias work.
func TestLinearForwardResidual(t *testing.T) {
	for _, bias := range []bool{true, false} {
		const rows, in, out = 300, 6, 70
		l := nn.NewLinear("l", in, out, bias)
		copy(l.W.Value, substrateRand(in*out, 1, 1))
		if bias {
			copy(l.B.Value, substrateRand(out, 1, 2))
		}
		x, res := substrateRand(rows*in, 1, 3), substrateRand(rows*out, 1, 4)
		y := make([]float32, rows*out)
		l.Forward(y, x, rows)
		want := make([]float64, len(y))
		for i := range want {
			want[i] = float64(y[i]) + float64(res[i])
		}
		got := make([]float32, len(y))
		l.ForwardResidual(got, res, x, rows)
		substrateClose(t, "y", got, want, 1e-5)
		l.ForwardResidual(res, res, x, rows)
		substrateClose(t, "y in place", res, want, 1e-5)
	}
}

// TestLinearBiasGradientAcrossSplits checks the bias gradient, summed by columns over many
// rows, against a float64 sum.
func TestLinearBiasGradientAcrossSplits(t *testing.T) {
	const rows, in, out = 700, 3, 45
	l := nn.NewLinear("l", in, out, true)
	dy, x := substrateRand(rows*out, 1, 5), substrateRand(rows*in, 1, 6)
	l.Backward(nil, dy, x, rows)
	want := make([]float64, out)
	for r := range rows {
		for o := range out {
			want[o] += float64(dy[r*out+o])
		}
	}
	substrateClose(t, "db", l.B.Grad, want, 1e-4)
}

// TestLinearBackwardSet checks that BackwardSet overwrites dx (garbage, NaN included, is
// ignored) with what Backward adds to zeros, and accumulates the parameter gradients the same.
func TestLinearBackwardSet(t *testing.T) {
	const rows, in, out = 9, 5, 4
	l := nn.NewLinear("l", in, out, true)
	copy(l.W.Value, substrateRand(in*out, 1, 1))
	dy, x := substrateRand(rows*out, 1, 2), substrateRand(rows*in, 1, 3)
	want := make([]float32, rows*in)
	l.Backward(want, dy, x, rows)
	wantW, wantB := append([]float32(nil), l.W.Grad...), append([]float32(nil), l.B.Grad...)
	nn.ZeroGrads(l.Params())
	got := substrateRand(rows*in, 1, 4)
	got[3] = float32(math.NaN())
	l.BackwardSet(got, dy, x, rows)
	for _, c := range []struct {
		name      string
		got, want []float32
	}{{"dx", got, want}, {"dW", l.W.Grad, wantW}, {"db", l.B.Grad, wantB}} {
		for i := range c.want {
			if c.got[i] != c.want[i] {
				t.Fatalf("%s[%d] = %v, Backward into zeros gives %v", c.name, i, c.got[i], c.want[i])
			}
		}
	}
}

// TestLinearNoBiasVariants checks ForwardNoBias (the product alone, against a float64 sum) and
// BackwardSetNoBias (BackwardSet's dx and W gradient, the bias gradient left alone).
func TestLinearNoBiasVariants(t *testing.T) {
	const rows, in, out = 6, 5, 4
	l := nn.NewLinear("l", in, out, true)
	copy(l.W.Value, substrateRand(in*out, 1, 1))
	copy(l.B.Value, substrateRand(out, 1, 2))
	x := substrateRand(rows*in, 1, 3)
	y := substrateRand(rows*out, 1, 9) // overwritten
	l.ForwardNoBias(y, x, rows)
	want := make([]float64, rows*out)
	for r := range rows {
		for o := range out {
			for i := range in {
				want[r*out+o] += float64(x[r*in+i]) * float64(l.W.Value[o*in+i])
			}
		}
	}
	substrateClose(t, "y", y, want, 1e-5)

	dy := substrateRand(rows*out, 1, 4)
	dx, wdx := make([]float32, rows*in), make([]float32, rows*in)
	l.BackwardSet(wdx, dy, x, rows)
	wantW := append([]float32(nil), l.W.Grad...)
	nn.ZeroGrads(l.Params())
	l.BackwardSetNoBias(dx, dy, x, rows)
	for i := range dx {
		if dx[i] != wdx[i] {
			t.Fatalf("dx[%d] = %v, BackwardSet gives %v", i, dx[i], wdx[i])
		}
	}
	for i := range wantW {
		if l.W.Grad[i] != wantW[i] {
			t.Fatalf("dW[%d] = %v, BackwardSet gives %v", i, l.W.Grad[i], wantW[i])
		}
	}
	for i, g := range l.B.Grad {
		if g != 0 {
			t.Fatalf("db[%d] = %v, want it left at 0", i, g)
		}
	}
}
