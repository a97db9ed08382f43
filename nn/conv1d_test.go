package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fadam-go/fadam/nn"
	"github.com/fadam-go/fadam/nn/gradcheck"
)

func asrTestRand(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 11))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func asrTestDot(w, y []float32) float64 {
	var s float64
	for i := range y {
		s += float64(w[i]) * float64(y[i])
	}
	return s
}

func asrTestGradcheck(t *testing.T, what string, loss func() float64, x, grad []float32) {
	t.Helper()
	r, err := gradcheck.Check(loss, x, grad, 1e-2, 40, 3)
	if err != nil {
		t.Fatal(err)
	}
	if r.MaxRelErr > 5e-3 {
		t.Errorf("%s: gradient mismatch %+v", what, r)
	}
}

func TestConv1D(t *testing.T) {
	cases := []struct{ in, out, kernel, stride, pad, b, t int }{
		{3, 4, 3, 2, 1, 2, 9},
		{2, 3, 3, 2, 1, 1, 8},
		{4, 2, 1, 1, 0, 2, 5}, // a per-frame linear map
		{2, 2, 5, 3, 2, 2, 4},
	}
	for ci, c := range cases {
		conv := nn.NewConv1D("c", c.in, c.out, c.kernel, c.stride, c.pad)
		copy(conv.W.Value, asrTestRand(len(conv.W.Value), uint64(ci)))
		copy(conv.B.Value, asrTestRand(len(conv.B.Value), uint64(ci+50)))
		x := asrTestRand(c.b*c.t*c.in, uint64(ci+100))
		to := conv.OutLen(c.t)
		if want := (c.t+2*c.pad-c.kernel)/c.stride + 1; to != want {
			t.Fatalf("OutLen %d, want %d", to, want)
		}
		y := make([]float32, c.b*to*c.out)
		cols := make([]float32, conv.ColsLen(c.b, c.t))
		conv.Forward(y, cols, x, c.b, c.t)
		// Direct definition in float64.
		for b := range c.b {
			for o := range to {
				for oc := range c.out {
					s := float64(conv.B.Value[oc])
					for k := range c.kernel {
						src := o*c.stride + k - c.pad
						if src < 0 || src >= c.t {
							continue
						}
						for ic := range c.in {
							s += float64(conv.W.Value[oc*c.kernel*c.in+k*c.in+ic]) * float64(x[(b*c.t+src)*c.in+ic])
						}
					}
					if got := float64(y[(b*to+o)*c.out+oc]); math.Abs(got-s) > 1e-5*(1+math.Abs(s)) {
						t.Fatalf("case %d: y[%d,%d,%d] = %g, want %g", ci, b, o, oc, got, s)
					}
				}
			}
		}
		w := asrTestRand(len(y), uint64(ci+200))
		loss := func() float64 {
			conv.Forward(y, cols, x, c.b, c.t)
			return asrTestDot(w, y)
		}
		dx := make([]float32, len(x))
		dcols := make([]float32, len(cols))
		nn.ZeroGrads(conv.Params())
		loss()
		conv.Backward(dx, dcols, w, cols, c.b, c.t)
		asrTestGradcheck(t, "conv1d x", loss, x, dx)
		asrTestGradcheck(t, "conv1d W", loss, conv.W.Value, conv.W.Grad)
		asrTestGradcheck(t, "conv1d b", loss, conv.B.Value, conv.B.Grad)
	}
	if nn.NewConv1D("c", 1, 1, 5, 2, 0).OutLen(3) != 0 {
		t.Fatal("kernel longer than input should give no frames")
	}
}

func TestMaskedSelfAttention(t *testing.T) {
	const B, T, C, H = 2, 5, 8, 2
	lens := []int{5, 3}
	a := nn.NewMaskedSelfAttention(C, H)
	qkv := asrTestRand(B*T*3*C, 1)
	out := make([]float32, B*T*C)
	att := make([]float32, B*H*T*T)
	a.Forward(out, att, qkv, lens, B, T)
	// Direct definition in float64.
	hs := C / H
	for b := range B {
		for h := range H {
			for i := range T {
				sc := make([]float64, lens[b])
				mx := math.Inf(-1)
				for j := range lens[b] {
					for d := range hs {
						sc[j] += float64(qkv[(b*T+i)*3*C+h*hs+d]) * float64(qkv[(b*T+j)*3*C+C+h*hs+d])
					}
					sc[j] /= math.Sqrt(float64(hs))
					mx = math.Max(mx, sc[j])
				}
				var z float64
				for j := range sc {
					sc[j] = math.Exp(sc[j] - mx)
					z += sc[j]
				}
				for d := range hs {
					var s float64
					for j := range sc {
						s += sc[j] / z * float64(qkv[(b*T+j)*3*C+2*C+h*hs+d])
					}
					if got := float64(out[(b*T+i)*C+h*hs+d]); math.Abs(got-s) > 1e-5 {
						t.Fatalf("out[%d,%d,%d] = %g, want %g", b, i, h*hs+d, got, s)
					}
				}
			}
		}
	}
	// Padded keys do not influence anything.
	qkv2 := append([]float32(nil), qkv...)
	for i := 3; i < T; i++ {
		for d := range 3 * C {
			qkv2[(1*T+i)*3*C+d] = 100
		}
	}
	out2 := make([]float32, len(out))
	a.Forward(out2, att, qkv2, lens, B, T)
	for i := range 3 * C { // valid rows of sequence 1
		if out2[T*C+i] != out[T*C+i] {
			t.Fatal("padded keys changed a valid output")
		}
	}
	w := asrTestRand(len(out), 2)
	loss := func() float64 {
		a.Forward(out, att, qkv, lens, B, T)
		return asrTestDot(w, out)
	}
	loss()
	dqkv := make([]float32, len(qkv))
	a.Backward(dqkv, make([]float32, B*H*T*T), w, qkv, att, lens, B, T)
	asrTestGradcheck(t, "masked attention qkv", loss, qkv, dqkv)
}
