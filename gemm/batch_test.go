package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// attentionBatch lays out per-(sequence, head) score products S = Q·Kᵀ over activations of
// shape [seqs, ctx, heads·dh], the way the substrate's attention does.
func attentionBatch(seqs, ctx, heads, dh int) (q, kk []float32, offQ, offK, offS []int) {
	rng := rand.New(rand.NewPCG(5, 6))
	d := heads * dh
	q, kk = make([]float32, seqs*ctx*d), make([]float32, seqs*ctx*d)
	for i := range q {
		q[i], kk[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	for s := 0; s < seqs; s++ {
		for h := 0; h < heads; h++ {
			offQ = append(offQ, s*ctx*d+h*dh)
			offK = append(offK, s*ctx*d+h*dh)
			offS = append(offS, (s*heads+h)*ctx*ctx)
		}
	}
	return q, kk, offQ, offK, offS
}

func TestSgemmBatchedMatchesSgemm(t *testing.T) {
	for _, dims := range [][4]int{{4, 64, 4, 16}, {2, 5, 3, 2}, {1, 13, 2, 7}} {
		seqs, ctx, heads, dh := dims[0], dims[1], dims[2], dims[3]
		d := heads * dh
		q, kk, offQ, offK, offS := attentionBatch(seqs, ctx, heads, dh)
		for _, kern := range kernelsUnderTest() {
			for _, beta := range []float32{0, 0.5} {
				got := make([]float32, seqs*heads*ctx*ctx)
				want := make([]float32, len(got))
				for i := range got {
					got[i] = float32(i%3) - 1
					want[i] = got[i]
				}
				SgemmBatched(kern, false, true, ctx, ctx, dh, 0.25, q, d, offQ, kk, d, offK, beta, got, ctx, offS)
				for i := range offQ {
					kern.Sgemm(false, true, ctx, ctx, dh, 0.25, q[offQ[i]:], d, kk[offK[i]:], d, beta, want[offS[i]:], ctx)
				}
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s %v beta=%g: batched C[%d] = %g, per-item Sgemm gives %g", Name(kern), dims, beta, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestSgemmBatchedPanics(t *testing.T) {
	a := make([]float32, 16)
	for name, call := range map[string]func(){
		"lengths": func() {
			SgemmBatched(Fast{}, false, false, 2, 2, 2, 1, a, 2, []int{0}, a, 2, []int{0, 4}, 0, a, 2, []int{0})
		},
		"offset": func() {
			SgemmBatched(Fast{}, false, false, 2, 2, 2, 1, a, 2, []int{17}, a, 2, []int{0}, 0, a, 2, []int{0})
		},
		"item short": func() {
			SgemmBatched(Fast{}, false, false, 2, 2, 2, 1, a, 2, []int{14}, a, 2, []int{0}, 0, a, 2, []int{0})
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			call()
		})
	}
}

func TestSgemmBatchedNoSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	q, kk, offQ, offK, offS := attentionBatch(4, 64, 4, 16)
	s := make([]float32, 16*64*64)
	allocs := testing.AllocsPerRun(20, func() {
		SgemmBatched(Fast{}, false, true, 64, 64, 16, 1, q, 64, offQ, kk, 64, offK, 0, s, 64, offS)
	})
	if allocs > 0 {
		t.Errorf("%v allocations per call, want 0", allocs)
	}
}
