package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestDepthBlockSplit checks DepthBlock's promise for every micro-kernel and both blockings
// Fast chooses from: a product cut along its depth at multiples of DepthBlock, its first part
// computed into C with the caller's beta and every later block on its own with beta = 0 (into
// a buffer holding NaN, which must not survive), then added to C block by block in increasing
// depth, gives the bits of the whole product, in every transposition, with full and partial
// tiles, a last block one step deep, and a first part of one or several blocks; and that
// SgemmPartials gives those blocks' products in one call.
func TestDepthBlockSplit(t *testing.T) {
	if got := DepthBlock(Gonum{}); got != 0 {
		t.Fatalf("DepthBlock(Gonum{}) = %d, want 0", got)
	}
	saved := blocks
	defer func() { blocks = saved }()
	rng := rand.New(rand.NewPCG(7, 8))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	kernels := append(asmKernels(), portableKernel)
	for _, l2 := range []int{0, 1 << 20} {
		blocks = blockingFor(l2)
		for _, mk := range kernels {
			f := Fast{mk: mk}
			kb := DepthBlock(f)
			if kb != blocks.kc || DepthBlock(&f) != kb {
				t.Fatalf("DepthBlock = %d (pointer %d), want %d", kb, DepthBlock(&f), blocks.kc)
			}
			for _, sh := range [][3]int{{40, 70, 3*kb + 1}, {100, 33, 2 * kb}, {13, 96, 2*kb + 77}} {
				m, n, k := sh[0], sh[1], sh[2]
				kblocks := (k + kb - 1) / kb
				for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
					lda, ldb := strides(tr[0], tr[1], m, n, k)
					a, b, c0 := fill(m*k), fill(k*n), fill(m*n)
					for _, beta := range []float32{0, 1, 0.5} {
						want := append([]float32(nil), c0...)
						f.Sgemm(tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, beta, want, n)
						for first := 1; first < kblocks; first++ {
							name := fmt.Sprintf("%s/l2=%d/%dx%dx%d/tA=%v/tB=%v/beta=%v/first=%d", mk.name, l2, m, n, k, tr[0], tr[1], beta, first)
							got := append([]float32(nil), c0...)
							part := make([]float32, m*n)
							// The same blocks from one SgemmPartials call, over NaN.
							p0 := first * kb
							ap, bp := a[p0:], b[p0:]
							if tr[0] {
								ap = a[p0*lda:]
							}
							if !tr[1] {
								bp = b[p0*ldb:]
							}
							parts := make([]float32, (kblocks-first)*m*n)
							for i := range parts {
								parts[i] = float32(math.NaN())
							}
							SgemmPartials(f, tr[0], tr[1], m, n, k-p0, 1, ap, lda, bp, ldb, parts)
							for blk := 0; blk < kblocks; blk++ {
								p0, p1 := blk*kb, min((blk+1)*kb, k)
								if blk == 0 {
									p1 = first * kb
								} else if blk < first {
									continue
								}
								as, bs := a[p0:], b[p0:] // op(A) = A, op(B) = Bᵀ: depth runs along rows
								if tr[0] {
									as = a[p0*lda:]
								}
								if !tr[1] {
									bs = b[p0*ldb:]
								}
								if blk == 0 {
									f.Sgemm(tr[0], tr[1], m, n, p1-p0, 1, as, lda, bs, ldb, beta, got, n)
									continue
								}
								for i := range part {
									part[i] = float32(math.NaN())
								}
								f.Sgemm(tr[0], tr[1], m, n, p1-p0, 1, as, lda, bs, ldb, 0, part, n)
								slot := parts[(blk-first)*m*n : (blk-first+1)*m*n]
								for i := range part {
									if math.Float32bits(slot[i]) != math.Float32bits(part[i]) {
										t.Fatalf("%s: SgemmPartials block %d [%d] = %v, want %v", name, blk, i, slot[i], part[i])
									}
								}
								for i := range got {
									got[i] += part[i]
								}
							}
							for i := range want {
								if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
									t.Fatalf("%s: [%d] = %v, want %v", name, i, got[i], want[i])
								}
							}
						}
					}
				}
			}
		}
	}
}

// strides returns the row strides of op(A) (m×k) and op(B) (k×n) stored densely.
func strides(transA, transB bool, m, n, k int) (lda, ldb int) {
	lda, ldb = k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	return lda, ldb
}

// TestSgemmPartialsEdges checks SgemmPartials with alpha ≠ 1 (each block scaled as Sgemm
// scales it), alpha = 0 (+0 over NaN, as Sgemm), tiny blocks (never the unblocked path a tiny Sgemm
// takes: the same bits as the blocks of a whole product), and its panics.
func TestSgemmPartialsEdges(t *testing.T) {
	kb := DepthBlock(Fast{})
	rng := rand.New(rand.NewPCG(9, 10))
	const m, n = 3, 5
	k := 2*kb + 1 // the last block one step deep: 30 FLOPs
	a, b := make([]float32, m*k), make([]float32, k*n)
	for _, x := range [][]float32{a, b} {
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
	}
	for _, alpha := range []float32{0.5, 0, 1} {
		parts := make([]float32, 3*m*n)
		for i := range parts {
			parts[i] = float32(math.NaN())
		}
		SgemmPartials(Fast{}, true, false, m, n, k, alpha, a, m, b, n, parts)
		// The whole product with beta = 0, rebuilt from the blocks, must match (alpha = 1),
		// and each block must be alpha times the alpha = 1 block (exact for 0.5 and 0).
		whole := make([]float32, m*n)
		Fast{}.Sgemm(true, false, m, n, k, 1, a, m, b, n, 0, whole, n)
		ones := make([]float32, 3*m*n)
		SgemmPartials(Fast{}, true, false, m, n, k, 1, a, m, b, n, ones)
		for i := range whole {
			if got := ones[i] + ones[m*n+i] + ones[2*m*n+i]; math.Float32bits(got) != math.Float32bits(whole[i]) {
				t.Fatalf("blocks add to %v at %d, the whole product is %v", got, i, whole[i])
			}
		}
		for i := range parts {
			want := alpha * ones[i]
			if alpha == 0 {
				want = 0 // as Sgemm with alpha = 0 and beta = 0 gives: +0, not −0
			}
			if math.Float32bits(parts[i]) != math.Float32bits(want) {
				t.Fatalf("alpha=%v: [%d] = %v, want %v", alpha, i, parts[i], want)
			}
		}
	}
	for name, f := range map[string]func(){
		"gonum":       func() { SgemmPartials(Gonum{}, true, false, m, n, k, 1, a, m, b, n, make([]float32, 3*m*n)) },
		"short parts": func() { SgemmPartials(Fast{}, true, false, m, n, k, 1, a, m, b, n, make([]float32, 3*m*n-1)) },
		"short a":     func() { SgemmPartials(Fast{}, true, false, m, n, k, 1, a[1:], m, b, n, make([]float32, 3*m*n)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
