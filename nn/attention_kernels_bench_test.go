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
