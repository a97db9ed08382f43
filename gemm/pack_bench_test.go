package gemm

import "testing"

func BenchmarkPackA(b *testing.B) {
	a := make([]float32, 4096*512)
	dst := make([]float32, 192*256+16*192)
	for _, tr := range []bool{false, true} {
		name := "N"
		if tr {
			name = "T"
		}
		mk := bestKernel
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				packA(mk, tr, a, 512, 0, 192, 0, 256, dst, panelStride(256, mk.mr))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(192*256), "ns/elem")
		})
	}
}
