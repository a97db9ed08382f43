package gemm

import (
	"fmt"
	"testing"
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

// BenchmarkGPT reports GFLOP/s for each GPT shape on gonum and on Fast.
// Run: go test ./gemm -run=^$ -bench=GPT -count=5 | benchstat -col /kernel -
func BenchmarkGPT(b *testing.B) {
	for _, s := range gptShapes {
		for _, kern := range []Kernel{Gonum{}, Fast{}} {
			b.Run(fmt.Sprintf("shape=%s/kernel=%s", s.name, Name(kern)), func(b *testing.B) {
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
	for b.Loop() {
		kern.Sgemm(transA, transB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
