//go:build amd64 && !purego

package gemm

import (
	"fmt"
	"runtime"
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

// BenchmarkMicroKernelBlock is the ceiling of the blocked products inside a GPT step: one
// goroutine per core (RunParallel, so -cpu 1,2 compares one core with all of them), each
// multiplying its own packed A block of the given height (96 rows: a row chain's block) by a
// packed 512×2048 B (a d=512 model's fc weight, at gemm's depth block of 512), one 32-column
// micro-panel at a time against every 12-row A panel, as gemm.Fast's loops do. "cold" cycles
// through eight B and C copies (64 MB in all, more than the last-level cache), as the step's
// weights and outputs arrive from memory; "hot" reuses one. Only the micro-kernel runs: no
// packing, no epilogue, no handoff between goroutines. It reports GFLOP/s of all goroutines
// and their share of PeakGFLOPS for the same GOMAXPROCS.
// Run: go test ./gemm -run=^$ -bench=MicroKernelBlock -cpu 1,2 -count 5 | benchstat -
func BenchmarkMicroKernelBlock(b *testing.B) {
	if bestKernel != avx512Kernel {
		b.Skip("no AVX-512")
	}
	const kc, n = 512, 2048
	mk := avx512Kernel
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(i%7) * 0.1
		}
		return x
	}
	for _, rows := range []int{96, 192, 384} {
		for _, copies := range []int{1, 8} {
			name := fmt.Sprintf("rows=%d/%s", rows, map[int]string{1: "hot", 8: "cold"}[copies])
			b.Run(name, func(b *testing.B) {
				type operands struct {
					a      []float32
					bs, cs [][]float32
				}
				// One set of operands per goroutine, made before the clock starts.
				sets := make(chan operands, runtime.GOMAXPROCS(0))
				for range cap(sets) {
					o := operands{a: fill(rows * kc), bs: make([][]float32, copies), cs: make([][]float32, copies)}
					for i := range o.bs {
						o.bs[i], o.cs[i] = fill(kc*n), make([]float32, rows*n)
					}
					sets <- o
				}
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					o := <-sets
					ps := mk.mr * kc
					for it := 0; pb.Next(); it++ {
						bp, c := o.bs[it%copies], o.cs[it%copies]
						for jr := 0; jr < n; jr += mk.nr {
							for ir := 0; ir < rows; ir += mk.mr {
								kernelAVX512(kc, &o.a[ir/mk.mr*ps], mk.mr, 1, &bp[jr/mk.nr*kc*mk.nr], &c[ir*n+jr], n, 1, 0)
							}
						}
					}
				})
				peak := benchPeak() // here, where -cpu has set GOMAXPROCS
				gflops := 2 * float64(rows*n*kc) * float64(b.N) / b.Elapsed().Seconds() / 1e9
				b.ReportMetric(gflops, "GFLOP/s")
				if peak > 0 {
					b.ReportMetric(100*gflops/peak, "%peak")
				}
			})
		}
	}
}
