package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemmPackedMatchesSgemm checks SgemmPacked on a row range of a packed operand against
// Sgemm on the same rows and columns, bit for bit, for every micro-kernel: partial tiles, depths
// beyond the k block, widths beyond the n block, both layouts of A and of B, and products large enough to
// split over goroutines; and SgemmPackedSerial, whose epilogue must see each element once.
func TestSgemmPackedMatchesSgemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		m, n, k, p0, kTotal, nTotal int
	}{
		{1, 1, 1, 0, 1, 1},
		{5, 7, 3, 2, 9, 7},
		{12, 32, 16, 0, 16, 40},
		{37, 45, 300, 11, 320, 45},
		{30, 40, 600, 7, 620, 40},
		{3, 1100, 20, 5, 30, 1200},
		{200, 150, 160, 0, 160, 150},
	} {
		for _, kern := range kernelsUnderTest()[1:] {
			f := kern.(Fast)
			for _, transA := range []bool{false, true} {
				for _, transB := range []bool{false, true} {
					br, bc := tc.kTotal, tc.nTotal
					if transB {
						br, bc = bc, br
					}
					b := newMatrix(rng, br, bc, 1, 0)
					var pb PackedB
					f.PackB(&pb, transB, tc.kTotal, tc.nTotal, b.data, b.ld)
					ar, ac := tc.m, tc.k
					if transA {
						ar, ac = ac, ar
					}
					a := newMatrix(rng, ar, ac, 2, 0)
					got, want := newMatrix(rng, tc.m, tc.n, 1, 0), newMatrix(rng, tc.m, tc.n, 1, 0)
					copy(want.data, got.data)
					// The rows p0… of op(B) start p0 rows (or, transposed, columns) into b.
					boff := tc.p0 * b.ld
					if transB {
						boff = tc.p0
					}
					f.Sgemm(transA, transB, tc.m, tc.n, tc.k, 0.75, a.data, a.ld, b.data[boff:], b.ld, 0.5, want.data, want.ld)
					serial := newMatrix(rng, tc.m, tc.n, 1, 0)
					copy(serial.data, got.data)
					f.SgemmPacked(transA, tc.m, tc.n, tc.k, 0.75, a.data, a.ld, &pb, tc.p0, 0.5, got.data, got.ld)
					// The serial variant, with an epilogue that must see every element
					// of C once, after its last depth block.
					seen := make([]int, tc.m*tc.n)
					ep := EpilogueFunc(func(item, i0, i1, j0, j1 int) {
						for i := i0; i < i1; i++ {
							for j := j0; j < j1; j++ {
								if serial.data[i*serial.ld+j] != want.data[i*want.ld+j] {
									t.Errorf("epilogue saw C[%d,%d] before it was final", i, j)
								}
								seen[i*tc.n+j]++
							}
						}
					})
					f.SgemmPackedSerial(transA, tc.m, tc.n, tc.k, 0.75, a.data, a.ld, &pb, tc.p0, 0.5, serial.data, serial.ld, ep)
					for i, v := range seen {
						if v != 1 {
							t.Fatalf("%s %+v: the epilogue saw C[%d] %d times", Name(kern), tc, i, v)
						}
					}
					for _, g := range []matrix{got, serial} {
						for i := range want.data {
							if math.Float32bits(g.data[i]) != math.Float32bits(want.data[i]) && !(math.IsNaN(float64(g.data[i])) && math.IsNaN(float64(want.data[i]))) {
								t.Fatalf("%s %+v transA=%v transB=%v: C[%d] = %v, Sgemm gives %v", Name(kern), tc, transA, transB, i, g.data[i], want.data[i])
							}
						}
					}
				}
			}
		}
	}
}

func TestSgemmPackedRejectsBadArgs(t *testing.T) {
	var pb PackedB
	Fast{}.PackB(&pb, false, 4, 5, make([]float32, 20), 5)
	if pb.K() != 4 || pb.N() != 5 {
		t.Fatalf("packed shape %d×%d, want 4×5", pb.K(), pb.N())
	}
	c := make([]float32, 25)
	for name, f := range map[string]func(){
		"rows beyond k":    func() { Fast{}.SgemmPacked(false, 2, 5, 3, 1, make([]float32, 6), 3, &pb, 2, 0, c, 5) },
		"columns beyond n": func() { Fast{}.SgemmPacked(false, 2, 6, 4, 1, make([]float32, 8), 4, &pb, 0, 0, c, 6) },
		"short a":          func() { Fast{}.SgemmPacked(false, 2, 5, 4, 1, make([]float32, 7), 4, &pb, 0, 0, c, 5) },
		"short c":          func() { Fast{}.SgemmPacked(false, 5, 5, 4, 1, make([]float32, 20), 4, &pb, 0, 0, c[:20], 5) },
		"short b to pack":  func() { Fast{}.PackB(&pb, true, 4, 5, make([]float32, 19), 4) },
		"other micro-kernel": func() {
			Fast{mk: portableKernel}.SgemmPacked(false, 2, 5, 4, 1, make([]float32, 8), 4, &pb, 0, 0, c, 5)
		},
	} {
		if name == "other micro-kernel" && bestKernel == portableKernel {
			continue
		}
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

func TestSgemmPackedNoSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	var pb PackedB
	b := make([]float32, 64*48)
	a, c := make([]float32, 20*64), make([]float32, 20*48)
	step := func() {
		Fast{}.PackB(&pb, true, 64, 48, b, 64)
		Fast{}.SgemmPacked(false, 20, 48, 60, 1, a, 64, &pb, 4, 0, c, 48)
	}
	step()
	if n := testing.AllocsPerRun(10, step); n != 0 {
		t.Errorf("PackB + SgemmPacked allocate %v times per call", n)
	}
}
