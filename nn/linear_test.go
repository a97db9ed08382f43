package nn_test

import (
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
