package nn_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fadam-go/fadam/nn"
	"github.com/fadam-go/fadam/nn/gradcheck"
)

func ctcTestLogits(t, v int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	x := make([]float32, t*v)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 1.5)
	}
	return x
}

// ctcTestBruteForce sums the probability of every one of the V^T frame alignments whose
// collapse (merge repeats, drop blanks) equals labels, in float64: an independent definition
// of the CTC likelihood.
func ctcTestBruteForce(logits []float32, t, v int, labels []int32) float64 {
	probs := make([]float64, t*v)
	for f := range t {
		var sum float64
		for k := range v {
			sum += math.Exp(float64(logits[f*v+k]))
		}
		for k := range v {
			probs[f*v+k] = math.Exp(float64(logits[f*v+k])) / sum
		}
	}
	path := make([]int, t)
	var total float64
	for {
		var collapsed []int32
		prev := -1
		p := 1.0
		for f, k := range path {
			p *= probs[f*v+k]
			if k != prev && k != 0 {
				collapsed = append(collapsed, int32(k))
			}
			prev = k
		}
		if slices.Equal(collapsed, labels) {
			total += p
		}
		f := 0 // next path in lexicographic order
		for f < t && path[f] == v-1 {
			path[f] = 0
			f++
		}
		if f == t {
			return -math.Log(total)
		}
		path[f]++
	}
}

func TestCTCLossMatchesBruteForce(t *testing.T) {
	cases := []struct {
		t, v   int
		labels []int32
	}{
		{1, 2, []int32{1}},
		{3, 3, []int32{1, 2}},
		{4, 3, []int32{1, 1}}, // repeat: needs a blank between
		{3, 3, []int32{2, 2}}, // exactly the minimum length
		{5, 3, []int32{2}},
		{5, 4, []int32{3, 1, 3}},
		{4, 3, nil}, // empty transcript: all blanks
		{6, 3, []int32{1, 2, 1}},
	}
	for i, c := range cases {
		logits := ctcTestLogits(c.t, c.v, uint64(i))
		got, err := nn.CTCLoss(nil, logits, c.t, c.v, c.labels, 1)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		want := ctcTestBruteForce(logits, c.t, c.v, c.labels)
		if math.Abs(got-want) > 1e-9*math.Max(1, want) {
			t.Errorf("case %d (T=%d, labels %v): loss %.12g, brute force %.12g", i, c.t, c.labels, got, want)
		}
	}
}

func TestCTCLossGradient(t *testing.T) {
	cases := []struct {
		t, v   int
		labels []int32
	}{
		{6, 4, []int32{1, 2}},
		{8, 5, []int32{3, 3, 1}},
		{5, 3, nil},
		{40, 12, []int32{4, 7, 7, 2, 11, 1}},
	}
	for i, c := range cases {
		logits := ctcTestLogits(c.t, c.v, uint64(10+i))
		grad := make([]float32, len(logits))
		const scale = 0.5
		if _, err := nn.CTCLoss(grad, logits, c.t, c.v, c.labels, scale); err != nil {
			t.Fatal(err)
		}
		loss := func() float64 {
			l, err := nn.CTCLoss(nil, logits, c.t, c.v, c.labels, 1)
			if err != nil {
				t.Fatal(err)
			}
			return scale * l
		}
		r, err := gradcheck.Check(loss, logits, grad, 1e-2, 64, 1)
		if err != nil {
			t.Fatal(err)
		}
		if r.MaxRelErr > 2e-3 {
			t.Errorf("case %d: gradient mismatch %+v", i, r)
		}
		// Each frame's gradient sums to 0: softmax and the posterior γ are both distributions.
		for f := range c.t {
			var s float64
			for k := range c.v {
				s += float64(grad[f*c.v+k])
			}
			if math.Abs(s) > 1e-5 {
				t.Fatalf("case %d frame %d: gradient sums to %g", i, f, s)
			}
		}
	}
}

func TestCTCLossLongUtteranceStaysFinite(t *testing.T) {
	// 2000 frames of confident wrong predictions: probabilities far below float64's range.
	const T, V = 2000, 5
	logits := make([]float32, T*V)
	for f := range T {
		logits[f*V+4] = 30
	}
	grad := make([]float32, len(logits))
	l, err := nn.CTCLoss(grad, logits, T, V, []int32{1, 2, 3}, 1)
	if err != nil || math.IsInf(l, 0) || math.IsNaN(l) || l < 1000 {
		t.Fatalf("loss %g, err %v", l, err)
	}
	for _, g := range grad {
		if math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) {
			t.Fatal("non-finite gradient")
		}
	}
}

func TestCTCLossErrors(t *testing.T) {
	logits := ctcTestLogits(3, 4, 1)
	cases := []struct {
		name   string
		labels []int32
		want   string
	}{
		{"blank label", []int32{0}, "outside"},
		{"label too large", []int32{4}, "outside"},
		{"too many labels", []int32{1, 2, 3, 1}, "need at least 4 frames"},
		{"repeats need blanks", []int32{1, 1, 2}, "need at least 4 frames"},
	}
	for _, c := range cases {
		grad := make([]float32, len(logits))
		_, err := nn.CTCLoss(grad, logits, 3, 4, c.labels, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
		if slices.ContainsFunc(grad, func(g float32) bool { return g != 0 }) {
			t.Errorf("%s: gradient written on error", c.name)
		}
	}
}

func TestCTCBatchLoss(t *testing.T) {
	const T, V = 7, 4
	logits := ctcTestLogits(2*T, V, 5)
	frames := []int{7, 4}
	labels := [][]int32{{1, 2, 2}, {3}}
	grad := make([]float32, len(logits))
	got, err := nn.CTCBatchLoss(grad, logits, 2, T, V, frames, labels)
	if err != nil {
		t.Fatal(err)
	}
	l0, _ := nn.CTCLoss(nil, logits[:T*V], T, V, labels[0], 1)
	l1, _ := nn.CTCLoss(nil, logits[T*V:(T+4)*V], 4, V, labels[1], 1)
	if math.Abs(got-(l0+l1)/2) > 1e-12 {
		t.Fatalf("batch loss %g, want %g", got, (l0+l1)/2)
	}
	for i := (T + 4) * V; i < 2*T*V; i++ {
		if grad[i] != 0 {
			t.Fatal("padded frames got gradient")
		}
	}
	loss := func() float64 { l, _ := nn.CTCBatchLoss(nil, logits, 2, T, V, frames, labels); return l }
	if r, _ := gradcheck.Check(loss, logits, grad, 1e-2, 0, 1); r.MaxRelErr > 2e-3 {
		t.Fatalf("batch gradient mismatch %+v", r)
	}
	if _, err := nn.CTCBatchLoss(nil, logits, 2, T, V, []int{8, 1}, labels); err == nil {
		t.Fatal("frames beyond padding accepted")
	}
}

func TestCTCGreedyDecode(t *testing.T) {
	const V = 4
	cases := []struct {
		best []int
		want []int32
	}{
		{[]int{0, 0, 0}, nil},
		{[]int{1, 1, 0, 1, 2, 2, 0}, []int32{1, 1, 2}},
		{[]int{3, 0, 3, 3, 1}, []int32{3, 3, 1}},
		{[]int{2}, []int32{2}},
	}
	for _, c := range cases {
		logits := make([]float32, len(c.best)*V)
		for f, k := range c.best {
			logits[f*V+k] = 1
		}
		if got := nn.CTCGreedyDecode(logits, len(c.best), V); !slices.Equal(got, c.want) {
			t.Errorf("best path %v decodes to %v, want %v", c.best, got, c.want)
		}
	}
}
