package nn_test

import (
	"math"
	"testing"

	"github.com/fadam-go/fadam/gemm"
	"github.com/fadam-go/fadam/nn"
)

// naiveCausalAttention is a float64 reference: for each batch, head and query position i,
// softmax over keys j ≤ i of q·k/√hs, times v.
func naiveCausalAttention(qkv []float32, b, t, c, nh int) []float64 {
	hs := c / nh
	out := make([]float64, b*t*c)
	for bi := range b {
		for h := range nh {
			for i := range t {
				q := qkv[(bi*t+i)*3*c+h*hs:]
				s := make([]float64, i+1)
				mx := math.Inf(-1)
				for j := 0; j <= i; j++ {
					k := qkv[(bi*t+j)*3*c+c+h*hs:]
					for d := range hs {
						s[j] += float64(q[d]) * float64(k[d])
					}
					s[j] /= math.Sqrt(float64(hs))
					mx = math.Max(mx, s[j])
				}
				var z float64
				for j := range s {
					s[j] = math.Exp(s[j] - mx)
					z += s[j]
				}
				for j := range s {
					v := qkv[(bi*t+j)*3*c+2*c+h*hs:]
					for d := range hs {
						out[(bi*t+i)*c+h*hs+d] += s[j] / z * float64(v[d])
					}
				}
			}
		}
	}
	return out
}

func TestCausalSelfAttention(t *testing.T) {
	for _, tc := range []struct {
		name           string
		b, t, c, heads int
	}{
		{"one-head", 1, 4, 4, 1},
		{"multi-head", 2, 5, 6, 3},
		{"many-pairs", 3, 3, 8, 4},
		{"row-blocks", 2, 70, 8, 2}, // 70 rows: blocks of 32, 32 and 6 query rows
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, tt, c, nh := tc.b, tc.t, tc.c, tc.heads
			a := nn.NewCausalSelfAttention(c, nh)
			qkv := substrateRand(b*tt*3*c, 1, 1)
			out := make([]float32, b*tt*c)
			att := make([]float32, b*nh*tt*tt)
			a.Forward(out, att, qkv, b, tt)
			substrateClose(t, "out", out, naiveCausalAttention(qkv, b, tt, c, nh), 1e-5)

			w := substrateRand(len(out), 1, 2)
			loss := func() float64 { a.Forward(out, att, qkv, b, tt); return substrateDot(w, out) }
			loss()
			dqkv := make([]float32, len(qkv))
			scratch := make([]float32, len(att))
			a.Backward(dqkv, scratch, w, qkv, att, b, tt)
			substrateGradcheck(t, "qkv", loss, qkv, dqkv, 1e-2, 2e-2)
		})
	}
}

// TestCausalSelfAttentionKernelsAgree runs attention with gemm.Fast (each head's operands
// packed once) and with gonum (operands read in place) on a shape with partial tiles and
// several row blocks, and compares the outputs and the gradients.
func TestCausalSelfAttentionKernelsAgree(t *testing.T) {
	const b, tt, c, nh = 3, 75, 40, 2 // head size 20: partial column tiles
	qkv := substrateRand(b*tt*3*c, 1, 1)
	dout := substrateRand(b*tt*c, 1, 2)
	run := func(k gemm.Kernel) (out, dqkv []float32) {
		saved := gemm.Default
		defer func() { gemm.Default = saved }()
		gemm.Default = k
		a := nn.NewCausalSelfAttention(c, nh)
		out, att := make([]float32, b*tt*c), make([]float32, b*nh*tt*tt)
		a.Forward(out, att, qkv, b, tt)
		dqkv = make([]float32, len(qkv))
		a.Backward(dqkv, make([]float32, len(att)), dout, qkv, att, b, tt)
		return out, dqkv
	}
	fo, fd := run(gemm.Fast{})
	go64 := func(x []float32) []float64 {
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = float64(v)
		}
		return y
	}
	gOut, gD := run(gemm.Gonum{})
	substrateClose(t, "out", fo, go64(gOut), 1e-5)
	substrateClose(t, "dqkv", fd, go64(gD), 1e-4)
}
