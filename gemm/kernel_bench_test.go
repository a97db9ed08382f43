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

// BenchmarkMicroKernelSweep computes the 8 tiles of a 96-row block against one B panel, all in
// cache, with one kernel call per tile ("calls", as task.gemm did before the sweep) and with
// one call of the sweep ("sweep"): the difference is the per-call overhead the sweep removes.
func BenchmarkMicroKernelSweep(b *testing.B) {
	const tiles = 8
	for _, k := range []int{128, 256, 512} {
		mk := avx512Kernel
		ps := panelStride(k, mk.mr)
		a := make([]float32, tiles*ps)
		bp := make([]float32, mk.nr*k)
		ldc := 128 // C rows of the d=128 products
		c := make([]float32, tiles*mk.mr*ldc)
		flops := 2 * float64(tiles*mk.mr*mk.nr*k)
		b.Run("k="+strconv.Itoa(k)+"/calls", func(b *testing.B) {
			for b.Loop() {
				for t := 0; t < tiles; t++ {
					kernelAVX512(k, &a[t*ps], mk.mr, 1, &bp[0], &c[t*mk.mr*ldc], ldc, 1, 1)
				}
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run("k="+strconv.Itoa(k)+"/sweep", func(b *testing.B) {
			for b.Loop() {
				kernelAVX512Sweep(k, &a[0], mk.mr, 1, ps, &bp[0], &c[0], ldc, tiles, 1, 1)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
