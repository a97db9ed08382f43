package gemm

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// gptShapes are the substrate's matmuls for the byte-level GPT (d=128, 4 layers, ctx 128,
// batch 32, 4 heads of 32): forward, and the backward forms with a transposed operand.
var gptShapes = []struct {
	name           string
	transA, transB bool
	m, n, k        int
}{
	{"qkv_fwd", false, false, 4096, 384, 128},
	{"qkv_dx", false, true, 4096, 128, 384},
	{"qkv_dw", true, false, 128, 384, 4096},
	{"up_fwd", false, false, 4096, 512, 128},
	{"up_dx", false, true, 4096, 128, 512},
	{"up_dw", true, false, 128, 512, 4096},
	{"down_fwd", false, false, 4096, 128, 512},
	{"down_dw", true, false, 512, 128, 4096},
	{"att_qk", false, true, 128, 128, 32},
	{"att_pv", false, false, 128, 32, 128},
	{"att_dv", true, false, 128, 32, 128},
}

// BenchmarkGPT reports GFLOP/s for each GPT shape on gonum and on Fast (Default).
// Run: go test ./gemm -run=^$ -bench=GPT$ -count=6 | benchstat -col /kernel -
func BenchmarkGPT(b *testing.B) {
	for _, s := range gptShapes {
		for _, kern := range []Kernel{Gonum{}, Fast{}} {
			b.Run(fmt.Sprintf("shape=%s/kernel=%s", s.name, benchName(kern)), func(b *testing.B) {
				benchSgemm(b, kern, s.transA, s.transB, s.m, s.n, s.k)
			})
		}
	}
}

func benchSgemm(b *testing.B, kern Kernel, transA, transB bool, m, n, k int) {
	a := make([]float32, m*k)
	bb := make([]float32, k*n)
	c := make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7) * 0.1
	}
	for i := range bb {
		bb[i] = float32(i%5) * 0.1
	}
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	b.ResetTimer()
	cpu0, ok := ProcessCPU()
	for b.Loop() {
		kern.Sgemm(transA, transB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
	}
	reportGFLOPS(b, 2*float64(m)*float64(n)*float64(k), cpu0, ok)
}

// reportGFLOPS reports GFLOP/s over wall time and, where the OS tells CPU time, GFLOP/s per
// core-second (CPU time of all the process's threads), the figure to compare on a loaded machine.
func reportGFLOPS(b *testing.B, flopsPerOp float64, cpu0 time.Duration, ok bool) {
	flops := flopsPerOp * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu1, ok1 := ProcessCPU(); ok && ok1 && cpu1 > cpu0 {
		b.ReportMetric(flops/(cpu1-cpu0).Seconds()/1e9, "GFLOP/core-s")
	}
}

// BenchmarkGPTVariants runs the GPT shapes on every other micro-kernel this CPU supports
// (AVX2 on AVX-512 machines, and the portable Go one), to show what the fallbacks give.
func BenchmarkGPTVariants(b *testing.B) {
	var ks []Kernel
	for _, mk := range append(asmKernels(), portableKernel) {
		if mk != bestKernel {
			ks = append(ks, Fast{mk: mk})
		}
	}
	for _, s := range gptShapes {
		for _, kern := range ks {
			b.Run(fmt.Sprintf("shape=%s/kernel=%s", s.name, benchName(kern)), func(b *testing.B) {
				benchSgemm(b, kern, s.transA, s.transB, s.m, s.n, s.k)
			})
		}
	}
}

// BenchmarkSmall covers the small-product path (naive loop or single-goroutine packing).
func BenchmarkSmall(b *testing.B) {
	for _, s := range []int{4, 8, 12, 16, 24, 32, 64} {
		for _, kern := range []Kernel{Gonum{}, Fast{}} {
			b.Run(fmt.Sprintf("n=%d/kernel=%s", s, benchName(kern)), func(b *testing.B) {
				benchSgemm(b, kern, false, true, s, s, s)
			})
		}
	}
}

// BenchmarkAttentionScores times the GPT's score products S = Q·Kᵀ for 32 sequences × 4
// heads (ctx 128, head size 32): one Sgemm per item versus one SgemmBatched call.
func BenchmarkAttentionScores(b *testing.B) {
	const seqs, ctx, heads, dh = 32, 128, 4, 32
	q, kk, offQ, offK, offS := attentionBatch(seqs, ctx, heads, dh)
	s := make([]float32, seqs*heads*ctx*ctx)
	flops := 2.0 * ctx * ctx * dh * seqs * heads
	for _, kern := range []Kernel{Gonum{}, Fast{}} {
		b.Run("mode=loop/kernel="+benchName(kern), func(b *testing.B) {
			cpu0, ok := ProcessCPU()
			for b.Loop() {
				for i := range offQ {
					kern.Sgemm(false, true, ctx, ctx, dh, 1, q[offQ[i]:], heads*dh, kk[offK[i]:], heads*dh, 0, s[offS[i]:], ctx)
				}
			}
			reportGFLOPS(b, flops, cpu0, ok)
		})
		b.Run("mode=batched/kernel="+benchName(kern), func(b *testing.B) {
			cpu0, ok := ProcessCPU()
			for b.Loop() {
				SgemmBatched(kern, false, true, ctx, ctx, dh, 1, q, heads*dh, offQ, kk, heads*dh, offK, 0, s, ctx, offS)
			}
			reportGFLOPS(b, flops, cpu0, ok)
		})
	}
}

// benchName is Name without slashes, so benchstat sees one kernel=… key per kernel.
func benchName(k Kernel) string { return strings.ReplaceAll(Name(k), "/", "-") }
