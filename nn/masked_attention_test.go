package nn_test

import (
	"math"
	"runtime"
	"testing"

	"github.com/fadam-go/fadam/nn"
)

// naiveMaskedAttention is a float64 reference: for each batch, head and query position i
// (padded ones included), softmax over the keys j < n of q·k/√hs, times v, with n = lens[b]
// clamped to [1, t].
func naiveMaskedAttention(qkv []float32, lens []int, b, t, c, nh int) []float64 {
	return naiveAttention(qkv, b, t, c, nh, func(bi, _ int) int { return min(max(lens[bi], 1), t) })
}

// TestMaskedSelfAttentionFused checks the padded attention on shapes with several row blocks
// and partial tiles: the output against the float64 reference; the statistics path
// (ForwardStats, BackwardStats) against the path keeping probabilities (Forward, Backward) bit
// for bit, with the padded keys' and values' gradients set to 0; the kept probabilities (rows
// sum to 1 over the valid keys, 0 on padded ones); the same bits for GOMAXPROCS 1, 2 and 3; no
// allocation per call; and the finite-difference check of BackwardStats on the small shapes.
func TestMaskedSelfAttentionFused(t *testing.T) {
	for _, tc := range []struct {
		name           string
		b, t, c, heads int
		lens           []int
	}{
		{"small", 2, 7, 8, 2, []int{7, 3}},
		{"one-valid", 2, 9, 12, 3, []int{1, 9}},
		{"clamped", 2, 6, 8, 1, []int{0, 40}}, // lengths below 1 count as 1, above t as t
		{"row-blocks", 3, 70, 40, 2, []int{70, 33, 32}},
		{"asr-shape", 4, 25, 96, 4, []int{25, 19, 16, 21}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, tt, c, nh, lens := tc.b, tc.t, tc.c, tc.heads, tc.lens
			qkv := substrateRand(b*tt*3*c, 1, 1)
			dout := substrateRand(b*tt*c, 1, 2)
			a := nn.NewMaskedSelfAttention(c, nh)
			out, att := make([]float32, b*tt*c), make([]float32, b*nh*tt*tt)
			a.Forward(out, att, qkv, lens, b, tt)
			substrateClose(t, "out", out, naiveMaskedAttention(qkv, lens, b, tt, c, nh), 1e-5)
			dqkv := make([]float32, len(qkv))
			a.Backward(dqkv, nil, dout, qkv, att, lens, b, tt)
			for r := range b * nh * tt {
				n := min(max(lens[r/(nh*tt)], 1), tt)
				var sum float64
				for j, p := range att[r*tt : (r+1)*tt] {
					if j >= n && p != 0 {
						t.Fatalf("row %d has probability %v at padded key %d", r, p, j)
					}
					sum += float64(p)
				}
				if math.Abs(sum-1) > 1e-5 {
					t.Fatalf("row %d sums to %v", r, sum)
				}
			}

			s := nn.NewMaskedSelfAttention(c, nh)
			sOut, stats := make([]float32, len(out)), make([]float32, s.StatsLen(b, tt))
			sD := make([]float32, len(qkv))
			for _, procs := range []int{1, 2, 3} {
				prev := runtime.GOMAXPROCS(procs)
				clear(sOut)
				copy(sD, substrateRand(len(qkv), 1, 9)) // overwritten: BackwardStats sets dqkv
				s.ForwardStats(sOut, stats, qkv, lens, b, tt)
				s.BackwardStats(sD, dout, qkv, stats, lens, b, tt)
				runtime.GOMAXPROCS(prev)
				for i := range out {
					if math.Float32bits(out[i]) != math.Float32bits(sOut[i]) {
						t.Fatalf("GOMAXPROCS=%d: out[%d] = %v with stats, %v with probabilities", procs, i, sOut[i], out[i])
					}
				}
				for i := range dqkv {
					if math.Float32bits(dqkv[i]) != math.Float32bits(sD[i]) {
						t.Fatalf("GOMAXPROCS=%d: dqkv[%d] = %v with stats, %v with probabilities", procs, i, sD[i], dqkv[i])
					}
				}
			}
			for bi := range b {
				n := min(max(lens[bi], 1), tt)
				for i := n; i < tt; i++ {
					for d := c; d < 3*c; d++ {
						if g := sD[(bi*tt+i)*3*c+d]; g != 0 {
							t.Fatalf("padded frame %d of sequence %d: key/value gradient %v at column %d", i, bi, g, d)
						}
					}
				}
			}
			if allocs := testing.AllocsPerRun(3, func() {
				s.ForwardStats(sOut, stats, qkv, lens, b, tt)
				s.BackwardStats(sD, dout, qkv, stats, lens, b, tt)
			}); allocs != 0 {
				t.Fatalf("%v allocations per forward and backward", allocs)
			}

			if tt > 10 {
				return // the finite differences are slow on the large shapes
			}
			w := substrateRand(len(out), 1, 3)
			loss := func() float64 { s.ForwardStats(sOut, stats, qkv, lens, b, tt); return substrateDot(w, sOut) }
			loss()
			s.BackwardStats(sD, w, qkv, stats, lens, b, tt)
			substrateGradcheck(t, "qkv", loss, qkv, sD, 1e-2, 2e-2)
		})
	}
}

// TestMaskedSelfAttentionEmpty: no sequences or no frames is nothing to do, with empty buffers.
func TestMaskedSelfAttentionEmpty(t *testing.T) {
	a := nn.NewMaskedSelfAttention(8, 2)
	for _, bt := range [][2]int{{0, 5}, {3, 0}} {
		a.Forward(nil, nil, nil, nil, bt[0], bt[1])
		a.Backward(nil, nil, nil, nil, nil, nil, bt[0], bt[1])
		a.ForwardStats(nil, nil, nil, nil, bt[0], bt[1])
		a.BackwardStats(nil, nil, nil, nil, nil, bt[0], bt[1])
		a.BackwardStatsOut(nil, nil, nil, nil, nil, nil, bt[0], bt[1])
	}
}
