package nn

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fadam-go/fadam/gemm"
)

// BenchmarkStepDW runs only the weight-gradient products dW += dyᵀ·x of a GPT training step
// (see gptStepProducts), one sub-benchmark per kind of product over all its blocks in step
// order, with the same untimed copies standing in for the passes that write their inputs, so a
// profile of one sub-benchmark holds that product alone:
//
//	go test ./nn -run '^$' -bench 'StepDW/d=128/proj' -benchtime 20x -cpuprofile p.prof
//
// It reports GFLOP/s from the fastest run of each product (summed over the blocks), the mean,
// and GFLOP per CPU-second of the process while the products ran (which other processes'
// load disturbs less than wall time; the pool's workers spin between chunks, which counts).
func BenchmarkStepDW(b *testing.B) {
	for _, size := range []struct{ d, layers, tokens int }{{128, 4, 4096}, {512, 8, 2048}} {
		ps := gptStepProducts(size.d, size.layers, size.tokens)
		for _, name := range []string{"qkv", "proj", "fc", "fcout", "head"} {
			b.Run(fmt.Sprintf("d=%d/%s", size.d, name), func(b *testing.B) {
				var mine []*stepProduct
				for i := range ps {
					if ps[i].name == name+"_dw" {
						mine = append(mine, &ps[i])
					}
				}
				var job matmulJob
				var s chunkSplitter
				best := make([]time.Duration, len(mine))
				var total, cpu time.Duration
				var flops float64
				for b.Loop() {
					for i, p := range mine {
						if !strings.HasSuffix(p.name, "_dw") {
							b.Fatalf("%s is not a weight gradient", p.name)
						}
						p.touch()
						cpu0, _ := gemm.ProcessCPU()
						start := time.Now()
						matmul(&job, &s, p.transA, p.transB, p.m, p.n, p.k, 1, p.a, p.lda, p.b, p.ldb, p.beta, p.c, p.ldc)
						el := time.Since(start)
						cpu1, _ := gemm.ProcessCPU()
						cpu += cpu1 - cpu0
						if best[i] == 0 || el < best[i] {
							best[i] = el
						}
						total += el
						flops += 2 * float64(p.m*p.n*p.k)
					}
				}
				var fastest time.Duration
				for _, d := range best {
					fastest += d
				}
				b.ReportMetric(flops/float64(b.N)/fastest.Seconds()/1e9, "best-GFLOP/s")
				b.ReportMetric(flops/total.Seconds()/1e9, "GFLOP/s")
				if cpu > 0 {
					b.ReportMetric(flops/cpu.Seconds()/1e9, "GFLOP/core-s")
				}
			})
		}
	}
}
