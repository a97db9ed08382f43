package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fadam-go/fadam/gemm"
)

// TestMatmulMatchesSgemm checks that a product split into blocks (every block on its own, and
// through the worker pool) gives the same bits as one gemm.Default.Sgemm call, in every
// transposition, with beta 0 and 1, on shapes whose blocks end in partial tiles; and that a
// split product allocates nothing.
func TestMatmulMatchesSgemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func(n int) []float32 { return normals(rng, n) }
	for _, sh := range [][3]int{{1024, 192, 64}, {64, 64, 1024}, {100, 333, 70}, {333, 100, 300}, {40, 2000, 16}, {7, 9, 5}} {
		m, n, k := sh[0], sh[1], sh[2]
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for _, beta := range []float32{0, 1} {
				name := fmt.Sprintf("%dx%dx%d/tA=%v/tB=%v/beta=%v", m, n, k, tr[0], tr[1], beta)
				lda, ldb := matmulStrides(tr[0], tr[1], m, n, k)
				a, b, c0 := fill(m*k), fill(k*n), fill(m*n)
				want := append([]float32(nil), c0...)
				gemm.Default.Sgemm(tr[0], tr[1], m, n, k, 0.5, a, lda, b, ldb, beta, want, n)

				var job matmulJob
				var s chunkSplitter
				got := append([]float32(nil), c0...)
				matmul(&job, &s, tr[0], tr[1], m, n, k, 0.5, a, lda, b, ldb, beta, got, n)
				bitsEqual(t, name+" pool", got, want)
				if splitsExactly(gemm.Default) {
					// Every block on its own, in reverse order, as the split for 2, 3 and
					// 5 goroutines cuts the product.
					for _, parts := range []int{2, 3, 5} {
						job.plan(parts)
						copy(got, c0)
						for u := job.nunits - 1; u >= 0; u-- {
							job.runChunk(u, u+1)
						}
						bitsEqual(t, fmt.Sprintf("%s blocks of %d parts", name, parts), got, want)
					}
				}
				// The split allocates nothing in steady state (gemm's buffers come from a pool
				// that a garbage collection may empty now and then, hence the average over 20
				// calls; gonum, the kernel without assembly, allocates on its own).
				if splitsExactly(gemm.Default) && !raceEnabled {
					if allocs := testing.AllocsPerRun(20, func() {
						matmul(&job, &s, tr[0], tr[1], m, n, k, 0.5, a, lda, b, ldb, beta, got, n)
					}); allocs != 0 {
						t.Fatalf("%s: %v allocations per product", name, allocs)
					}
				}
			}
		}
	}
}

// TestMatmulPlan checks the split of the GPT's products over two goroutines: chunks of equal
// micro-tile counts where the shape allows, and weight gradients cut along the side that
// duplicates less packing.
func TestMatmulPlan(t *testing.T) {
	for _, tc := range []struct {
		name         string
		transA       bool
		m, n, k      int
		splitM       bool
		unit, nunits int
	}{
		{"qkv forward", false, 4096, 384, 128, true, 32, 128}, // 2048 rows each
		{"fc input gradient", false, 4096, 128, 512, true, 32, 128},
		{"proj weight gradient", true, 128, 128, 4096, false, 32, 4}, // 48/80 rows would be 7 tiles against 6
		{"fc weight gradient", true, 512, 128, 4096, true, 32, 16},   // columns would pack all of op(A) twice
		{"fcout weight gradient", true, 128, 512, 4096, false, 32, 16},
		{"qkv weight gradient", true, 384, 128, 4096, true, 96, 4},
		{"too small", false, 64, 64, 64, true, 1, 1},
		{"thin", false, 1 << 20, 1, 1, true, 1, 1},
	} {
		j := matmulJob{transA: tc.transA, m: tc.m, n: tc.n, k: tc.k}
		j.plan(2)
		if j.splitM != tc.splitM || j.unit != tc.unit || j.nunits != tc.nunits {
			t.Errorf("%s (%d×%d×%d): splitM=%v unit=%d units=%d, want %v %d %d", tc.name, tc.m, tc.n, tc.k, j.splitM, j.unit, j.nunits, tc.splitM, tc.unit, tc.nunits)
		}
	}
}

func bitsEqual(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}
