package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/fadam-go/fadam/gemm"
)

// withFast runs f with gemm.Default set to gemm.Fast, so that the split runs in every build
// (without assembly Default is gonum, whose products matmul never splits).
func withFast(f func()) {
	saved := gemm.Default
	gemm.Default = gemm.Fast{}
	defer func() { gemm.Default = saved }()
	f()
}

// TestMatmulDepthSplit checks products split along their depth (the weight-gradient shape:
// long depth, small C) against one gemm.Default.Sgemm call bit for bit: through the pool, and
// with every chunk run on its own, in reverse order, as a depth split for 2, 3 and 5 goroutines
// cuts the product, then the fold, rows in reverse order. It covers every transposition, beta
// 0 (over NaN), 1 and 0.5, partial tiles, and a last depth block one step deep; and checks
// that the split allocates nothing in steady state.
func TestMatmulDepthSplit(t *testing.T) {
	withFast(func() {
		kb := gemm.DepthBlock(gemm.Default)
		rng := rand.New(rand.NewPCG(5, 6))
		fill := func(n int) []float32 { return normals(rng, n) }
		for _, sh := range [][3]int{{64, 64, 8 * kb}, {50, 70, 5*kb + 1}, {13, 96, 3*kb + 100}} {
			m, n, k := sh[0], sh[1], sh[2]
			for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				lda, ldb := matmulStrides(tr[0], tr[1], m, n, k)
				a, b, c0 := fill(m*k), fill(k*n), fill(m*n)
				for _, beta := range []float32{0, 1, 0.5} {
					name := fmt.Sprintf("%dx%dx%d/tA=%v/tB=%v/beta=%v", m, n, k, tr[0], tr[1], beta)
					if beta == 0 {
						for i := range c0 {
							c0[i] = float32(math.NaN())
						}
					}
					want := append([]float32(nil), c0...)
					gemm.Default.Sgemm(tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, beta, want, n)

					var job matmulJob
					var s chunkSplitter
					got := append([]float32(nil), c0...)
					matmul(&job, &s, tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, beta, got, n)
					bitsEqual(t, name+" pool", got, want)
					for _, parts := range []int{2, 3, 5} {
						job.splitK = false
						job.planDepth(parts, -1) // as if C could not be cut
						if !job.splitK || job.kparts != min(parts, (k+kb-1)/kb) {
							t.Fatalf("%s: %d parts: splitK=%v kparts=%d, want a depth split", name, parts, job.splitK, job.kparts)
						}
						copy(got, c0)
						job.partials = make([]float32, (job.kblocks-job.kfirst)*m*n)
						for i := range job.partials {
							job.partials[i] = float32(math.NaN()) // every slot is overwritten
						}
						job.folding = false
						for i := job.kparts - 1; i >= 0; i-- {
							job.runChunk(i, i+1)
						}
						job.folding = true
						for r := m - 1; r >= 0; r-- {
							job.foldRows(r, r+1)
						}
						job.partials = nil
						bitsEqual(t, fmt.Sprintf("%s chunks of %d parts", name, parts), got, want)
					}
					if !raceEnabled {
						if allocs := testing.AllocsPerRun(20, func() {
							matmul(&job, &s, tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, beta, got, n)
						}); allocs != 0 {
							t.Fatalf("%s: %v allocations per product", name, allocs)
						}
					}
				}
			}
		}
	})
}

// TestMatmulDepthSplitConcurrent runs depth-split products on several goroutines at once (the
// partial products' buffers come from a shared pool) and checks each against one Sgemm call.
func TestMatmulDepthSplitConcurrent(t *testing.T) {
	withFast(func() {
		kb := gemm.DepthBlock(gemm.Default)
		const m, n = 64, 96
		k := 4*kb + 3
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for g := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(g), 9))
				a, b, c := normals(rng, k*m), normals(rng, k*n), make([]float32, m*n)
				want := make([]float32, m*n)
				gemm.Default.Sgemm(true, false, m, n, k, 1, a, m, b, n, 0, want, n)
				var job matmulJob
				var s chunkSplitter
				for range 5 {
					matmul(&job, &s, true, false, m, n, k, 1, a, m, b, n, 0, c, n)
					for i := range want {
						if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
							errs[g] = fmt.Errorf("goroutine %d: [%d] = %v, want %v", g, i, c[i], want[i])
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestMatmulDepthPlan checks which products plan splits along their depth on two goroutines:
// the GPT's weight gradients at d=128 (4096 tokens) and the head's at d=512 (2048 tokens), whose
// partial products fit matmulMaxPartials; not those with larger partials, nor products with
// alpha ≠ 1 or an epilogue (which a depth split cannot reproduce), nor a single depth block.
// The GPT's cases assume depth blocks of 512 (Zen 4); with other blocking only the rest run.
func TestMatmulDepthPlan(t *testing.T) {
	withFast(func() {
		kb := gemm.DepthBlock(gemm.Default)
		ep := &chunkEpilogue{}
		for _, tc := range []struct {
			name    string
			m, n, k int
			alpha   float32
			ep      gemm.Epilogue
			want    bool
		}{
			{"qkv dW d=128", 384, 128, 4096, 1, nil, true},
			{"proj dW d=128", 128, 128, 4096, 1, nil, true},
			{"fc dW d=128", 512, 128, 4096, 1, nil, true},
			{"fcout dW d=128", 128, 512, 4096, 1, nil, true},
			{"head dW d=128", 256, 128, 4096, 1, nil, true},
			{"head dW d=512", 256, 512, 2048, 1, nil, true},
			{"proj dW d=512", 512, 512, 2048, 1, nil, false}, // 2 MiB of partials
			{"fc dW d=512", 2048, 512, 2048, 1, nil, false},
			{"alpha 0.5", 128, 128, 4096, 0.5, nil, false},
			{"epilogue", 128, 128, 4096, 1, ep, false},
			{"one block", 4096, 128, kb, 1, nil, false},
		} {
			if kb != 512 && tc.name != "alpha 0.5" && tc.name != "epilogue" && tc.name != "one block" {
				continue // the choices below are those of Zen 4's blocking (see gemm.DepthBlock)
			}
			j := matmulJob{transA: true, m: tc.m, n: tc.n, k: tc.k, alpha: tc.alpha, ep: tc.ep}
			j.plan(2)
			if j.splitK != tc.want {
				t.Errorf("%s (%d×%d×%d): splitK=%v, want %v", tc.name, tc.m, tc.n, tc.k, j.splitK, tc.want)
			}
			if j.splitK && (j.kparts != 2 || j.kfirst != j.kblocks/2 || j.kblocks != (tc.k+kb-1)/kb) {
				t.Errorf("%s: kparts=%d kfirst=%d kblocks=%d", tc.name, j.kparts, j.kfirst, j.kblocks)
			}
		}
	})
}

// matmulStrides returns the row strides of op(A) (m×k) and op(B) (k×n) stored densely.
func matmulStrides(transA, transB bool, m, n, k int) (lda, ldb int) {
	lda, ldb = k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	return lda, ldb
}

// normals returns n standard normal draws from rng.
func normals(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}
