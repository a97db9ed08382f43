package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randomCuts returns sorted cut points 0 = c₀ < c₁ < … < c_k = n: every block boundary in the
// multiples of align listed in aligned, or at random.
func randomCuts(rng *rand.Rand, n, align int, aligned bool) []int {
	cuts := []int{0}
	for at := 0; at < n; {
		step := 1 + rng.IntN(70)
		if aligned {
			step = align * (1 + rng.IntN(3))
		}
		at = min(at+step, n)
		cuts = append(cuts, at)
	}
	return cuts
}

// TestGELUGradEpilogueAnyCut runs geluGradEpilogue over C cut into blocks at random (rows and
// columns, aligned to the 32-row blocks of the bias sums or not), in random order, and checks
// that dx and db are bit for bit what GELU.BackwardSetBias gives: the sums do not depend on
// the cut, so neither on the kernel's blocking nor on GOMAXPROCS.
func TestGELUGradEpilogueAnyCut(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct{ rows, n int }{{1, 1}, {31, 5}, {32, 17}, {97, 40}, {300, 70}, {257, 1030}} {
		pre, sig := make([]float32, tc.rows*tc.n), make([]float32, tc.rows*tc.n)
		act := make([]float32, len(pre))
		for i := range pre {
			pre[i] = float32(rng.NormFloat64())
		}
		b := make([]float32, tc.n)
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		g0 := make([]float32, len(pre))
		for i := range g0 {
			g0[i] = float32(rng.NormFloat64())
		}
		var gl GELU
		gl.ForwardBias(act, sig, pre, b)
		wantDx, wantDb := make([]float32, len(pre)), make([]float32, tc.n)
		for j := range wantDb {
			wantDb[j] = float32(j) * 0.25
		}
		start := append([]float32(nil), wantDb...)
		gl.BackwardSetBias(wantDx, g0, pre, b, sig, wantDb)
		for trial := range 6 {
			aligned := trial%2 == 0
			rowCuts := randomCuts(rng, tc.rows, GELUBiasRowBlock, aligned)
			colCuts := randomCuts(rng, tc.n, 16, false)
			type block struct{ i0, i1, j0, j1 int }
			var blocks []block
			for r := 1; r < len(rowCuts); r++ {
				for c := 1; c < len(colCuts); c++ {
					blocks = append(blocks, block{rowCuts[r-1], rowCuts[r], colCuts[c-1], colCuts[c]})
				}
			}
			rng.Shuffle(len(blocks), func(i, j int) { blocks[i], blocks[j] = blocks[j], blocks[i] })
			dx := append([]float32(nil), g0...)
			var e geluGradEpilogue
			e.reset(dx, pre, b, sig, tc.n, tc.rows, true)
			for _, bl := range blocks {
				e.Block(0, bl.i0, bl.i1, bl.j0, bl.j1)
			}
			db := append([]float32(nil), start...)
			e.finish(db)
			name := fmt.Sprintf("%+v rows cut at %v", tc, rowCuts)
			for _, v := range []struct {
				what      string
				got, want []float32
			}{{"dx", dx, wantDx}, {"db", db, wantDb}} {
				for i := range v.want {
					if math.Float32bits(v.got[i]) != math.Float32bits(v.want[i]) {
						t.Fatalf("%s: %s[%d] = %v, BackwardSetBias gives %v", name, v.what, i, v.got[i], v.want[i])
					}
				}
			}
		}
	}
}
