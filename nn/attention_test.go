package nn_test

import (
	"math"
	"runtime"
	"testing"

	"github.com/fadam-go/fadam/nn"
)

// naiveCausalAttention is a float64 reference: for each batch, head and query position i,
// softmax over keys j ≤ i of q·k/√hs, times v.
func naiveCausalAttention(qkv []float32, b, t, c, nh int) []float64 {
	return naiveAttention(qkv, b, t, c, nh, func(_, i int) int { return i + 1 })
}

// naiveAttention is the float64 reference of both attentions: for each batch bi, head and
// query position i, softmax over the keys j < keys(bi, i) of q·k/√hs, times v.
func naiveAttention(qkv []float32, b, t, c, nh int, keys func(bi, i int) int) []float64 {
	hs := c / nh
	out := make([]float64, b*t*c)
	for bi := range b {
		for h := range nh {
			for i := range t {
				q := qkv[(bi*t+i)*3*c+h*hs:]
				s := make([]float64, keys(bi, i))
				mx := math.Inf(-1)
				for j := range s {
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

// TestCausalSelfAttentionStatsMatchesProbs checks that the statistics path (ForwardStats,
// BackwardStats: probabilities recomputed in the backward pass) gives the same bits as the path
// that keeps the probabilities (Forward, Backward), on a shape with partial tiles and several
// row blocks; that the probabilities Forward keeps are a causal softmax (rows sum to 1, zero
// above the diagonal); and that the statistics path passes the finite-difference check.
func TestCausalSelfAttentionStatsMatchesProbs(t *testing.T) {
	for _, tc := range []struct{ b, t, c, heads int }{
		{3, 75, 40, 2}, // head size 20: a 16-wide column tail, blocks of 32, 32 and 11 rows
		{2, 64, 64, 4}, // head size 16, the compare default's shape
		{1, 40, 96, 3}, // head size 32
	} {
		b, tt, c, nh := tc.b, tc.t, tc.c, tc.heads
		qkv := substrateRand(b*tt*3*c, 1, 1)
		dout := substrateRand(b*tt*c, 1, 2)
		a := nn.NewCausalSelfAttention(c, nh)
		out, att := make([]float32, b*tt*c), make([]float32, b*nh*tt*tt)
		a.Forward(out, att, qkv, b, tt)
		dqkv := make([]float32, len(qkv))
		a.Backward(dqkv, nil, dout, qkv, att, b, tt)

		s := nn.NewCausalSelfAttention(c, nh)
		sOut, stats := make([]float32, b*tt*c), make([]float32, s.StatsLen(b, tt))
		s.ForwardStats(sOut, stats, qkv, b, tt)
		sD := substrateRand(len(qkv), 1, 9) // overwritten: BackwardStats sets dqkv
		s.BackwardStats(sD, dout, qkv, stats, b, tt)
		for i := range out {
			if math.Float32bits(out[i]) != math.Float32bits(sOut[i]) {
				t.Fatalf("%v: out[%d] = %v with stats, %v with probabilities", tc, i, sOut[i], out[i])
			}
		}
		for i := range dqkv {
			if math.Float32bits(dqkv[i]) != math.Float32bits(sD[i]) {
				t.Fatalf("%v: dqkv[%d] = %v with stats, %v with probabilities", tc, i, sD[i], dqkv[i])
			}
		}
		for r := range b * nh * tt {
			i := r % tt
			var sum float64
			for j, p := range att[r*tt : (r+1)*tt] {
				if j > i && p != 0 {
					t.Fatalf("%v: row %d has probability %v at key %d above the diagonal", tc, r, p, j)
				}
				sum += float64(p)
			}
			if math.Abs(sum-1) > 1e-5 {
				t.Fatalf("%v: row %d sums to %v", tc, r, sum)
			}
		}

		if tt > 40 {
			continue // the finite differences below are slow on the large shapes
		}
		w := substrateRand(len(out), 1, 3)
		loss := func() float64 { s.ForwardStats(sOut, stats, qkv, b, tt); return substrateDot(w, sOut) }
		loss()
		s.BackwardStats(sD, w, qkv, stats, b, tt)
		substrateGradcheck(t, "qkv", loss, qkv, sD, 1e-2, 2e-2)
	}
}

// TestCausalSelfAttentionEmpty: no sequences or no tokens is nothing to do, with empty buffers.
func TestCausalSelfAttentionEmpty(t *testing.T) {
	a := nn.NewCausalSelfAttention(8, 2)
	for _, bt := range [][2]int{{0, 5}, {3, 0}} {
		a.Forward(nil, nil, nil, bt[0], bt[1])
		a.Backward(nil, nil, nil, nil, nil, bt[0], bt[1])
		a.ForwardStats(nil, nil, nil, bt[0], bt[1])
		a.BackwardStats(nil, nil, nil, nil, bt[0], bt[1])
		a.BackwardStatsOut(nil, nil, nil, nil, nil, bt[0], bt[1])
	}
}

// TestSelfAttentionBackwardStatsOut checks BackwardStatsOut, which takes each row's Σ P⊙dP as
// dout·out, for the causal and the padded attention: against BackwardStats (the same gradient
// with the sum over the keys; different rounding, so within 2e-5 relative) on shapes with
// partial tiles, several row blocks and padded keys; the same bits for GOMAXPROCS 1, 2 and 3
// and no allocation; and the finite-difference check on the small shapes.
func TestSelfAttentionBackwardStatsOut(t *testing.T) {
	for _, tc := range []struct {
		b, t, c, heads int
		lens           []int // nil: causal
	}{
		{3, 75, 40, 2, nil},
		{2, 64, 64, 4, nil},
		{1, 40, 96, 3, nil},
		{2, 9, 12, 3, nil},
		{3, 70, 40, 2, []int{70, 33, 32}},
		{2, 7, 8, 2, []int{7, 3}},
		{2, 6, 8, 1, []int{0, 40}},
	} {
		b, tt, c, nh := tc.b, tc.t, tc.c, tc.heads
		qkv := substrateRand(b*tt*3*c, 1, 1)
		dout := substrateRand(b*tt*c, 1, 2)
		ca, ma := nn.NewCausalSelfAttention(c, nh), nn.NewMaskedSelfAttention(c, nh)
		out, stats := make([]float32, b*tt*c), make([]float32, ca.StatsLen(b, tt))
		forward := func() {
			if tc.lens == nil {
				ca.ForwardStats(out, stats, qkv, b, tt)
			} else {
				ma.ForwardStats(out, stats, qkv, tc.lens, b, tt)
			}
		}
		backward := func(dqkv, dout []float32, withOut bool) {
			switch {
			case tc.lens == nil && withOut:
				ca.BackwardStatsOut(dqkv, dout, qkv, out, stats, b, tt)
			case tc.lens == nil:
				ca.BackwardStats(dqkv, dout, qkv, stats, b, tt)
			case withOut:
				ma.BackwardStatsOut(dqkv, dout, qkv, out, stats, tc.lens, b, tt)
			default:
				ma.BackwardStats(dqkv, dout, qkv, stats, tc.lens, b, tt)
			}
		}
		forward()
		ref := make([]float32, len(qkv))
		backward(ref, dout, false)
		want := make([]float64, len(ref))
		for i, g := range ref {
			want[i] = float64(g)
		}
		var first []float32
		got := make([]float32, len(qkv))
		for _, procs := range []int{1, 2, 3} {
			prev := runtime.GOMAXPROCS(procs)
			copy(got, substrateRand(len(qkv), 1, 9)) // overwritten: BackwardStatsOut sets dqkv
			backward(got, dout, true)
			runtime.GOMAXPROCS(prev)
			substrateClose(t, "dqkv", got, want, 2e-5)
			if first == nil {
				first = append([]float32(nil), got...)
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(first[i]) {
					t.Fatalf("%v: GOMAXPROCS=%d: dqkv[%d] = %v, %v with GOMAXPROCS=1", tc, procs, i, got[i], first[i])
				}
			}
		}
		if allocs := testing.AllocsPerRun(3, func() { backward(got, dout, true) }); allocs != 0 {
			t.Fatalf("%v: %v allocations per backward", tc, allocs)
		}

		if tt > 10 {
			continue // the finite differences are slow on the large shapes
		}
		w := substrateRand(len(out), 1, 3)
		loss := func() float64 { forward(); return substrateDot(w, out) }
		loss()
		backward(got, w, true)
		substrateGradcheck(t, "qkv", loss, qkv, got, 1e-2, 2e-2)
	}
}

// TestCausalAttentionFlops checks the count against pairs worked out by hand: a block of 32
// query rows sees keys up to its last row, so t = 40 has 32·32 + 8·40 = 1,344 pairs.
func TestCausalAttentionFlops(t *testing.T) {
	for _, tc := range []struct {
		c, t int
		want float64
	}{
		{c: 8, t: 1, want: 12 * 8 * 1},
		{c: 8, t: 32, want: 12 * 8 * 32 * 32},
		{c: 128, t: 40, want: 12 * 128 * 1344},
		{c: 512, t: 256, want: 12 * 512 * 36864}, // Σ_b 32·32(b+1), b < 8
		{c: 0, t: 40, want: 0},
		{c: 64, t: 0, want: 0},
		{c: -1, t: 40, want: 0},
	} {
		if got := nn.CausalAttentionFlops(tc.c, tc.t); got != tc.want {
			t.Errorf("CausalAttentionFlops(%d, %d) = %v, want %v", tc.c, tc.t, got, tc.want)
		}
	}
}
