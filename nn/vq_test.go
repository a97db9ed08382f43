package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fadam-go/fadam/nn"
)

// vqTestSetup returns a quantizer with well-separated codes and inputs near them, so that
// finite-difference probes do not change the assignment.
func vqTestSetup(t *testing.T, n, k, d int) (*nn.VectorQuantizer, []float32) {
	t.Helper()
	q, err := nn.NewVectorQuantizer("vq", k, d, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	copy(q.Codebook.Value, substrateRand(k*d, 3, 1))
	noise := substrateRand(n*d, 0.3, 2)
	ze := make([]float32, n*d)
	for r := range n {
		c := (r * 7) % k
		for j := range d {
			ze[r*d+j] = q.Codebook.Value[c*d+j] + noise[r*d+j]
		}
	}
	return q, ze
}

func TestVectorQuantizerForward(t *testing.T) {
	const n, k, d = 20, 6, 4
	q, _ := vqTestSetup(t, n, k, d)
	ze := substrateRand(n*d, 3, 5)
	zq, idx := make([]float32, n*d), make([]int32, n)
	got := q.Forward(zq, idx, ze, n)
	var want float64
	for r := range n {
		best, bestDist := -1, math.Inf(1)
		for c := range k {
			var dist float64
			for j := range d {
				diff := float64(ze[r*d+j]) - float64(q.Codebook.Value[c*d+j])
				dist += diff * diff
			}
			if dist < bestDist {
				best, bestDist = c, dist
			}
		}
		if int(idx[r]) != best {
			t.Fatalf("row %d: code %d, want %d", r, idx[r], best)
		}
		for j := range d {
			if zq[r*d+j] != q.Codebook.Value[best*d+j] {
				t.Fatalf("row %d: zq is not code %d", r, best)
			}
		}
		want += bestDist
	}
	want /= n * d
	if math.Abs(got-want) > 1e-5*want {
		t.Fatalf("loss %v, want %v", got, want)
	}
}

func TestVectorQuantizerGradients(t *testing.T) {
	const n, k, d = 12, 5, 3
	q, ze := vqTestSetup(t, n, k, d)
	zq, idx := make([]float32, n*d), make([]int32, n)
	q.Forward(zq, idx, ze, n)
	const scale = 1.5

	// Without a downstream gradient, dze is the commitment gradient and the codebook gradient
	// the codebook-loss gradient: true gradients while the assignment holds.
	dze := make([]float32, n*d)
	nn.ZeroGrads(q.Params())
	q.Backward(dze, make([]float32, n*d), ze, zq, idx, n, scale)
	commitment := func() float64 { return scale * q.Beta * q.Forward(zq, idx, ze, n) }
	codebook := func() float64 { return scale * q.Forward(zq, idx, ze, n) }
	substrateGradcheck(t, "commitment/ze", commitment, ze, dze, 1e-2, 1e-2)
	substrateGradcheck(t, "codebook", codebook, q.Codebook.Value, q.Codebook.Grad, 1e-2, 1e-2)

	// The downstream gradient passes straight through, unchanged. (Forward again: the probes
	// left zq at a perturbed codebook.)
	q.Forward(zq, idx, ze, n)
	dzq := substrateRand(n*d, 1, 9)
	st := make([]float32, n*d)
	q.Backward(st, dzq, ze, zq, idx, n, scale)
	for i := range st {
		if d := st[i] - dze[i] - dzq[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("dze[%d] = %v, want straight-through %v + commitment %v", i, st[i], dzq[i], dze[i])
		}
	}
}

func TestVectorQuantizerInitFromData(t *testing.T) {
	const n, k, d = 10, 4, 2
	q, _ := nn.NewVectorQuantizer("vq", k, d, 0.25)
	ze := substrateRand(n*d, 1, 3)
	q.InitFromData(ze, n, rand.New(rand.NewPCG(1, 2)))
	zq, idx := make([]float32, n*d), make([]int32, n)
	q.Forward(zq, idx, ze, n)
	used := map[int32]bool{}
	for _, c := range idx {
		used[c] = true
	}
	if len(used) != k { // each code is one of the inputs, so it is nearest to at least that one
		t.Fatalf("%d of %d codes used after data initialisation", len(used), k)
	}
}

func TestVQPerplexity(t *testing.T) {
	for _, tc := range []struct {
		idx  []int32
		k    int
		want float64
	}{
		{[]int32{0, 1, 2, 3}, 4, 4},
		{[]int32{2, 2, 2}, 4, 1},
		{[]int32{0, 0, 1, 1}, 8, 2},
		{[]int32{0, 0, 0, 1}, 2, math.Exp(-(0.75*math.Log(0.75) + 0.25*math.Log(0.25)))},
		{nil, 3, 0},
	} {
		if got := nn.VQPerplexity(tc.idx, tc.k); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("VQPerplexity(%v) = %v, want %v", tc.idx, got, tc.want)
		}
	}
}

func TestNewVectorQuantizerErrors(t *testing.T) {
	for _, tc := range []struct {
		k, d int
		beta float64
	}{{0, 2, 0.25}, {3, 0, 0.25}, {3, 2, -1}, {3, 2, math.NaN()}} {
		if _, err := nn.NewVectorQuantizer("vq", tc.k, tc.d, tc.beta); err == nil {
			t.Errorf("NewVectorQuantizer(%d, %d, %v) accepted", tc.k, tc.d, tc.beta)
		}
	}
}

func TestVectorQuantizerRestartDead(t *testing.T) {
	const n, k, d = 6, 4, 2
	q, _ := nn.NewVectorQuantizer("vq", k, d, 0.25)
	// Codes 0 and 1 near the data, codes 2 and 3 far away: never chosen.
	copy(q.Codebook.Value, []float32{0, 0, 1, 1, 100, 100, -100, 100})
	ze := []float32{0.1, 0, 0.9, 1, 0, 0.2, 1, 1.1, 0.2, 0.1, 1.2, 0.8}
	zq, idx := make([]float32, n*d), make([]int32, n)
	q.Forward(zq, idx, ze, n)
	if moved := q.RestartDead(ze, n, rand.New(rand.NewPCG(1, 1))); moved != 2 {
		t.Fatalf("moved %d codes, want 2", moved)
	}
	for c := 2; c < 4; c++ {
		code := q.Codebook.Value[c*d : (c+1)*d]
		found := false
		for r := range n {
			found = found || (code[0] == ze[r*d] && code[1] == ze[r*d+1])
		}
		if !found {
			t.Fatalf("code %d = %v is not one of the inputs", c, code)
		}
	}
	if q.Codebook.Value[0] != 0 || q.Codebook.Value[2] != 1 {
		t.Fatal("a used code moved")
	}
	// The count starts afresh: with no Forward since, every code is dead.
	if moved := q.RestartDead(ze, n, rand.New(rand.NewPCG(1, 1))); moved != k {
		t.Fatalf("moved %d codes after a reset, want %d", moved, k)
	}
}
