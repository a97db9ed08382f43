package fadam

import "testing"

// BenchmarkLanes times the fused loops of the FAdam passes on 4096 elements (in cache, so
// this is their compute cost) with float32 and bfloat16 state:
//
//	go test -run '^$' -bench Lanes -count 6 . | tee lanes.txt; benchstat lanes.txt
func BenchmarkLanes(b *testing.B) {
	const n = 4096
	g, theta, sf, m := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	sf16, m16 := newBF16(n, 1), newBF16(n, 0)
	for i := range g {
		g[i], theta[i], sf[i] = 0.01*float32(i%7-3), 0.5, 1
	}
	key := newRoundKey(1, 2, 3, streamM)
	var lanes [8]float64
	b.SetBytes(n)
	b.Run("fisher/float32", func(b *testing.B) {
		for b.Loop() {
			fisherLanes(g, sf, theta, 0.9, 0.1, 1e-8, &lanes)
		}
	})
	b.Run("fisher/bfloat16", func(b *testing.B) {
		for b.Loop() {
			fisherLanesBF16(g, sf16, theta, 0.9, 0.1, 1e-8, key, 0, &lanes)
		}
	})
	b.Run("update/float32", func(b *testing.B) {
		for b.Loop() {
			updateLanes(g, sf, m, theta, 0.9, 0.1, 1e-3, 1e-3, 1e-8)
		}
	})
	b.Run("update/bfloat16", func(b *testing.B) {
		for b.Loop() {
			updateLanesBF16(g, sf16, m16, theta, 0.9, 0.1, 1e-3, 1e-3, 1e-8, key, 0)
		}
	})
}
