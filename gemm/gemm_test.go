package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// kernelsUnderTest lists every kernel this build can run: gonum, Fast with each assembly
// micro-kernel the CPU supports, and Fast forced onto the portable Go micro-kernel.
func kernelsUnderTest() []Kernel {
	ks := []Kernel{Gonum{}}
	for _, mk := range asmKernels() {
		ks = append(ks, Fast{mk: mk})
	}
	return append(ks, Fast{mk: portableKernel})
}

// matrix is a stored row-major matrix with stride ld; padding past each row holds NaN so a
// kernel reading or writing outside the matrix is caught.
type matrix struct {
	rows, cols, ld int
	data           []float32
}

func newMatrix(rng *rand.Rand, rows, cols, pad int, fill float32) matrix {
	ld := cols + pad
	if ld == 0 {
		ld = 1
	}
	mt := matrix{rows: rows, cols: cols, ld: ld, data: make([]float32, rows*ld)}
	for i := range mt.data {
		mt.data[i] = float32(math.NaN())
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			v := fill
			if rng != nil {
				v = float32(rng.Float64()*2 - 1)
			}
			mt.data[i*ld+j] = v
		}
	}
	return mt
}

func (mt matrix) at(i, j int, trans bool) float64 {
	if trans {
		i, j = j, i
	}
	return float64(mt.data[i*mt.ld+j])
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int // extra stride on every operand
}

func (c gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,%dx%dx%d,alpha=%g,beta=%g,pad=%d", c.transA, c.transB, c.m, c.n, c.k, c.alpha, c.beta, c.pad)
}

// check runs kern on the case and compares every element with a float64 reference, using the
// standard forward error bound for a length-k dot product with a safety factor.
func check(t *testing.T, kernels []Kernel, tc gemmCase, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	a := newMatrix(rng, ar, ac, tc.pad, 0)
	b := newMatrix(rng, br, bc, tc.pad+1, 0)
	var c matrix
	if tc.beta == 0 {
		// beta = 0 must overwrite C, even NaN.
		c = newMatrix(nil, tc.m, tc.n, tc.pad+2, float32(math.NaN()))
	} else {
		c = newMatrix(rng, tc.m, tc.n, tc.pad+2, 0)
	}
	want := make([]float64, tc.m*tc.n)
	bound := make([]float64, tc.m*tc.n)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			var s, sa float64
			if tc.alpha != 0 {
				for p := 0; p < tc.k; p++ {
					x := a.at(i, p, tc.transA) * b.at(p, j, tc.transB)
					s += x
					sa += math.Abs(x)
				}
			}
			w := float64(tc.alpha) * s
			e := math.Abs(float64(tc.alpha)) * sa
			if tc.beta != 0 {
				cv := float64(c.data[i*c.ld+j])
				w += float64(tc.beta) * cv
				e += math.Abs(float64(tc.beta) * cv)
			}
			want[i*tc.n+j] = w
			bound[i*tc.n+j] = float64(tc.k+3) * 2 * 0x1p-24 * e
		}
	}
	orig := c.data
	for _, kern := range kernels {
		c.data = append([]float32(nil), orig...)
		kern.Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a.data, a.ld, b.data, b.ld, tc.beta, c.data, c.ld)
		compare(t, kern, tc, c, orig, want, bound)
	}
}

// compare checks C against the reference and its padding against the original.
func compare(t *testing.T, kern Kernel, tc gemmCase, c matrix, orig []float32, want, bound []float64) {
	t.Helper()
	bad := 0
	for i := 0; i < tc.m; i++ {
		for j := 0; j < c.ld; j++ {
			got := c.data[i*c.ld+j]
			if j >= tc.n {
				if math.Float32bits(got) != math.Float32bits(orig[i*c.ld+j]) {
					t.Errorf("%s %v: wrote C padding at (%d,%d)", Name(kern), tc, i, j)
					return
				}
				continue
			}
			w, e := want[i*tc.n+j], bound[i*tc.n+j]
			if d := math.Abs(float64(got) - w); !(d <= e) {
				if bad++; bad <= 3 {
					t.Errorf("%s %v: C[%d,%d] = %g, want %g (|diff| %g > bound %g)", Name(kern), tc, i, j, got, w, d, e)
				}
			}
		}
	}
}

// shapes covers 1×1, primes, exact and partial tiles of both micro-kernels, depth crossing the
// k block (256 or 512, see blockingFor), rows crossing the m block (192 or 96), columns
// crossing the n block (1024), the naive path and the parallel path.
var shapes = [][3]int{
	{1, 1, 1}, {2, 3, 4}, {1, 37, 5}, {37, 1, 5}, {7, 13, 31}, {13, 17, 19},
	{12, 32, 8}, {6, 16, 9}, {24, 64, 64}, {25, 65, 257}, {29, 31, 520},
	{200, 40, 30}, {3, 1030, 5}, {97, 101, 103}, {130, 70, 300},
}

func TestSgemmMatchesFloat64(t *testing.T) {
	scalars := [][2]float32{{1, 0}, {1, 1}, {-0.5, -0.5}, {2, 1}, {-0.5, 0}}
	kernels := kernelsUnderTest()
	for si, s := range shapes {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				sc := scalars[(si+boolInt(ta)+2*boolInt(tb))%len(scalars)]
				tc := gemmCase{transA: ta, transB: tb, m: s[0], n: s[1], k: s[2], alpha: sc[0], beta: sc[1], pad: si % 3}
				check(t, kernels, tc, uint64(si))
			}
		}
	}
}

func TestSgemmScalars(t *testing.T) {
	kernels := kernelsUnderTest()
	for _, alpha := range []float32{0, 1, -0.5} {
		for _, beta := range []float32{0, 1, -0.5} {
			for _, s := range [][3]int{{5, 7, 3}, {30, 50, 40}} {
				check(t, kernels, gemmCase{true, false, s[0], s[1], s[2], alpha, beta, 1}, 3)
				check(t, kernels, gemmCase{false, true, s[0], s[1], s[2], alpha, beta, 0}, 4)
			}
		}
	}
}

func TestSgemmDegenerate(t *testing.T) {
	// k = 0: C = beta·C; beta = 0 clears NaN.
	for _, beta := range []float32{0, 1, -0.5} {
		check(t, kernelsUnderTest(), gemmCase{false, false, 4, 5, 0, 1, beta, 1}, 1)
		check(t, kernelsUnderTest(), gemmCase{true, true, 40, 50, 0, -0.5, beta, 0}, 2)
	}
	for _, kern := range kernelsUnderTest() {
		// m or n = 0: nothing to do, and no slice is touched.
		kern.Sgemm(false, false, 0, 5, 3, 1, nil, 3, make([]float32, 15), 5, 0, nil, 5)
		kern.Sgemm(false, false, 5, 0, 3, 1, make([]float32, 15), 3, nil, 1, 0, nil, 1)
	}
}

// TestSgemmDeterministicAcrossThreads checks that C does not depend on GOMAXPROCS, with A
// read in place, packed (transposed, row stride 512) and copied (row stride 1024), and C split
// along M or N.
func TestSgemmDeterministicAcrossThreads(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		transA     bool
		m, n, k    int
		ldaPadding int
	}{
		{true, 203, 150, 530, 0},
		{true, 100, 260, 530, 512 - 100},
		{false, 203, 150, 530, 1024 - 530},
	} {
		rows, cols := tc.k, tc.m
		if !tc.transA {
			rows, cols = tc.m, tc.k
		}
		a := newMatrix(rng, rows, cols, tc.ldaPadding, 0)
		b := newMatrix(rng, tc.k, tc.n, 0, 0)
		for _, kern := range kernelsUnderTest()[1:] {
			var ref []float32
			for _, procs := range []int{1, 2, 3, 5} {
				runtime.GOMAXPROCS(procs)
				c := newMatrix(rng, tc.m, tc.n, 0, 0)
				kern.Sgemm(tc.transA, false, tc.m, tc.n, tc.k, 0.7, a.data, a.ld, b.data, b.ld, 0, c.data, c.ld)
				if ref == nil {
					ref = c.data
					continue
				}
				for i := range ref {
					if math.Float32bits(ref[i]) != math.Float32bits(c.data[i]) {
						t.Fatalf("%s tA=%v lda=%d: GOMAXPROCS=%d gives C[%d] = %g, GOMAXPROCS=1 gives %g", Name(kern), tc.transA, a.ld, procs, i, c.data[i], ref[i])
					}
				}
			}
		}
	}
}

// TestSgemmAStrides covers every way Fast reads A: a transposed A packed when its row stride
// is a multiple of 512 floats, A copied to a padded stride when its row stride is a multiple
// of 1024, in place otherwise. All match float64, and give the same bits whatever the stride,
// with full and partial panels, depth blocks of every remainder mod 4, and products large
// enough to run in parallel.
func TestSgemmAStrides(t *testing.T) {
	for i, s := range [][3]int{{500, 40, 258}, {200, 33, 517}, {1000, 64, 3}, {12, 32, 300}, {13, 70, 1}, {30, 40, 1030}} {
		m, n, k := s[0], s[1], s[2]
		for _, transA := range []bool{true, false} {
			rows, cols := m, k
			if transA {
				rows, cols = k, m
			}
			ld := roundUp(cols, 1024)
			for _, lda := range []int{ld, ld + 1} {
				check(t, kernelsUnderTest(), gemmCase{transA: transA, m: m, n: n, k: k, alpha: 0.5, beta: 1, pad: lda - cols}, uint64(i))
			}
			rng := rand.New(rand.NewPCG(uint64(i), 9))
			aligned := newMatrix(rng, rows, cols, ld-cols, 0)
			odd := newMatrix(nil, rows, cols, ld+1-cols, 0)
			for r := 0; r < rows; r++ {
				copy(odd.data[r*odd.ld:r*odd.ld+cols], aligned.data[r*aligned.ld:])
			}
			b := newMatrix(rng, k, n, 0, 0)
			c1, c2 := make([]float32, m*n), make([]float32, m*n)
			Fast{}.Sgemm(transA, false, m, n, k, 1, aligned.data, aligned.ld, b.data, b.ld, 0, c1, n)
			Fast{}.Sgemm(transA, false, m, n, k, 1, odd.data, odd.ld, b.data, b.ld, 0, c2, n)
			for j := range c1 {
				if math.Float32bits(c1[j]) != math.Float32bits(c2[j]) {
					t.Fatalf("tA=%v %d×%d×%d: C[%d] = %g with lda %d, %g with lda %d", transA, m, n, k, j, c1[j], aligned.ld, c2[j], odd.ld)
				}
			}
		}
	}
}

func TestSgemmConcurrentCallers(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3; i++ {
				check(t, []Kernel{Fast{}}, gemmCase{g%2 == 0, g/2 == 0, 90, 70, 200, 1, 0.5, 1}, uint64(g*10+i))
			}
		}()
	}
	wg.Wait()
}

func TestSgemmNoSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	const m, n, k = 256, 128, 128 // large enough for the parallel path
	// A read in place, packed (transposed, row stride 512) and copied (row stride 1024).
	a, b, c := make([]float32, m*1024), make([]float32, k*n), make([]float32, m*n)
	for _, kern := range kernelsUnderTest()[1:] {
		for _, v := range []struct {
			transA bool
			lda    int
		}{{false, k}, {true, 512}, {false, 1024}} {
			allocs := testing.AllocsPerRun(20, func() {
				kern.Sgemm(v.transA, false, m, n, k, 1, a, v.lda, b, n, 0, c, n)
			})
			if allocs > 0 {
				t.Errorf("%s tA=%v lda=%d: %v allocations per call, want 0", Name(kern), v.transA, v.lda, allocs)
			}
		}
	}
}

func TestSgemmPanicsOnBadArgs(t *testing.T) {
	cases := []struct {
		name string
		call func()
	}{
		{"negative m", func() { Fast{}.Sgemm(false, false, -1, 2, 2, 1, nil, 2, nil, 2, 0, nil, 2) }},
		{"short lda", func() {
			Fast{}.Sgemm(false, false, 2, 2, 3, 1, make([]float32, 6), 2, make([]float32, 6), 2, 0, make([]float32, 4), 2)
		}},
		{"short c", func() {
			Fast{}.Sgemm(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 3), 2)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			c.call()
		})
	}
}

func TestNameAndDefault(t *testing.T) {
	if got := Name(Gonum{}); got != "gonum" {
		t.Errorf("Name(Gonum{}) = %q", got)
	}
	if got, want := Name(Fast{mk: portableKernel}), "fast/go"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}
	if len(asmKernels()) > 0 {
		if _, ok := Default.(Fast); !ok {
			t.Errorf("Default = %s with assembly kernels available", Name(Default))
		}
	} else if _, ok := Default.(Gonum); !ok {
		t.Errorf("Default = %s without assembly kernels, want gonum", Name(Default))
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestPeakGFLOPS(t *testing.T) {
	p := PeakGFLOPS(20 * time.Millisecond)
	if len(asmKernels()) == 0 {
		if p != 0 {
			t.Errorf("PeakGFLOPS = %g without assembly kernels, want 0", p)
		}
		return
	}
	// Any machine with AVX2 does well over 1 GFLOP/s per core; a broken loop or timing
	// (zero, NaN, absurd) fails.
	if !(p > 1 && p < 1e5) {
		t.Errorf("PeakGFLOPS = %g, want a plausible figure", p)
	}
	t.Logf("PeakGFLOPS = %.1f (%s, GOMAXPROCS=%d)", p, Name(Default), runtime.GOMAXPROCS(0))
}
