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
