package nn_test

import (
	"testing"

	"github.com/fadam-go/fadam/nn"
)

// BenchmarkLinearSmall times forward and backward of the `fadam compare` model's qkv projection
// (1024 rows, 64 → 192 features).
func BenchmarkLinearSmall(b *testing.B) {
	const rows, in, out = 1024, 64, 192
	l := nn.NewLinear("qkv", in, out, true)
	copy(l.W.Value, substrateRand(in*out, 0.1, 1))
	x, y := substrateRand(rows*in, 1, 2), make([]float32, rows*out)
	dx := make([]float32, rows*in)
	for b.Loop() {
		l.Forward(y, x, rows)
		l.BackwardSet(dx, y, x, rows)
	}
	b.ReportMetric(3*2*rows*in*out*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
