package fadam

import (
	"fmt"
	"testing"
)

// BenchmarkLanes times the fused loops of FAdam's passes with float32 and bfloat16 state on one
// goroutine, on 4096 elements (in cache: their compute cost) and on 2^22 (from memory):
//
//	go test -run '^$' -bench Lanes -count 6 . | tee lanes.txt; benchstat lanes.txt
func BenchmarkLanes(b *testing.B) {
	for _, n := range []int{4096, 1 << 22} {
		g, theta, sf, m := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		sf16, m16 := newBF16(n, 1), newBF16(n, 0)
		for i := range g {
			g[i], theta[i], sf[i] = 0.01*float32(i%7-3), 0.5, 1
		}
		key := newRoundKey(1, 2, 3, streamM)
		var lanes [8]float64
		b.Run(fmt.Sprintf("fisher/float32/n=%d", n), func(b *testing.B) {
			b.SetBytes(16 * int64(n))
			for b.Loop() {
				fisherLanes(g, sf, theta, 0.9, 0.1, 1e-8, &lanes)
			}
		})
		b.Run(fmt.Sprintf("fisher/bfloat16/n=%d", n), func(b *testing.B) {
			b.SetBytes(12 * int64(n))
			for b.Loop() {
				fisherLanesBF16(g, sf16, theta, 0.9, 0.1, 1e-8, key, 0, &lanes)
			}
		})
		b.Run(fmt.Sprintf("update/float32/n=%d", n), func(b *testing.B) {
			b.SetBytes(24 * int64(n))
			for b.Loop() {
				updateLanes(g, sf, m, theta, 0.9, 0.1, 1e-3, 1e-3, 1e-8)
			}
		})
		b.Run(fmt.Sprintf("update/bfloat16/n=%d", n), func(b *testing.B) {
			b.SetBytes(18 * int64(n))
			for b.Loop() {
				updateLanesBF16(g, sf16, m16, theta, 0.9, 0.1, 1e-3, 1e-3, 1e-8, key, 0)
			}
		})
	}
}
