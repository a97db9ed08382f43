package nn

import (
	"fmt"
	"testing"
)

// The fused layers against their unfused equivalents on the GPT's d=128 (and d=512) shapes,
// 4096 (2048) rows: "fused" adds the bias, the residual or GELU in the product's epilogue,
// "separate" in a pass of its own. Run both in one process and compare the ratio, e.g.
//
//	go test -run '^$' -bench Epilogue -count 6 ./nn

func benchLinear(rows, in, out int) (*Linear, []float32) {
	l := NewLinear("l", in, out, true)
	copy(l.W.Value, benchRand(in*out, 1))
	copy(l.B.Value, benchRand(out, 2))
	return l, benchRand(rows*in, 3)
}

func benchRand(n int, seed float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32((i*7919)%1000)/1000 - 0.5 + seed*1e-3
	}
	return x
}

var epilogueBenchShapes = [][2]int{{4096, 128}, {2048, 512}}

// BenchmarkEpilogueResidual is the residual projection y = res + x·Wᵀ + b (attn.proj).
func BenchmarkEpilogueResidual(b *testing.B) {
	for _, s := range epilogueBenchShapes {
		rows, d := s[0], s[1]
		l, x := benchLinear(rows, d, d)
		res, y := benchRand(rows*d, 4), make([]float32, rows*d)
		b.Run(fmt.Sprintf("d=%d/fused", d), func(b *testing.B) {
			for b.Loop() {
				l.ForwardResidual(y, res, x, rows)
			}
		})
		b.Run(fmt.Sprintf("d=%d/separate", d), func(b *testing.B) {
			for b.Loop() { // the pre-pass y = res + b, then the product accumulates
				l.bias = linearBiasJob{l: l, y: y, res: res}
				runChunks(&l.bias, rows, minChunk(linearBiasMinElems/l.Out), &l.split)
				matmul(&l.mm, &l.split, false, true, rows, d, d, 1, x, d, l.W.Value, d, 1, y, d)
			}
		})
	}
}

// BenchmarkEpilogueGELUForward is the MLP's fc with bias and GELU (d → 4d).
func BenchmarkEpilogueGELUForward(b *testing.B) {
	for _, s := range epilogueBenchShapes {
		rows, d := s[0], s[1]
		l, x := benchLinear(rows, d, 4*d)
		pre, act, sig := make([]float32, rows*4*d), make([]float32, rows*4*d), make([]float32, rows*4*d)
		var g GELU
		b.Run(fmt.Sprintf("d=%d/fused", d), func(b *testing.B) {
			for b.Loop() {
				l.ForwardGELU(act, sig, pre, x, rows)
			}
		})
		b.Run(fmt.Sprintf("d=%d/separate", d), func(b *testing.B) {
			for b.Loop() {
				l.ForwardNoBias(pre, x, rows)
				g.ForwardBias(act, sig, pre, l.B.Value)
			}
		})
	}
}

// BenchmarkEpilogueGELUBackward is the MLP's proj backward with GELU's backward and fc's bias
// gradient (4d → d).
func BenchmarkEpilogueGELUBackward(b *testing.B) {
	for _, s := range epilogueBenchShapes {
		rows, d := s[0], s[1]
		fc, x := benchLinear(rows, d, 4*d)
		proj, _ := benchLinear(rows, 4*d, d)
		n := rows * 4 * d
		pre, act, sig := make([]float32, n), make([]float32, n), make([]float32, n)
		fc.ForwardGELU(act, sig, pre, x, rows)
		dy, dx, tmp := benchRand(rows*d, 5), make([]float32, n), make([]float32, n)
		var g GELU
		b.Run(fmt.Sprintf("d=%d/fused", d), func(b *testing.B) {
			for b.Loop() {
				proj.BackwardSetGELU(dx, dy, act, rows, pre, fc.B.Value, sig, fc.B.Grad)
			}
		})
		b.Run(fmt.Sprintf("d=%d/separate", d), func(b *testing.B) {
			for b.Loop() {
				proj.BackwardSet(tmp, dy, act, rows)
				g.BackwardSetBias(dx, tmp, pre, fc.B.Value, sig, fc.B.Grad)
			}
		})
	}
}
