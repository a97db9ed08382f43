package nn_test

import (
	"testing"

	"github.com/fadam-go/fadam/nn"
)

// convTestCases covers stride, padding, odd sizes, a 1×1 (pointwise) kernel and several images.
var convTestCases = []struct {
	name                        string
	b, h, w, inC, outC, k, s, p int
}{
	{"k3s1p1", 2, 5, 4, 3, 2, 3, 1, 1},
	{"k4s2p1", 2, 6, 6, 2, 3, 4, 2, 1},
	{"k3s2p0odd", 1, 7, 5, 2, 2, 3, 2, 0},
	{"pointwise", 3, 3, 2, 4, 5, 1, 1, 0},
}

// convTestReference is the convolution by its definition, in float64.
func convTestReference(x, wt, bias []float32, b, h, w, inC, outC, k, s, p int) ([]float64, int, int) {
	oh, ow := (h+2*p-k)/s+1, (w+2*p-k)/s+1
	y := make([]float64, b*oh*ow*outC)
	for n := range b {
		for oy := range oh {
			for ox := range ow {
				for o := range outC {
					sum := float64(bias[o])
					for ky := range k {
						for kx := range k {
							iy, ix := oy*s-p+ky, ox*s-p+kx
							if iy < 0 || iy >= h || ix < 0 || ix >= w {
								continue
							}
							for i := range inC {
								sum += float64(x[((n*h+iy)*w+ix)*inC+i]) * float64(wt[((o*k+ky)*k+kx)*inC+i])
							}
						}
					}
					y[((n*oh+oy)*ow+ox)*outC+o] = sum
				}
			}
		}
	}
	return y, oh, ow
}

func TestConv2DForwardMatchesDefinition(t *testing.T) {
	for _, tc := range convTestCases {
		c, err := nn.NewConv2D("c", tc.inC, tc.outC, tc.k, tc.s, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		copy(c.W.Value, substrateRand(len(c.W.Value), 1, 1))
		copy(c.B.Value, substrateRand(tc.outC, 1, 2))
		x := substrateRand(tc.b*tc.h*tc.w*tc.inC, 1, 3)
		want, oh, ow := convTestReference(x, c.W.Value, c.B.Value, tc.b, tc.h, tc.w, tc.inC, tc.outC, tc.k, tc.s, tc.p)
		if gh, gw := c.OutSize(tc.h, tc.w); gh != oh || gw != ow {
			t.Fatalf("%s: OutSize %d×%d, want %d×%d", tc.name, gh, gw, oh, ow)
		}
		y := make([]float32, len(want))
		c.Forward(y, x, tc.b, tc.h, tc.w)
		substrateClose(t, tc.name, y, want, 1e-5)
	}
}

func TestConv2DGradients(t *testing.T) {
	for _, tc := range convTestCases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := nn.NewConv2D("c", tc.inC, tc.outC, tc.k, tc.s, tc.p)
			copy(c.W.Value, substrateRand(len(c.W.Value), 0.5, 1))
			copy(c.B.Value, substrateRand(tc.outC, 0.5, 2))
			x := substrateRand(tc.b*tc.h*tc.w*tc.inC, 1, 3)
			oh, ow := c.OutSize(tc.h, tc.w)
			wy := substrateRand(tc.b*oh*ow*tc.outC, 1, 4)
			y := make([]float32, len(wy))
			loss := func() float64 { c.Forward(y, x, tc.b, tc.h, tc.w); return substrateDot(wy, y) }
			dx := make([]float32, len(x))
			nn.ZeroGrads(c.Params())
			c.Backward(dx, wy, x, tc.b, tc.h, tc.w)
			substrateGradcheck(t, "x", loss, x, dx, 1e-2, 1e-2)
			for _, p := range c.Params() {
				substrateGradcheck(t, p.Name, loss, p.Value, p.Grad, 1e-2, 1e-2)
			}
		})
	}
}

func TestConvGeometryErrors(t *testing.T) {
	for _, g := range [][5]int{{0, 1, 3, 1, 0}, {1, 1, 0, 1, 0}, {1, 1, 3, 0, 0}, {1, 1, 3, 1, 3}, {1, 1, 3, 1, -1}} {
		if _, err := nn.NewConv2D("c", g[0], g[1], g[2], g[3], g[4]); err == nil {
			t.Errorf("NewConv2D%v accepted", g)
		}
		if _, err := nn.NewConvTranspose2D("c", g[0], g[1], g[2], g[3], g[4]); err == nil {
			t.Errorf("NewConvTranspose2D%v accepted", g)
		}
	}
}
