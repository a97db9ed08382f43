//go:build amd64 && !purego

package gemm

import "testing"

// BenchmarkPackTransposedPanels packs op(B) = Wᵀ for a 512×128 weight W (the forward of a
// linear layer: 16 panels of 32 columns, k = 128) with the in-register transpose and with
// gathers, the two ways packAVX512 can do it.
func BenchmarkPackTransposedPanels(b *testing.B) {
	const n, k, w = 512, 128, 32
	src := make([]float32, n*k)
	dst := make([]float32, n*k)
	for _, v := range []struct {
		name string
		pack func(dst, src *float32)
	}{
		{"transpose", func(dst, src *float32) { packTransAVX512(dst, src, k, k, w, w) }},
		{"gather", func(dst, src *float32) { packGatherAVX512(dst, src, k, 1, k, w, w) }},
	} {
		b.Run(v.name, func(b *testing.B) {
			for b.Loop() {
				for jp := 0; jp < n; jp += w {
					v.pack(&dst[jp*k], &src[jp*k])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(n*k), "ns/elem")
		})
	}
}
