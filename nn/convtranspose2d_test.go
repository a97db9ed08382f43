package nn_test

import (
	"testing"

	"github.com/fadam-go/fadam/nn"
)

// convTransposeTestReference scatters each input pixel through the kernel, in float64.
func convTransposeTestReference(x, wt, bias []float32, b, h, w, inC, outC, k, s, p int) ([]float64, int, int) {
	oh, ow := (h-1)*s-2*p+k, (w-1)*s-2*p+k
	y := make([]float64, b*oh*ow*outC)
	for i := range y {
		y[i] = float64(bias[i%outC])
	}
	for n := range b {
		for iy := range h {
			for ix := range w {
				for ky := range k {
					for kx := range k {
						oy, ox := iy*s-p+ky, ix*s-p+kx
						if oy < 0 || oy >= oh || ox < 0 || ox >= ow {
							continue
						}
						for i := range inC {
							xv := float64(x[((n*h+iy)*w+ix)*inC+i])
							for o := range outC {
								y[((n*oh+oy)*ow+ox)*outC+o] += xv * float64(wt[((i*k+ky)*k+kx)*outC+o])
							}
						}
					}
				}
			}
		}
	}
	return y, oh, ow
}

func TestConvTranspose2DForwardMatchesDefinition(t *testing.T) {
	for _, tc := range convTestCases {
		c, err := nn.NewConvTranspose2D("t", tc.inC, tc.outC, tc.k, tc.s, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		copy(c.W.Value, substrateRand(len(c.W.Value), 1, 1))
		copy(c.B.Value, substrateRand(tc.outC, 1, 2))
		x := substrateRand(tc.b*tc.h*tc.w*tc.inC, 1, 3)
		want, oh, ow := convTransposeTestReference(x, c.W.Value, c.B.Value, tc.b, tc.h, tc.w, tc.inC, tc.outC, tc.k, tc.s, tc.p)
		if gh, gw := c.OutSize(tc.h, tc.w); gh != oh || gw != ow {
			t.Fatalf("%s: OutSize %d×%d, want %d×%d", tc.name, gh, gw, oh, ow)
		}
		y := make([]float32, len(want))
		c.Forward(y, x, tc.b, tc.h, tc.w)
		substrateClose(t, tc.name, y, want, 1e-5)
	}
}

// TestConvTransposeIsAdjointOfConv checks ⟨conv(x), u⟩ = ⟨x, convT(u)⟩ for shared weights and
// zero biases, the property that makes the transposed convolution an upsampler.
func TestConvTransposeIsAdjointOfConv(t *testing.T) {
	const b, h, w, inC, outC, k, s, p = 2, 8, 6, 3, 4, 4, 2, 1
	c, _ := nn.NewConv2D("c", inC, outC, k, s, p)
	ct, _ := nn.NewConvTranspose2D("t", outC, inC, k, s, p)
	copy(c.W.Value, substrateRand(len(c.W.Value), 1, 1))
	copy(ct.W.Value, c.W.Value) // [outC, k, k, inC] is both layouts
	x := substrateRand(b*h*w*inC, 1, 2)
	oh, ow := c.OutSize(h, w)
	if th, tw := ct.OutSize(oh, ow); th != h || tw != w {
		t.Fatalf("transpose of %d×%d gives %d×%d", h, w, th, tw)
	}
	u := substrateRand(b*oh*ow*outC, 1, 3)
	cx, tu := make([]float32, len(u)), make([]float32, len(x))
	c.Forward(cx, x, b, h, w)
	ct.Forward(tu, u, b, oh, ow)
	l, r := substrateDot(u, cx), substrateDot(x, tu)
	if d := l - r; d > 1e-4*abs64(l) || -d > 1e-4*abs64(l) {
		t.Fatalf("⟨conv x, u⟩ = %v but ⟨x, convT u⟩ = %v", l, r)
	}
}

func TestConvTranspose2DGradients(t *testing.T) {
	for _, tc := range convTestCases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := nn.NewConvTranspose2D("t", tc.inC, tc.outC, tc.k, tc.s, tc.p)
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
