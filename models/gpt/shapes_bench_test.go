package gpt

import (
	"fmt"
	"testing"

	"github.com/fadam-go/fadam/gemm"
)

// BenchmarkCompareShapes times each matrix product of one training step of the `fadam compare`
// default model (d=64, 2 layers, ctx 64, batch 16: 1024 rows) through gemm.Default, in the
// transpositions nn.Linear uses: forward y = x·Wᵀ, backward dW += dyᵀ·x and dx = dy·W. It
// reports GFLOP/s per shape, the figure that sets how much of the step the products take.
func BenchmarkCompareShapes(b *testing.B) {
	const rows, d = 1024, 64
	for _, l := range []struct {
		name    string
		in, out int
	}{
		{"qkv", d, 3 * d}, {"proj", d, d}, {"fc", d, 4 * d}, {"fcOut", 4 * d, d}, {"head", d, Vocab},
	} {
		x, w := make([]float32, rows*l.in), make([]float32, l.out*l.in)
		y, dw := make([]float32, rows*l.out), make([]float32, l.out*l.in)
		for i := range x {
			x[i] = float32(i%7) - 3
		}
		for i := range w {
			w[i] = float32(i%5) - 2
		}
		flop := 2 * float64(rows*l.in*l.out)
		for _, p := range []struct {
			kind string
			run  func()
		}{
			{"fwd", func() { gemm.Default.Sgemm(false, true, rows, l.out, l.in, 1, x, l.in, w, l.in, 0, y, l.out) }},
			{"dW", func() { gemm.Default.Sgemm(true, false, l.out, l.in, rows, 1, y, l.out, x, l.in, 1, dw, l.in) }},
			{"dX", func() { gemm.Default.Sgemm(false, false, rows, l.in, l.out, 1, y, l.out, w, l.in, 0, x, l.in) }},
		} {
			b.Run(fmt.Sprintf("%s-%s", l.name, p.kind), func(b *testing.B) {
				for b.Loop() {
					p.run()
				}
				b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
