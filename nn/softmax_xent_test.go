package nn_test

import (
	"math"
	"testing"

	"github.com/fadam-go/fadam/nn"
)

func TestSoftmaxCrossEntropyValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		logits []float32
		target int32
		want   float64
	}{
		{"uniform", []float32{0, 0, 0, 0}, 2, math.Log(4)},
		{"hand", []float32{1, 2, 3}, 0, math.Log(math.Exp(1)+math.Exp(2)+math.Exp(3)) - 1},
		// Large logits overflow a naive exp; the stable form stays finite.
		{"large", []float32{1000, 0, -1000}, 1, 1000},
		{"certain", []float32{200, -200}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := len(tc.logits)
			s := nn.NewSoftmaxCrossEntropy(v, 1)
			probs := make([]float32, v)
			got := s.Forward(probs, tc.logits, []int32{tc.target}, 1)
			if math.Abs(got-tc.want) > 1e-5*(1+tc.want) || math.IsNaN(got) {
				t.Fatalf("loss %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSoftmaxCrossEntropyGradients(t *testing.T) {
	for _, rows := range []int{3, 300} {
		const v = 7
		s := nn.NewSoftmaxCrossEntropy(v, rows)
		logits := substrateRand(rows*v, 2, 1)
		targets := make([]int32, rows)
		for i := range targets {
			targets[i] = int32(i*5) % v
		}
		probs := make([]float32, rows*v)
		loss := func() float64 { return s.Forward(probs, logits, targets, rows) }
		loss()
		d := make([]float32, rows*v)
		s.Backward(d, probs, targets, rows)
		substrateGradcheck(t, "logits", loss, logits, d, 1e-2, 2e-2)
		// BackwardSet overwrites what is there with the same gradient.
		loss()
		clear(d)
		s.Backward(d, probs, targets, rows)
		set := substrateRand(rows*v, 1, 3)
		s.BackwardSet(set, probs, targets, rows)
		for i := range d {
			if set[i] != d[i] {
				t.Fatalf("rows=%d: BackwardSet gives %v at %d, Backward into zeros %v", rows, set[i], i, d[i])
			}
		}
	}
}
