package nn

import (
	"fmt"
	"testing"
)

// BenchmarkTileMul times the attention kernel on the shapes of one row block at T = 128 and
// head size 32: scores (32 rows × 128 keys × 32), P·v (32 × 32 × 128) and the transposed
// dv/dk update (128 × 32 × 32 with A read across rows).
func BenchmarkTileMul(b *testing.B) {
	for _, tc := range []struct {
		name          string
		m, n, k       int
		rsa, csa, ldb int
		add           bool
	}{
		{"scores", 32, 128, 32, 384, 1, 128, false},
		{"pv", 32, 32, 128, 128, 1, 384, false},
		{"dv", 128, 32, 32, 1, 128, 128, true},
		{"pv16", 32, 16, 64, 64, 1, 192, false},
	} {
		a := make([]float32, 128*384)
		bb := make([]float32, 128*384)
		c := make([]float32, 128*384)
		b.Run(fmt.Sprint(tc.name), func(b *testing.B) {
			for b.Loop() {
				tileMul(c, 384, a, tc.rsa, tc.csa, bb, tc.ldb, tc.m, tc.n, tc.k, 1, tc.add)
			}
			b.ReportMetric(2*float64(tc.m*tc.n*tc.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkSoftmaxGradBlock times the softmax backward of the last 32-row block of a causal
// pair at T = 128 (rows see 97 to 128 keys), recomputing the probabilities from the row
// statistics: "sum" takes each row's Σ P⊙dP from the block (BackwardStats), "dots" from the
// rows' dout·out over a head of 32 (BackwardStatsOut, rowDots included).
func BenchmarkSoftmaxGradBlock(b *testing.B) {
	const m, l0, w, hs = 32, 97, 128, 32
	scores := make([]float32, m*w)
	for i := range scores {
		scores[i] = float32(i%37) * 0.1
	}
	stats := make([]float32, 2*m)
	p := append([]float32(nil), scores...)
	softmaxBlock(p, w, m, l0, 1, w, stats)
	dp := make([]float32, m*w)
	for i := range dp {
		dp[i] = float32(i%11) * 0.01
	}
	ds, dout, out, dots := make([]float32, m*w), make([]float32, m*128), make([]float32, m*128), make([]float32, m)
	for _, given := range []bool{false, true} {
		name := map[bool]string{false: "sum", true: "dots"}[given]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				copy(p, scores)
				copy(ds, dp)
				if given {
					rowDots(dots, dout, 128, out, 128, m, hs)
					softmaxGradBlock(p, ds, w, m, l0, 1, w, stats, dots)
				} else {
					softmaxGradBlock(p, ds, w, m, l0, 1, w, stats, nil)
				}
			}
		})
	}
}
