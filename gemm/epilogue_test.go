package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// naiveKernel is a Kernel that is neither Fast nor gonum: the plain triple loop, to check that
// the epilogue works with any implementation of the interface.
type naiveKernel struct{}

func (naiveKernel) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	naive(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (naiveKernel) String() string { return "naive" }

// checkingEpilogue checks the Epilogue contract on every call: the block lies inside its item's
// C, no element is visited twice, and every element of the block already holds its final value
// (the float64 reference within its bound, and the bits plain holds, which the same kernel
// computed without an epilogue). It then sets each element v of the block to 2v + 1, so that
// the caller can check that the epilogue's writes survive.
type checkingEpilogue struct {
	m, n, ldc   int
	c           []float32
	offC        []int
	want, bound []float64      // per item, m×n
	plain       []float32      // per item, m×n: the product without epilogue
	visits      []atomic.Int32 // per item, m×n
	calls       atomic.Int32
	mu          sync.Mutex
	errs        []string
}

func (e *checkingEpilogue) fail(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.errs) < 5 {
		e.errs = append(e.errs, fmt.Sprintf(format, args...))
	}
}

func (e *checkingEpilogue) Block(item, i0, i1, j0, j1 int) {
	e.calls.Add(1)
	if item < 0 || item >= len(e.offC) || i0 < 0 || i0 >= i1 || i1 > e.m || j0 < 0 || j0 >= j1 || j1 > e.n {
		e.fail("block (%d, %d:%d, %d:%d) outside %d items of %d×%d, or empty", item, i0, i1, j0, j1, len(e.offC), e.m, e.n)
		return
	}
	base := item * e.m * e.n
	for i := i0; i < i1; i++ {
		for j := j0; j < j1; j++ {
			x := base + i*e.n + j
			if e.visits[x].Add(1) != 1 {
				e.fail("item %d C[%d,%d] visited twice", item, i, j)
			}
			p := &e.c[e.offC[item]+i*e.ldc+j]
			if d := math.Abs(float64(*p) - e.want[x]); !(d <= e.bound[x]) {
				e.fail("item %d C[%d,%d] = %g at its epilogue, want %g ± %g", item, i, j, *p, e.want[x], e.bound[x])
			}
			if math.Float32bits(*p) != math.Float32bits(e.plain[x]) {
				e.fail("item %d C[%d,%d] = %g at its epilogue, the product without epilogue gives %g", item, i, j, *p, e.plain[x])
			}
			*p = 2**p + 1
		}
	}
}

// epilogueCase is one product with an epilogue: items batch items of m×n×k (items = 0 means a
// plain SgemmEpilogue call).
type epilogueCase struct {
	transA, transB bool
	m, n, k, items int
	alpha, beta    float32
}

// runEpilogueCase runs tc with kern and checks the Epilogue contract and the final C.
func runEpilogueCase(t *testing.T, kern Kernel, tc epilogueCase, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 11))
	items := max(tc.items, 1)
	ar, ac := stored(tc.transA, tc.m, tc.k)
	br, bc := stored(tc.transB, tc.k, tc.n)
	// Items lie side by side in shared matrices, each with a padded stride.
	lda, ldb, ldc := max(items*ac+1, 1), max(items*bc+2, 1), items*tc.n+3
	// At least one row each, so the batch offsets lie inside the slices even when empty.
	a := newMatrix(rng, max(ar, 1), lda, 0, 0)
	b := newMatrix(rng, max(br, 1), ldb, 0, 0)
	c := newMatrix(rng, max(tc.m, 1), ldc, 0, 0)
	offA, offB, offC := make([]int, items), make([]int, items), make([]int, items)
	for it := range items {
		offA[it], offB[it], offC[it] = it*ac, it*bc, it*tc.n
	}
	ep := &checkingEpilogue{m: tc.m, n: tc.n, ldc: ldc, offC: offC, visits: make([]atomic.Int32, items*tc.m*tc.n)}
	ep.want, ep.bound = make([]float64, items*tc.m*tc.n), make([]float64, items*tc.m*tc.n)
	ep.plain = make([]float32, items*tc.m*tc.n)
	for it := range items {
		plain := append([]float32(nil), c.data...)
		kern.Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a.data[offA[it]:], lda, b.data[offB[it]:], ldb, tc.beta, plain[offC[it]:], ldc)
		for i := range tc.m {
			for j := range tc.n {
				var s, sa float64
				for p := range tc.k {
					var x, y float64
					if tc.transA {
						x = float64(a.data[p*lda+offA[it]+i])
					} else {
						x = float64(a.data[i*lda+offA[it]+p])
					}
					if tc.transB {
						y = float64(b.data[j*ldb+offB[it]+p])
					} else {
						y = float64(b.data[p*ldb+offB[it]+j])
					}
					s += x * y
					sa += math.Abs(x * y)
				}
				cv := float64(c.data[offC[it]+i*ldc+j])
				x := it*tc.m*tc.n + i*tc.n + j
				ep.want[x] = float64(tc.alpha)*s + float64(tc.beta)*cv
				ep.bound[x] = float64(tc.k+3) * 2 * 0x1p-24 * (math.Abs(float64(tc.alpha))*sa + math.Abs(float64(tc.beta)*cv))
				ep.plain[x] = plain[offC[it]+i*ldc+j]
			}
		}
	}
	got := append([]float32(nil), c.data...)
	ep.c = got
	if tc.items == 0 {
		SgemmEpilogue(kern, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a.data, lda, b.data, ldb, tc.beta, got, ldc, ep)
	} else {
		SgemmBatchedEpilogue(kern, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a.data, lda, offA, b.data, ldb, offB, tc.beta, got, ldc, offC, ep)
	}
	name := fmt.Sprintf("%s %+v", Name(kern), tc)
	for _, e := range ep.errs {
		t.Errorf("%s: %s", name, e)
	}
	if tc.m*tc.n == 0 {
		if n := ep.calls.Load(); n != 0 {
			t.Errorf("%s: %d epilogue calls on an empty C, want none", name, n)
		}
		return
	}
	for x := range ep.visits {
		if v := ep.visits[x].Load(); v != 1 {
			t.Fatalf("%s: element %d of C visited %d times, want once", name, x, v)
		}
	}
	// Every element is 2v + 1 of its product v; the columns between items are untouched.
	for i := range tc.m {
		for j := range ldc {
			it, jj := j/tc.n, j%tc.n
			w := c.data[i*ldc+j]
			if it < items {
				w = 2*ep.plain[it*tc.m*tc.n+i*tc.n+jj] + 1
			}
			if math.Float32bits(got[i*ldc+j]) != math.Float32bits(w) {
				t.Fatalf("%s: C[%d,%d] = %g after the product, want %g", name, i, j, got[i*ldc+j], w)
			}
		}
	}
}

// epilogueCases cover empty products, k = 0 and 1, the unblocked small-product path, partial
// micro-tiles (m, n not multiples of the tiles), C wider than the column block nc and taller
// than the row block mc, depth crossing the depth block kc, and products large enough to split
// over goroutines, as single products and as batches.
var epilogueCases = []epilogueCase{
	{m: 0, n: 5, k: 3, alpha: 1},
	{m: 5, n: 0, k: 3, alpha: 1},
	{m: 4, n: 5, k: 0, alpha: 1, beta: 0.5},
	{m: 40, n: 50, k: 0, alpha: 1, beta: 0},
	{m: 3, n: 4, k: 1, alpha: 1},
	{m: 37, n: 45, k: 1, alpha: -0.5, beta: 1},
	{transA: true, m: 2, n: 3, k: 4, alpha: 1},
	{m: 13, n: 17, k: 19, alpha: 1, beta: 1},
	{transB: true, m: 25, n: 65, k: 257, alpha: 1, beta: 0},
	{transA: true, transB: true, m: 29, n: 31, k: 520, alpha: 0.5, beta: -1},
	{m: 200, n: 40, k: 30, alpha: 1, beta: 0},
	{transA: true, m: 203, n: 150, k: 530, alpha: 0.7, beta: 0},
	{transB: true, m: 97, n: 1100, k: 33, alpha: 1, beta: 1},
	{m: 130, n: 1030, k: 530, alpha: 1, beta: 0},
	{m: 0, n: 5, k: 3, items: 2, alpha: 1},
	{m: 4, n: 5, k: 0, items: 3, alpha: 1, beta: 0.5},
	{m: 2, n: 3, k: 1, items: 3, alpha: 1},
	{transB: true, m: 13, n: 17, k: 16, items: 5, alpha: 0.25, beta: 0},
	{transA: true, m: 100, n: 70, k: 530, items: 2, alpha: 1, beta: 1},
	{m: 250, n: 33, k: 64, items: 1, alpha: 1, beta: 0},
}

func TestEpilogueContract(t *testing.T) {
	kernels := append(kernelsUnderTest(), naiveKernel{})
	for ci, tc := range epilogueCases {
		for ki, kern := range kernels {
			if raceEnabled && ki != 1 && 2*tc.m*tc.n*tc.k > 1<<22 {
				continue // under the race detector, the large products run with Fast's first micro-kernel only
			}
			runEpilogueCase(t, kern, tc, uint64(ci))
		}
	}
}

// TestEpilogueEveryBlocking runs the cases that cross block edges under each blocking Fast can
// choose, and with one goroutine and several.
func TestEpilogueEveryBlocking(t *testing.T) {
	saved, procs := blocks, runtime.GOMAXPROCS(0)
	defer func() { blocks = saved; runtime.GOMAXPROCS(procs) }()
	for _, l2 := range []int{0, 1 << 20} {
		blocks = blockingFor(l2)
		for _, p := range []int{1, 3} {
			runtime.GOMAXPROCS(p)
			for ci, tc := range epilogueCases[11:14] {
				runEpilogueCase(t, Fast{}, tc, uint64(ci))
			}
		}
	}
}

// countingEpilogue counts the elements it is given.
type countingEpilogue struct{ n atomic.Int64 }

func (e *countingEpilogue) Block(_, i0, i1, j0, j1 int) { e.n.Add(int64((i1 - i0) * (j1 - j0))) }

func TestSgemmEpilogueNoSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	const m, n, k = 256, 128, 128 // large enough for the parallel path
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	ep := new(countingEpilogue)
	for _, kern := range kernelsUnderTest()[1:] {
		allocs := testing.AllocsPerRun(20, func() {
			SgemmEpilogue(kern, false, false, m, n, k, 1, a, k, b, n, 0, c, n, ep)
			SgemmBatchedEpilogue(kern, false, false, m, n, k, 1, a, k, oneOffset, b, n, oneOffset, 0, c, n, oneOffset, ep)
		})
		if allocs > 0 {
			t.Errorf("%s: %v allocations per call, want 0", Name(kern), allocs)
		}
	}
	if ep.n.Load() == 0 {
		t.Error("the epilogue never ran")
	}
}

var oneOffset = []int{0}

// stored is the shape in which a rows×cols operand op(X) is stored.
func stored(trans bool, rows, cols int) (int, int) {
	if trans {
		return cols, rows
	}
	return rows, cols
}
