//go:build amd64 && !purego

package gemm

import (
	"strconv"
	"testing"
)

// BenchmarkMicroKernel runs the AVX-512 micro-kernel alone on packed panels that stay in cache:
// the ceiling for what the blocked loops around it can reach on one core.
func BenchmarkMicroKernel(b *testing.B) {
	for _, k := range []int{128, 256, 512} {
		b.Run("k="+strconv.Itoa(k), func(b *testing.B) {
			mk := avx512Kernel
			a := make([]float32, mk.mr*k)
			bp := make([]float32, mk.nr*k)
			c := make([]float32, mk.mr*mk.nr)
			for b.Loop() {
				kernelAVX512(k, &a[0], mk.mr, 1, &bp[0], &c[0], mk.nr, 1, 1)
			}
			b.ReportMetric(2*float64(mk.mr*mk.nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
