package nn_test

import (
	"testing"

	"github.com/fadam-go/fadam/nn"
)

func BenchmarkGELUForwardBackward(b *testing.B) {
	x := substrateRand(1<<16, 1, 1)
	y, dx, sig := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
	var g nn.GELU
	for b.Loop() {
		g.Forward(y, sig, x)
		g.Backward(dx, y, x, sig)
	}
}

// BenchmarkGELUForwardBias times the MLP activation's forward as the d=128 GPT step runs it:
// fc's bias, then GELU, over 4096 rows of 512 features (8 MB, from memory as in the step).
func BenchmarkGELUForwardBias(b *testing.B) {
	const rows, n = 4096, 512
	x, bias := substrateRand(rows*n, 1, 1), substrateRand(n, 0.1, 2)
	y, sig := make([]float32, len(x)), make([]float32, len(x))
	var g nn.GELU
	for b.Loop() {
		g.ForwardBias(y, sig, x, bias)
	}
}

// BenchmarkSoftmaxCrossEntropyForward times the byte-level GPT's loss forward: 4096 rows of
// 256 logits.
func BenchmarkSoftmaxCrossEntropyForward(b *testing.B) {
	const rows, v = 4096, 256
	logits := substrateRand(rows*v, 2, 1)
	targets := make([]int32, rows)
	for i := range targets {
		targets[i] = int32(i * 7 % v)
	}
	probs := make([]float32, len(logits))
	s := nn.NewSoftmaxCrossEntropy(v, rows)
	for b.Loop() {
		s.Forward(probs, logits, targets, rows)
	}
}
