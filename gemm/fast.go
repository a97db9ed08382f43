package gemm

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// microKernel computes one mr×nr tile of C = alpha·Ap·Bp + beta·C from packed panels: Ap holds
// k groups of mr values of op(A) (one column of the tile's rows at a time), Bp holds k groups of
// nr values of op(B). beta == ±0 stores without reading C, so NaN in C does not survive.
// Each C element is one accumulator summed in increasing p, so results do not depend on which
// goroutine computes the tile.
type microKernel struct {
	name   string
	mr, nr int
	fn     func(k int, a, b, c *float32, ldc int, alpha, beta float32)
}

// Cache blocking, chosen by measurement on the target (Sapphire Rapids, 48 KiB L1d, 2 MiB L2
// per core): a kc×nr B micro-panel stays in L1, the mc×kc A block and kc×nc B block in L2.
const (
	blockK = 256
	blockM = 192
	blockN = 1024
)

// Below these sizes the call runs on one goroutine (handoff costs more than it saves), and
// tiny products skip packing altogether.
const (
	parallelMinFlops = 1 << 21
	naiveMaxFlops    = 1 << 12
)

// Fast is the packed, cache-blocked, multi-goroutine kernel. Its zero value uses the fastest
// micro-kernel this CPU supports (assembly AVX-512 or AVX2+FMA on amd64, portable Go
// otherwise). It is safe for concurrent use and allocates nothing per call in steady state.
type Fast struct {
	mk *microKernel // nil: best available
}

// kernel returns the micro-kernel f uses.
func (f Fast) kernel() *microKernel {
	if f.mk != nil {
		return f.mk
	}
	return bestKernel
}

// String names the micro-kernel, e.g. "fast/avx512".
func (f Fast) String() string { return "fast/" + f.kernel().name }

// Sgemm implements Kernel. It panics, like gonum, when a dimension is negative, a stride is
// shorter than its row, or a slice is too short for the matrix it holds.
func (f Fast) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	flops := 2 * m * n * k
	if flops <= naiveMaxFlops {
		naive(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	mk := f.kernel()
	t := taskPool.Get().(*task)
	*t = task{mk: mk, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	nw := 1
	if flops >= parallelMinFlops {
		nw = runtime.GOMAXPROCS(0)
	}
	t.split(nw)
	ws := getWorkspace(mk)
	if nw > 1 && t.nblocks > 1 {
		t.runParallel(ws, min(nw, t.nblocks))
	} else {
		for i := 0; i < t.nblocks; i++ {
			t.block(i, ws)
		}
	}
	wsPool.Put(ws)
	*t = task{}
	taskPool.Put(t)
}

func checkArgs(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	check := func(name string, s []float32, rows, cols, ld int) {
		if ld < max(cols, 1) {
			panic(fmt.Sprintf("gemm: ld%s=%d shorter than its row of %d", name, ld, cols))
		}
		if rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols {
			panic(fmt.Sprintf("gemm: %s has %d elements, a %d×%d matrix with stride %d needs %d", name, len(s), rows, cols, ld, (rows-1)*ld+cols))
		}
	}
	check("a", a, ar, ac, lda)
	check("b", b, br, bc, ldb)
	check("c", c, m, n, ldc)
}

// scaleC sets C = beta·C, with beta == 0 overwriting (BLAS semantics: NaN in C is cleared).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// naive handles products too small to amortise packing.
func naive(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				var x, y float32
				if transA {
					x = a[p*lda+i]
				} else {
					x = a[i*lda+p]
				}
				if transB {
					y = b[j*ldb+p]
				} else {
					y = b[p*ldb+j]
				}
				s += x * y
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// workspace holds one goroutine's packing buffers.
type workspace struct {
	mk   *microKernel
	ap   []float32 // packed A block, blockM (rounded up to mr) × blockK
	bp   []float32 // packed B block, blockK × blockN (rounded up to nr)
	edge []float32 // mr×nr staging tile for partial tiles at the matrix edge
}

var wsPool sync.Pool

func getWorkspace(mk *microKernel) *workspace {
	if v := wsPool.Get(); v != nil {
		ws := v.(*workspace)
		if ws.mk == mk {
			return ws
		}
	}
	return newWorkspace(mk)
}

func newWorkspace(mk *microKernel) *workspace {
	mc := roundUp(blockM, mk.mr)
	nc := roundUp(blockN, mk.nr)
	return &workspace{
		mk:   mk,
		ap:   make([]float32, mc*blockK),
		bp:   make([]float32, blockK*nc),
		edge: make([]float32, mk.mr*mk.nr),
	}
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// task is one Sgemm call split into independent blocks of C rows or columns. Every block runs
// the same k loop, so the split affects only speed, never the result.
type task struct {
	mk             *microKernel
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	splitM         bool
	bsize, nblocks int
	next           atomic.Int64
	wg             sync.WaitGroup
}

var taskPool = sync.Pool{New: func() any { return new(task) }}

// split cuts C into about nw blocks along its longer side: splitting M repacks B once per
// block and splitting N repacks A, so cutting the longer side duplicates the smaller packing.
func (t *task) split(nw int) {
	t.splitM = t.m >= t.n
	dim, unit := t.n, t.mk.nr
	if t.splitM {
		dim, unit = t.m, t.mk.mr
	}
	t.bsize = roundUp((dim+nw-1)/nw, unit)
	t.nblocks = (dim + t.bsize - 1) / t.bsize
}

// block computes block i of C with the blocked loop: for each column block jc and depth block
// pc, pack B once, then for each row block ic pack A and sweep the micro-kernel over it.
func (t *task) block(i int, ws *workspace) {
	i0, i1, j0, j1 := 0, t.m, 0, t.n
	if t.splitM {
		i0, i1 = i*t.bsize, min((i+1)*t.bsize, t.m)
	} else {
		j0, j1 = i*t.bsize, min((i+1)*t.bsize, t.n)
	}
	mk := t.mk
	mr, nr := mk.mr, mk.nr
	mc := roundUp(blockM, mr)
	nc := roundUp(blockN, nr)
	for jc := j0; jc < j1; jc += nc {
		nb := min(nc, j1-jc)
		for pc := 0; pc < t.k; pc += blockK {
			kb := min(blockK, t.k-pc)
			beta := t.beta
			if pc > 0 {
				beta = 1
			}
			packB(t.transB, t.b, t.ldb, pc, kb, jc, nb, nr, ws.bp)
			for ic := i0; ic < i1; ic += mc {
				mb := min(mc, i1-ic)
				packA(t.transA, t.a, t.lda, ic, mb, pc, kb, mr, ws.ap)
				for jr := 0; jr < nb; jr += nr {
					bpan := &ws.bp[jr*kb]
					nrb := min(nr, nb-jr)
					for ir := 0; ir < mb; ir += mr {
						apan := &ws.ap[ir*kb]
						mrb := min(mr, mb-ir)
						ci := (ic+ir)*t.ldc + jc + jr
						if mrb == mr && nrb == nr {
							mk.fn(kb, apan, bpan, &t.c[ci], t.ldc, t.alpha, beta)
							continue
						}
						// Partial tile: run the same kernel on a staging copy so edge
						// elements get exactly the arithmetic of interior ones.
						e := ws.edge
						if beta != 0 {
							for r := 0; r < mrb; r++ {
								copy(e[r*nr:r*nr+nrb], t.c[ci+r*t.ldc:ci+r*t.ldc+nrb])
							}
						}
						mk.fn(kb, apan, bpan, &e[0], nr, t.alpha, beta)
						for r := 0; r < mrb; r++ {
							copy(t.c[ci+r*t.ldc:ci+r*t.ldc+nrb], e[r*nr:r*nr+nrb])
						}
					}
				}
			}
		}
	}
}

// packA copies op(A)[i0:i0+mb, p0:p0+kb] into panels of mr rows, each stored as kb groups of
// mr values, zero-padding the last panel.
func packA(trans bool, a []float32, lda, i0, mb, p0, kb, mr int, dst []float32) {
	for ip := 0; ip < mb; ip += mr {
		rows := min(mr, mb-ip)
		pan := dst[ip*kb : ip*kb+mr*kb]
		if trans {
			// op(A)[i][p] = a[p*lda+i]: each group is a contiguous run of a row of A.
			for p := 0; p < kb; p++ {
				src := a[(p0+p)*lda+i0+ip:]
				g := pan[p*mr : p*mr+mr]
				copy(g[:rows], src[:rows])
				clear(g[rows:])
			}
			continue
		}
		for r := 0; r < rows; r++ {
			src := a[(i0+ip+r)*lda+p0 : (i0+ip+r)*lda+p0+kb]
			for p, v := range src {
				pan[p*mr+r] = v
			}
		}
		for r := rows; r < mr; r++ {
			for p := 0; p < kb; p++ {
				pan[p*mr+r] = 0
			}
		}
	}
}

// packB copies op(B)[p0:p0+kb, j0:j0+nb] into panels of nr columns, each stored as kb groups
// of nr values, zero-padding the last panel.
func packB(trans bool, b []float32, ldb, p0, kb, j0, nb, nr int, dst []float32) {
	for jp := 0; jp < nb; jp += nr {
		cols := min(nr, nb-jp)
		pan := dst[jp*kb : jp*kb+nr*kb]
		if !trans {
			for p := 0; p < kb; p++ {
				src := b[(p0+p)*ldb+j0+jp:]
				g := pan[p*nr : p*nr+nr]
				copy(g[:cols], src[:cols])
				clear(g[cols:])
			}
			continue
		}
		// op(B)[p][j] = b[j*ldb+p]: each column of the panel is a contiguous run of a row of B.
		for c := 0; c < cols; c++ {
			src := b[(j0+jp+c)*ldb+p0 : (j0+jp+c)*ldb+p0+kb]
			for p, v := range src {
				pan[p*nr+c] = v
			}
		}
		for c := cols; c < nr; c++ {
			for p := 0; p < kb; p++ {
				pan[p*nr+c] = 0
			}
		}
	}
}

// Worker goroutines are started once and reused, so a call hands work over a channel instead
// of allocating goroutines; each worker owns its packing buffers.
var (
	workerMu sync.Mutex
	nworkers int
	workCh   = make(chan *task, 64)
)

func ensureWorkers(n int) int {
	workerMu.Lock()
	defer workerMu.Unlock()
	for nworkers < n {
		nworkers++
		go worker()
	}
	return nworkers
}

func worker() {
	spaces := map[*microKernel]*workspace{}
	for t := range workCh {
		ws := spaces[t.mk]
		if ws == nil {
			ws = newWorkspace(t.mk)
			spaces[t.mk] = ws
		}
		t.drain(ws)
		t.wg.Done()
	}
}

// drain runs blocks until none are left.
func (t *task) drain(ws *workspace) {
	for {
		i := int(t.next.Add(1) - 1)
		if i >= t.nblocks {
			return
		}
		t.block(i, ws)
	}
}

func (t *task) runParallel(ws *workspace, nw int) {
	helpers := min(nw-1, ensureWorkers(nw-1))
	t.wg.Add(helpers)
	for h := 0; h < helpers; h++ {
		workCh <- t
	}
	t.drain(ws)
	t.wg.Wait()
}

// portableKernel is the pure-Go micro-kernel used when no assembly kernel fits the CPU.
var portableKernel = &microKernel{name: "go", mr: 4, nr: 4, fn: kernelGo}

func kernelGo(k int, a, b, c *float32, ldc int, alpha, beta float32) {
	ap := unsafe.Slice(a, 4*k)
	bp := unsafe.Slice(b, 4*k)
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := 0; p < k; p++ {
		av := ap[4*p : 4*p+4 : 4*p+4]
		bv := bp[4*p : 4*p+4 : 4*p+4]
		a0, a1, a2, a3 := av[0], av[1], av[2], av[3]
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	cs := unsafe.Slice(c, 3*ldc+4)
	acc := [16]float32{c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33}
	for r := 0; r < 4; r++ {
		row := cs[r*ldc : r*ldc+4 : r*ldc+4]
		for j := range row {
			if beta == 0 {
				row[j] = alpha * acc[4*r+j]
			} else {
				row[j] = alpha*acc[4*r+j] + beta*row[j]
			}
		}
	}
}

// bestKernel is the micro-kernel Fast{} uses: the first assembly kernel this CPU supports, or
// the portable one.
var bestKernel = func() *microKernel {
	if ks := asmKernels(); len(ks) > 0 {
		return ks[0]
	}
	return portableKernel
}()
