package gemm

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// gemmShape is one product of the benchmarks: C[m×n] = op(A)·op(B) + beta·C with op(A) m×k.
type gemmShape struct {
	name           string
	transA, transB bool
	m, n, k        int
	beta           float32
}

// linearShapes are the three products of a linear layer with In inputs and Out outputs on rows
// tokens, with the transposes and beta nn.Linear uses (its weight is stored Out×In; a bias is
// written first and the product added to it): the forward y = x·Wᵀ, the input gradient
// dx = dy·W and the weight gradient dW += dyᵀ·x, whose depth is the token count.
func linearShapes(name string, in, out, rows int, bias bool) []gemmShape {
	var fwdBeta float32
	if bias {
		fwdBeta = 1
	}
	return []gemmShape{
		{name + "_fwd", false, true, rows, out, in, fwdBeta},
		{name + "_dx", false, false, rows, in, out, 0},
		{name + "_dw", true, false, out, in, rows, 1}, // accumulates into the gradient
	}
}

// gptStepShapes are the linear layers' products of one training step of the byte-level GPT
// with model width d on tokens = batch×ctx rows: attention qkv (d → 3d) and output (d → d)
// projections, the MLP (d → 4d → d) and the 256-way head.
func gptStepShapes(d, tokens int) []gemmShape {
	var s []gemmShape
	for _, l := range []struct {
		name    string
		in, out int
		bias    bool
	}{{"qkv", d, 3 * d, true}, {"proj", d, d, true}, {"fc", d, 4 * d, true}, {"fcout", 4 * d, d, true}, {"head", d, 256, false}} {
		s = append(s, linearShapes(l.name, l.in, l.out, tokens, l.bias)...)
	}
	return s
}

// gptShapes are the substrate's matmuls for the byte-level GPT (d=128, 4 layers, ctx 128,
// batch 32, 4 heads of 32): the linear layers' products, and attention's per-head products.
var gptShapes = append(gptStepShapes(128, 4096), []gemmShape{
	{"att_qk", false, true, 128, 128, 32, 0},
	{"att_pv", false, false, 128, 32, 128, 0},
	{"att_dv", true, false, 128, 32, 128, 0},
}...)

// BenchmarkGPTStep reports Fast's GFLOP/s on the linear layers' products of a GPT training
// step at the model sizes of the speed table: d=128 on 4096 tokens (batch 32 × ctx 128) and
// d=512 on 2048 tokens (batch 8 × ctx 256). Beside the mean over all calls it reports the
// fastest call ("best-GFLOP/s"), which other processes on a shared machine disturb far less,
// and both as a share of PeakGFLOPS.
// Run: go test ./gemm -run=^$ -bench=GPTStep -benchtime=200ms -count=6 | benchstat -
func BenchmarkGPTStep(b *testing.B) {
	peak := benchPeak()
	for _, size := range []struct{ d, tokens int }{{128, 4096}, {512, 2048}} {
		for _, s := range gptStepShapes(size.d, size.tokens) {
			b.Run(fmt.Sprintf("d=%d/shape=%s", size.d, s.name), func(b *testing.B) {
				a, bb, c, lda, ldb := benchOperands(s.transA, s.transB, s.m, s.n, s.k)
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
				best := time.Duration(1 << 62)
				cpu0, ok := ProcessCPU()
				for b.Loop() {
					start := time.Now()
					Fast{}.Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, s.beta, c, s.n)
					best = min(best, time.Since(start))
				}
				gflops := reportGFLOPS(b, flops, cpu0, ok)
				bestGF := flops / best.Seconds() / 1e9
				b.ReportMetric(bestGF, "best-GFLOP/s")
				if peak > 0 {
					b.ReportMetric(100*gflops/peak, "%peak")
					b.ReportMetric(100*bestGF/peak, "best-%peak")
				}
			})
		}
	}
}

// benchPeak returns PeakGFLOPS for the current GOMAXPROCS (benchmarks run under each -cpu
// value), measured once per value.
func benchPeak() float64 {
	peaks.Lock()
	defer peaks.Unlock()
	procs := runtime.GOMAXPROCS(0)
	if _, ok := peaks.byProcs[procs]; !ok {
		peaks.byProcs[procs] = PeakGFLOPS(300 * time.Millisecond)
	}
	return peaks.byProcs[procs]
}

var peaks = struct {
	sync.Mutex
	byProcs map[int]float64
}{byProcs: map[int]float64{}}

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

// benchSgemm times kern on one shape and returns the GFLOP/s it reports.
func benchSgemm(b *testing.B, kern Kernel, transA, transB bool, m, n, k int) float64 {
	a, bb, c, lda, ldb := benchOperands(transA, transB, m, n, k)
	b.ResetTimer()
	cpu0, ok := ProcessCPU()
	for b.Loop() {
		kern.Sgemm(transA, transB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
	}
	return reportGFLOPS(b, 2*float64(m)*float64(n)*float64(k), cpu0, ok)
}

// benchOperands returns operands of C[m×n] = op(A)·op(B) filled with small multiples of 0.1,
// and the strides of A and B as stored.
func benchOperands(transA, transB bool, m, n, k int) (a, b, c []float32, lda, ldb int) {
	a = make([]float32, m*k)
	b = make([]float32, k*n)
	c = make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7) * 0.1
	}
	for i := range b {
		b[i] = float32(i%5) * 0.1
	}
	lda, ldb = strides(transA, transB, m, n, k)
	return a, b, c, lda, ldb
}

// reportGFLOPS reports GFLOP/s over wall time and, where the OS tells CPU time, GFLOP/s per
// core-second (CPU time of all the process's threads), the figure to compare on a loaded machine.
func reportGFLOPS(b *testing.B, flopsPerOp float64, cpu0 time.Duration, ok bool) float64 {
	flops := flopsPerOp * float64(b.N)
	gflops := flops / b.Elapsed().Seconds() / 1e9
	b.ReportMetric(gflops, "GFLOP/s")
	if cpu1, ok1 := ProcessCPU(); ok && ok1 && cpu1 > cpu0 {
		b.ReportMetric(flops/(cpu1-cpu0).Seconds()/1e9, "GFLOP/core-s")
	}
	return gflops
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
