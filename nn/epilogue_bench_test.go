package nn

import (
	"fmt"
	"testing"
)

// The fused layers against their unfused equivalents on the GPT's d=128 (and d=512) shapes,
// 4096 (2048) rows: "fused" runs GELU's backward and the bias gradient in the product's
// epilogue, "separate" in a pass of its own. Run both in one process and compare the ratio, e.g.
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

// BenchmarkEpilogueGELUBackward is the MLP's proj backward with GELU's backward and fc's bias
// gradient (4d → d).
func BenchmarkEpilogueGELUBackward(b *testing.B) {
	for _, s := range epilogueBenchShapes {
		rows, d := s[0], s[1]
		fc, x := benchLinear(rows, d, 4*d)
		proj, _ := benchLinear(rows, 4*d, d)
		n := rows * 4 * d
		pre, act, sig := make([]float32, n), make([]float32, n), make([]float32, n)
		var g GELU
		fc.ForwardNoBias(pre, x, rows)
		g.ForwardBias(act, sig, pre, fc.B.Value)
		dy, dx, tmp := benchRand(rows*d, 5), make([]float32, n), make([]float32, n)
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
