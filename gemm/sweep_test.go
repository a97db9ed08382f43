package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSweepMatchesTileCalls checks that sweeping a micro-kernel down C (microKernel.sweepTiles,
// the assembly sweep where there is one) writes exactly the bits that one call of the kernel
// per tile writes, for every way task.gemm lays out A, for the alpha and beta values the store
// treats specially, and that it writes nothing outside the n tiles.
func TestSweepMatchesTileCalls(t *testing.T) {
	scalars := []struct{ alpha, beta float32 }{
		{1, 0}, {1, float32(math.Copysign(0, -1))}, {1, 1}, {2, 0}, {0.5, 1}, {1, 0.5}, {-1.5, 0.25},
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for _, mk := range append(asmKernels(), portableKernel) {
		mr, nr := mk.mr, mk.nr
		for _, k := range []int{1, 5, 128} { // task.gemm never runs k = 0 {
			for _, n := range []int{0, 1, 2, 5} {
				lda := n*mr + 3 // A stored as n·mr rows of k values, or transposed
				if k+3 > lda {
					lda = k + 3
				}
				ps := panelStride(k, mr)
				layouts := []struct {
					name                  string
					rsa, csa, astep, size int
				}{
					{"packed", mr, 1, ps, max(n, 1) * ps},
					{"rows", 1, lda, mr * lda, max(n*mr, 1) * lda},
					{"transposed", lda, 1, mr, max(k, 1) * lda},
				}
				for _, lay := range layouts {
					for _, s := range scalars {
						name := fmt.Sprintf("%s/k=%d/n=%d/%s/alpha=%g,beta=%g", mk.name, k, n, lay.name, s.alpha, s.beta)
						a := make([]float32, lay.size+1)
						for i := range a {
							a[i] = float32(rng.Float64()*2 - 1)
						}
						b := make([]float32, max(k, 1)*nr)
						for i := range b {
							b[i] = float32(rng.Float64()*2 - 1)
						}
						ldc := nr + 3
						rows := (n + 1) * mr // one tile more than swept: it must stay untouched
						c := make([]float32, rows*ldc)
						for i := range c {
							c[i] = float32(rng.Float64()*2 - 1)
							if s.beta == 0 && i < n*mr*ldc && i%ldc < nr {
								c[i] = float32(math.NaN()) // beta == 0 must not read C
							}
						}
						want := append([]float32(nil), c...)
						for i := 0; i < n; i++ {
							mk.fn(k, &a[i*lay.astep], lay.rsa, lay.csa, &b[0], &want[i*mr*ldc], ldc, s.alpha, s.beta)
						}
						got := append([]float32(nil), c...)
						mk.sweepTiles(k, &a[0], lay.rsa, lay.csa, lay.astep, &b[0], &got[0], ldc, n, s.alpha, s.beta)
						for i := range got {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s: C[%d][%d] = %v (bits %#x), one call per tile gives %v (bits %#x)", name, i/ldc, i%ldc, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
							}
						}
					}
				}
			}
		}
	}
}
