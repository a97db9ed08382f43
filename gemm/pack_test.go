package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPackPanelMatchesGo checks each assembly packer (contiguous, transposing, gathering)
// against the portable loops bit for bit, over full and partial panels and p tails.
func TestPackPanelMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	src := make([]float32, 40*300)
	for i := range src {
		src[i] = float32(rng.NormFloat64())
	}
	for _, mk := range asmKernels() {
		if mk.pack == nil {
			continue
		}
		for _, c := range []struct{ kb, ps, rs, rows, w int }{
			{1, 1, 40, 1, 32},     // transposed, one p
			{16, 1, 40, 32, 32},   // transposed, one full block
			{37, 1, 300, 32, 32},  // transposed, p tail
			{100, 1, 300, 19, 32}, // transposed, partial panel
			{5, 1, 33, 7, 16},
			{20, 40, 1, 32, 32}, // contiguous
			{20, 40, 1, 5, 32},
			{30, 1, 40, 12, 12}, // w = 12: gathered
			{9, 3, 41, 10, 12},
		} {
			got, want := make([]float32, c.kb*c.w), make([]float32, c.kb*c.w)
			for i := range got {
				got[i], want[i] = float32(math.NaN()), float32(math.NaN())
			}
			packPanel(mk, got, src, 3, c.kb, c.ps, c.rs, c.rows, c.w)
			packPanel(portableKernel, want, src, 3, c.kb, c.ps, c.rs, c.rows, c.w)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s %+v: dst[%d] (p=%d, r=%d) = %v, want %v", mk.name, c, i, i/c.w, i%c.w, got[i], want[i])
				}
			}
		}
	}
}

// TestPackBRowsMatchesPanels checks that packing a non-transposed op(B) row by row (packRowsB)
// gives the panels of the panel-by-panel packing bit for bit, with whole panels and a partial
// last one, and that prefetchRows and prefetchRowsL2 read nothing they should not (up to the
// last line of src).
func TestPackBRowsMatchesPanels(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	const ldb = 150
	src := make([]float32, 60*ldb)
	for i := range src {
		src[i] = float32(rng.NormFloat64())
	}
	for _, mk := range asmKernels() {
		if mk.packRowsB == nil {
			continue
		}
		panelOnly := *mk
		panelOnly.packRowsB = nil
		for _, c := range []struct{ p0, kb, j0, nb int }{
			{0, 1, 0, 32}, {0, 60, 0, 128}, {3, 41, 5, 140}, {7, 16, 100, 50}, {2, 9, 0, 20},
		} {
			size := roundUp(c.nb, mk.nr) * c.kb
			got, want := make([]float32, size), make([]float32, size)
			for i := range got {
				got[i], want[i] = float32(math.NaN()), float32(math.NaN())
			}
			packB(mk, false, src, ldb, c.p0, c.kb, c.j0, c.nb, got)
			packB(&panelOnly, false, src, ldb, c.p0, c.kb, c.j0, c.nb, want)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s %+v: dst[%d] = %v, want %v", mk.name, c, i, got[i], want[i])
				}
			}
		}
	}
	prefetchRows(&src[len(src)-ldb], 1, ldb, (ldb+15)/16+1) // a hint: never faults
	prefetchRows(&src[0], 0, ldb, 3)
	prefetchRowsL2(&src[len(src)-ldb], 1, ldb, (ldb+15)/16+1)
	prefetchRowsL2(&src[0], 2, ldb, 0)
}
