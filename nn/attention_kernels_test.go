package nn

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestTileMul checks tileMul and tileMulSteps (assembly where the CPU has it) against a
// float64 product on shapes that cover the 8-row and single-row tiles, the 32- and 16-wide
// column blocks with every kind of tail, transposed and strided A, both the set and the
// accumulate modes, and row tiles whose columns grow, whose depth grows and whose depth starts
// later (the triangles of causal attention); and the assembly against the Go twin bit for bit.
func TestTileMul(t *testing.T) {
	type shape struct{ m, n, k int }
	cases := []struct {
		shape
		st tileSteps
	}{}
	for _, sh := range []shape{
		{1, 1, 1}, {8, 16, 16}, {8, 32, 32}, {16, 128, 32}, {32, 16, 64}, {9, 33, 5},
		{7, 15, 3}, {13, 47, 17}, {40, 20, 12}, {3, 64, 1}, {17, 100, 9}, {5, 8, 0},
	} {
		cases = append(cases, struct {
			shape
			st tileSteps
		}{sh, tileSteps{nFirst: sh.n, kFirst: sh.k}})
	}
	for _, c := range []struct {
		shape
		st tileSteps
	}{
		{shape{32, 128, 32}, tileSteps{nFirst: 104, nStep: 8, kFirst: 32}}, // causal scores, last block
		{shape{32, 32, 32}, tileSteps{nFirst: 8, nStep: 8, kFirst: 32}},    // causal scores, first block
		{shape{6, 70, 20}, tileSteps{nFirst: 72, nStep: 8, kFirst: 20}},    // a partial block
		{shape{27, 40, 9}, tileSteps{nFirst: 5, nStep: 8, kFirst: 9}},      // single-row tail tiles
		{shape{32, 32, 128}, tileSteps{nFirst: 32, kFirst: 104, kStep: 8}}, // P·v
		{shape{32, 16, 40}, tileSteps{nFirst: 16, kFirst: 16, kStep: 8}},
		{shape{32, 32, 32}, tileSteps{nFirst: 32, kFirst: 32, pStep: 8}}, // dv, dk on the diagonal
		{shape{20, 20, 13}, tileSteps{nFirst: 20, kFirst: 13, pStep: 8}}, // depth 13, 5, then none
		{shape{11, 48, 30}, tileSteps{nFirst: 3, nStep: 16, kFirst: 10, kStep: 8, pStep: 2}},
	} {
		cases = append(cases, c)
	}
	for _, tc := range cases {
		for _, trans := range []bool{false, true} {
			for _, add := range []bool{false, true} {
				name := fmt.Sprintf("%dx%dx%d/%+v/trans=%v/add=%v", tc.m, tc.n, tc.k, tc.st, trans, add)
				m, n, k, st := tc.m, tc.n, tc.k, tc.st
				lda, ldb, ldc := k+3, n+5, n+2
				rsa, csa := lda, 1
				if trans {
					lda = m + 4 // A stored k×m
					rsa, csa = 1, lda
				}
				a := elementwiseInputs(max(m, k)*lda+1, 11)
				for i := range a {
					a[i] = finiteMod(a[i], 4)
				}
				b := elementwiseInputs(k*ldb+n+1, 12)
				for i := range b {
					b[i] = finiteMod(b[i], 4)
				}
				c0 := elementwiseInputs(m*ldc, 13)
				for i := range c0 {
					c0[i] = finiteMod(c0[i], 4)
				}
				const alpha = 0.37
				got := append([]float32(nil), c0...)
				tileMulSteps(got, ldc, a, rsa, csa, b, ldb, m, n, k, alpha, add, st)
				for i := range m {
					g := i / tileRows
					ng, p0, k1 := min(n, st.nFirst+g*st.nStep), g*st.pStep, min(k, st.kFirst+g*st.kStep)
					for j := range ldc {
						idx := i*ldc + j
						if j >= ng {
							if math.Float32bits(got[idx]) != math.Float32bits(c0[idx]) {
								t.Fatalf("%s: c[%d][%d] outside the tile changed", name, i, j)
							}
							continue
						}
						var want float64
						for p := p0; p < k1; p++ {
							want += float64(a[i*rsa+p*csa]) * float64(b[p*ldb+j])
						}
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
				tileStepsGeneric(gen, ldc, a, rsa, csa, b, ldb, m, n, k, alpha, add, st)
				sameBits(t, name+": assembly and Go", len(gen), got, gen)
			}
		}
	}
}

// TestTransposeHead checks transposeHead (a gather in assembly where the CPU has it) on whole
// and partial vectors.
func TestTransposeHead(t *testing.T) {
	for _, tc := range []struct{ t, hs, ld int }{{1, 1, 1}, {16, 16, 48}, {70, 4, 24}, {128, 32, 384}, {33, 20, 120}, {32, 48, 100}} {
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

// TestSoftmaxBlocks checks the block softmax and its backward (assembly where the CPU has it)
// against their Go twins bit for bit, on blocks with whole and partial vectors, rows whose
// lengths grow (causal) or stay the same (masked), with the probabilities recomputed from the
// statistics and given; and the probabilities against a float64 softmax.
func TestSoftmaxBlocks(t *testing.T) {
	for _, tc := range []struct{ m, l0, inc, w, ld int }{
		{1, 1, 1, 1, 1}, {32, 1, 1, 32, 32}, {32, 97, 1, 128, 130}, {6, 65, 1, 70, 70}, {16, 21, 1, 40, 48},
		{3, 15, 1, 17, 17}, {8, 9, 1, 24, 24}, {32, 20, 0, 20, 32}, {5, 7, 0, 33, 33}, {4, 1, 0, 1, 3},
		{45, 3, 1, 50, 52}, {70, 18, 0, 18, 20}, // more rows than the assembly backward takes at once
	} {
		scores := elementwiseInputs(tc.m*tc.ld, uint64(tc.w+tc.l0))
		for i := range scores {
			scores[i] = finiteMod(scores[i], 20)
		}
		got, want := append([]float32(nil), scores...), append([]float32(nil), scores...)
		gs, ws := make([]float32, 2*tc.m), make([]float32, 2*tc.m)
		softmaxBlock(got, tc.ld, tc.m, tc.l0, tc.inc, tc.w, gs)
		softmaxBlockGeneric(want, tc.ld, tc.m, tc.l0, tc.inc, tc.w, ws)
		sameBits(t, fmt.Sprintf("%v softmax", tc), len(want), got, want)
		sameBits(t, fmt.Sprintf("%v stats", tc), len(ws), gs, ws)
		for r := range tc.m {
			l := tc.l0 + r*tc.inc
			row := scores[r*tc.ld : r*tc.ld+l]
			mx := math.Inf(-1)
			for _, v := range row {
				mx = math.Max(mx, float64(v))
			}
			var z float64
			for _, v := range row {
				z += math.Exp(float64(v) - mx)
			}
			for i := range tc.ld {
				w := 0.0
				switch {
				case i < l:
					w = math.Exp(float64(row[i])-mx) / z
				case i >= tc.w:
					w = float64(scores[r*tc.ld+i]) // beyond the width: untouched
				}
				if d := math.Abs(float64(got[r*tc.ld+i]) - w); d > 1e-6 {
					t.Fatalf("%v: p[%d][%d] = %v, want %v", tc, r, i, got[r*tc.ld+i], w)
				}
			}
		}

		dp := elementwiseInputs(tc.m*tc.ld, 3)
		for i := range dp {
			dp[i] = finiteMod(dp[i], 5)
		}
		// The row dot products Σ p·dp, given (as dout·out would give them) in float64 rounded
		// to float32.
		dots := make([]float32, tc.m)
		for r := range tc.m {
			var dot float64
			for k := range tc.l0 + r*tc.inc {
				dot += float64(want[r*tc.ld+k]) * float64(dp[r*tc.ld+k])
			}
			dots[r] = float32(dot)
		}
		for _, v := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			recompute, given := v[0], v[1]
			p0, st, dt := want, []float32(nil), []float32(nil)
			if recompute {
				p0, st = scores, ws
			}
			if given {
				dt = dots
			}
			gp, wp := append([]float32(nil), p0...), append([]float32(nil), p0...)
			gd, wd := append([]float32(nil), dp...), append([]float32(nil), dp...)
			softmaxGradBlock(gp, gd, tc.ld, tc.m, tc.l0, tc.inc, tc.w, st, dt)
			softmaxGradBlockGeneric(wp, wd, tc.ld, tc.m, tc.l0, tc.inc, tc.w, st, dt)
			sameBits(t, fmt.Sprintf("%v recompute=%v dots=%v p", tc, recompute, given), len(wp), gp, wp)
			sameBits(t, fmt.Sprintf("%v recompute=%v dots=%v ds", tc, recompute, given), len(wd), gd, wd)
			if recompute {
				for r := range tc.m {
					sameBits(t, fmt.Sprintf("%v recomputed p row %d", tc, r), tc.w, gp[r*tc.ld:], want[r*tc.ld:])
				}
			}
			for r := range tc.m {
				l := tc.l0 + r*tc.inc
				for i := range tc.ld {
					var wantDS float64
					switch {
					case i < l:
						var dot float64
						for k := range l {
							dot += float64(want[r*tc.ld+k]) * float64(dp[r*tc.ld+k])
						}
						wantDS = float64(want[r*tc.ld+i]) * (float64(dp[r*tc.ld+i]) - dot)
					case i >= tc.w:
						wantDS = float64(dp[r*tc.ld+i])
					}
					if d := math.Abs(float64(gd[r*tc.ld+i]) - wantDS); d > 1e-5 {
						t.Fatalf("%v recompute=%v dots=%v: ds[%d][%d] = %v, want %v", tc, recompute, given, r, i, gd[r*tc.ld+i], wantDS)
					}
				}
			}
		}
	}
}

// TestRowDots checks rowDots (assembly where the CPU has it) against its Go twin bit for bit
// and against a float64 dot product, on rows with whole and partial vectors and strided rows.
func TestRowDots(t *testing.T) {
	for _, tc := range []struct{ m, n, lda, ldb int }{
		{1, 1, 1, 1}, {3, 15, 17, 15}, {4, 16, 16, 48}, {5, 17, 20, 17}, {32, 32, 96, 32},
		{7, 40, 40, 41}, {2, 100, 100, 103}, {6, 0, 4, 4},
	} {
		a := elementwiseInputs(tc.m*tc.lda+1, uint64(tc.n+1))
		b := elementwiseInputs(tc.m*tc.ldb+1, uint64(tc.n+2))
		for i := range a {
			a[i] = finiteMod(a[i], 4)
		}
		for i := range b {
			b[i] = finiteMod(b[i], 4)
		}
		got, want := make([]float32, tc.m+1), make([]float32, tc.m+1)
		got[tc.m], want[tc.m] = 7, 7
		for i := range tc.m {
			got[i], want[i] = 5, 5 // overwritten
		}
		rowDots(got, a, tc.lda, b, tc.ldb, tc.m, tc.n)
		if tc.n > 0 {
			rowDotsGeneric(want, a, tc.lda, b, tc.ldb, tc.m, tc.n)
		} else {
			clear(want[:tc.m])
		}
		sameBits(t, fmt.Sprintf("%v", tc), len(want), got, want)
		for r := range tc.m {
			var dot, mag float64
			for i := range tc.n {
				x := float64(a[r*tc.lda+i]) * float64(b[r*tc.ldb+i])
				dot, mag = dot+x, mag+math.Abs(x)
			}
			// float32 sums of n terms: within n·2⁻²⁴ of the sum of magnitudes.
			if d := math.Abs(float64(got[r]) - dot); d > float64(tc.n+1)*0x1p-24*mag {
				t.Fatalf("%v: row %d: %v, want %v", tc, r, got[r], dot)
			}
		}
	}
}

// finiteMod folds x into (−m, m), mapping ±Inf and NaN to 0.
func finiteMod(x float32, m float64) float32 {
	if math.IsInf(float64(x), 0) || math.IsNaN(float64(x)) {
		return 0
	}
	return float32(math.Mod(float64(x), m))
}

// TestFMA32 checks fma32 against a·b + c computed exactly (big.Float) and rounded once to
// float32, on random operands and on cases where the float64 sum alone would round twice.
func TestFMA32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(a, b, c float32) {
		t.Helper()
		x := new(big.Float).SetPrec(200).SetFloat64(float64(a))
		x.Mul(x, new(big.Float).SetPrec(200).SetFloat64(float64(b)))
		x.Add(x, new(big.Float).SetPrec(200).SetFloat64(float64(c)))
		want, _ := x.Float32()
		if got := fma32(a, b, c); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fma32(%v, %v, %v) = %v, want %v", a, b, c, got, want)
		}
	}
	for range 100000 {
		a := float32(r.NormFloat64() * math.Exp2(float64(r.IntN(20)-10)))
		b := float32(r.NormFloat64() * math.Exp2(float64(r.IntN(20)-10)))
		c := float32(r.NormFloat64() * math.Exp2(float64(r.IntN(60)-30)))
		check(a, b, c)
	}
	// 1 + 2⁻²⁴ (a float32 tie) plus a tiny c: the float64 sum rounds to the tie, then to even.
	check(1+0x1p-23, 1+0x1p-23, -0x1p-23+0x1p-70)
	check(1, 1, 0x1p-24+0x1p-60)
	check(1, 1, 0x1p-24-0x1p-60)
}

// TestExpFMA32 checks the attention softmaxes' exponential against math.Exp over its range
// (relative error below 3e-7) and its clamping.
func TestExpFMA32(t *testing.T) {
	for x := -87.0; x <= 87; x += 0.0137 {
		got, want := float64(expFMA32(float32(x))), math.Exp(float64(float32(x)))
		if d := math.Abs(got-want) / want; d > 3e-7 {
			t.Fatalf("expFMA32(%v) = %v, want %v (relative error %.2g)", x, got, want, d)
		}
	}
	if got := expFMA32(-1000); got <= 0 || got != expFMA32(-87) {
		t.Fatalf("expFMA32(-1000) = %v, want the clamped expFMA32(-87) = %v", got, expFMA32(-87))
	}
	if got := expFMA32(float32(math.NaN())); !math.IsNaN(float64(got)) {
		t.Fatalf("expFMA32(NaN) = %v", got)
	}
}
