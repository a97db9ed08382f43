package nn

import (
	"fmt"
	"math"
	"testing"
)

// TestTileMul checks tileMul (assembly where the CPU has it) against a float64 product on
// shapes that cover the 8-row and single-row tiles, the 32- and 16-wide column blocks with
// every kind of tail, transposed and strided A, and both the set and the accumulate modes; and
// the assembly against the Go twin (bit for bit but for a double-rounding tie of the Go
// twin's float64 FMA, so within 1 ulp of Σ|a·b| per step).
func TestTileMul(t *testing.T) {
	for _, tc := range []struct{ m, n, k int }{
		{1, 1, 1}, {8, 16, 16}, {8, 32, 32}, {16, 128, 32}, {32, 16, 64}, {9, 33, 5},
		{7, 15, 3}, {13, 47, 17}, {40, 20, 12}, {3, 64, 1}, {17, 100, 9}, {5, 8, 0},
	} {
		for _, trans := range []bool{false, true} {
			for _, add := range []bool{false, true} {
				name := fmt.Sprintf("%dx%dx%d/trans=%v/add=%v", tc.m, tc.n, tc.k, trans, add)
				m, n, k := tc.m, tc.n, tc.k
				lda, ldb, ldc := k+3, n+5, n+2
				rsa, csa := lda, 1
				if trans {
					lda = m + 4 // A stored k×m
					rsa, csa = 1, lda
				}
				a := elementwiseInputs(max(m, k)*lda+1, 11)
				for i := range a {
					a[i] = float32(math.Mod(float64(a[i]), 4))
				}
				b := elementwiseInputs(k*ldb+n+1, 12)
				for i := range b {
					b[i] = float32(math.Mod(float64(b[i]), 4))
				}
				c0 := elementwiseInputs(m*ldc, 13)
				for i := range c0 {
					c0[i] = float32(math.Mod(float64(c0[i]), 4))
				}
				const alpha = 0.37
				got := append([]float32(nil), c0...)
				mags := make([]float64, len(got))
				tileMul(got, ldc, a, rsa, csa, b, ldb, m, n, k, alpha, add)
				for i := range m {
					for j := range ldc {
						idx := i*ldc + j
						if j >= n {
							if math.Float32bits(got[idx]) != math.Float32bits(c0[idx]) {
								t.Fatalf("%s: c[%d][%d] outside the tile changed", name, i, j)
							}
							continue
						}
						var want, mag float64
						for p := range k {
							want += float64(a[i*rsa+p*csa]) * float64(b[p*ldb+j])
							mag += math.Abs(float64(a[i*rsa+p*csa]) * float64(b[p*ldb+j]))
						}
						mags[idx] = mag
						want *= alpha
						if add {
							want += float64(c0[idx])
						}
						if d := math.Abs(float64(got[idx]) - want); d > 1e-5*float64(k+1)*4 {
							t.Fatalf("%s: c[%d][%d] = %v, want %v", name, i, j, got[idx], want)
						}
					}
				}
				gen := append([]float32(nil), c0...)
				tileMulGeneric(gen, ldc, a, rsa, csa, b, ldb, m, n, k, alpha, add)
				for i, g := range gen {
					if d := math.Abs(float64(got[i]) - float64(g)); d > 0x1p-23*float64(k)*(mags[i]*alpha+math.Abs(float64(g))) {
						t.Fatalf("%s: assembly c = %v, Go %v", name, got[i], g)
					}
				}
			}
		}
	}
}

// TestSoftmaxRecompute checks that softmaxRecompute reproduces softmaxRow's probabilities bit
// for bit from the row maximum and 1/sum, in assembly and in Go.
func TestSoftmaxRecompute(t *testing.T) {
	for _, n := range elementwiseLengths {
		x := elementwiseInputs(n, uint64(n)+3)
		for i := range x {
			x[i] = float32(math.Mod(float64(x[i]), 30))
		}
		p := append([]float32(nil), x...)
		mx, sum := softmaxRow(p)
		inv := float32(1 / sum)
		got := append([]float32(nil), x...)
		softmaxRecompute(got, mx, inv)
		sameBits(t, "recompute", n, got, p)
		gen := append([]float32(nil), x...)
		softmaxRecomputeGeneric(gen, mx, inv)
		sameBits(t, "recompute (Go)", n, gen, p)
	}
}

// TestTransposeHead checks transposeHead (a gather in assembly where the CPU has it) on whole
// and partial vectors.
func TestTransposeHead(t *testing.T) {
	for _, tc := range []struct{ t, hs, ld int }{{1, 1, 1}, {16, 16, 48}, {70, 4, 24}, {128, 32, 384}, {33, 20, 120}} {
		src := elementwiseInputs(tc.t*tc.ld, 5)
		dst := make([]float32, tc.hs*tc.t+3)
		dst[len(dst)-1] = 7
		transposeHead(dst, src, tc.ld, tc.t, tc.hs)
		for d := range tc.hs {
			for j := range tc.t {
				if got, want := dst[d*tc.t+j], src[j*tc.ld+d]; math.Float32bits(got) != math.Float32bits(want) {
					t.Fatalf("%v: dst[%d][%d] = %v, want %v", tc, d, j, got, want)
				}
			}
		}
		if dst[len(dst)-1] != 7 {
			t.Fatalf("%v: wrote past the block", tc)
		}
	}
}
