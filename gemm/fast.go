package gemm

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// microKernel computes one mr×nr tile of C = alpha·Ap·Bp + beta·C from panels: Ap holds k
// groups of mr values of op(A) (one column of the tile's rows at a time), Bp holds k groups of
// nr values of op(B). beta == ±0 stores without reading C, so NaN in C does not survive.
// Each C element is one accumulator summed in increasing p, so results do not depend on which
// goroutine computes the tile.
type microKernel struct {
	name   string
	mr, nr int
	// fn reads A[r][p] at a[r*csa+p*rsa]: packed panels have rsa = mr, csa = 1; a kernel
	// with directA set also reads full panels of A in place (rsa = 1, csa = lda, or
	// transposed rsa = lda, csa = 1), which saves packing A and measured no slower.
	fn      func(k int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)
	directA bool
	// pack, if set, packs one panel (see packPanel) and reports whether it could; the
	// portable loops run otherwise.
	pack func(dst, src *float32, kb, ps, rs, rows, w int) bool
	// packRows, if set, packs whole panels of op(A) = Aᵀ straight from rows of A, ps
	// floats apart: for p < kb, j < panels, r < mr, dst[j*ps+p*mr+r] = src[p*lda+j*mr+r].
	// See packA.
	packRows func(dst, src *float32, kb, lda, panels, ps int)
	// packRowsB, if set, packs whole panels of a non-transposed op(B) straight from rows of
	// B, ldb floats apart: for p < kb, j < panels, r < nr, dst[j*kb*nr+p*nr+r] =
	// src[p*ldb+j*nr+r]. See packB.
	packRowsB func(dst, src *float32, kb, ldb, panels int)
	// fmaLoop runs n iterations of independent FMAs worth fmaLoopFlops each (see PeakGFLOPS).
	fmaLoop      func(n int)
	fmaLoopFlops int
}

// blocking holds the cache block sizes of the blocked loop (see task.gemm): every mr-row
// panel of an mc×kc A block, which stays in L2, runs against one kc×nr B micro-panel before the
// next, and a packed kc×nc B block serves every A block of its columns.
type blocking struct {
	kc, mc, nc int
}

// blocks is the blocking Fast uses, fixed at init (tests switch it between calls).
var blocks = blockingFor(l2Size())

// blockingFor returns the blocking measured best on a core with an L2 of l2 bytes (0 when
// unknown). Both keep the A block at 192 KiB. On Zen 4 (32 KiB L1d, 1 MiB L2) a depth of 512
// ran the GPT's d=512 products 3% faster than 256 and the d=128 ones no slower, as the
// C tile is read and written half as often; on Sapphire Rapids (48 KiB L1d, 2 MiB L2) 256
// was the best depth measured, and it stays the choice where the L2 size is unknown.
func blockingFor(l2 int) blocking {
	if l2 > 0 && l2 < 2<<20 {
		return blocking{kc: 512, mc: 96, nc: 1024}
	}
	return blocking{kc: 256, mc: 192, nc: 1024}
}

// DepthBlock returns the depth of the blocks in which kern sums a product, or 0 when kern is
// not Fast (whose blocking is known). Fast computes every element of C as a chain over the
// depth blocks of the product, in increasing depth: C = beta·C + alpha·S₀, then C = C + alpha·S₁,
// C = C + alpha·S₂, …, where S_b is the sum over block b accumulated from zero and each step is
// one rounding. So with alpha = 1, a product cut along its depth at multiples of DepthBlock
// gives the bits of the whole product when its first part is computed into C with the
// caller's beta and every later block on its own (beta = 0, into a buffer of its own), those
// blocks then added to C one at a time in increasing depth (SgemmPartials computes those blocks
// in one call). The value can change between calls only when a test switches the blocking.
func DepthBlock(kern Kernel) int {
	if _, ok := asFast(kern); ok {
		return blocks.kc
	}
	return 0
}

// Below these sizes the call runs on one goroutine (handoff costs more than it saves), and
// tiny products skip packing altogether.
const (
	parallelMinFlops = 1 << 21
	naiveMaxFlops    = 1 << 8
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
		nw = runtimeProcs()
	}
	t.split(nw)
	t.run(nw)
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
	blk  blocking  // the blocking its buffers are sized for
	ap   []float32 // A block packed, mc (rounded up to mr) × kc, or copied (see aCopied)
	bp   []float32 // packed B block, kc × nc (rounded up to nr)
	edge []float32 // mr×nr staging tile for partial tiles at the matrix edge
}

var wsPool sync.Pool

func getWorkspace(mk *microKernel) *workspace {
	if v := wsPool.Get(); v != nil {
		ws := v.(*workspace)
		if ws.mk == mk && ws.blk == blocks {
			return ws
		}
	}
	return newWorkspace(mk)
}

func newWorkspace(mk *microKernel) *workspace {
	mc := roundUp(blocks.mc, mk.mr)
	nc := roundUp(blocks.nc, mk.nr)
	return &workspace{
		mk:   mk,
		blk:  blocks,
		ap:   make([]float32, mc*copyStride(blocks.kc)+mk.mr*blocks.kc),
		bp:   make([]float32, blocks.kc*nc),
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
	offA, offB     []int // batch item offsets (SgemmBatched), nil for one product
	offC           []int
	packed         *PackedB  // op(B) packed in advance (SgemmPacked), nil to pack here
	parts          []float32 // each depth block's product on its own (SgemmPartials), or nil
	packedP0       int       // first row of op(B) in packed
	ep             Epilogue  // run on each finished block of C (see epilogue.go), or nil
	next           atomic.Int64
	wg             sync.WaitGroup
}

var taskPool = sync.Pool{New: func() any { return new(task) }}

// split cuts C into about nw blocks along M or N, whichever leaves the largest block smallest:
// blocks are whole micro-tiles, so 128 rows split in two are 72 and 56 (11 tiles of 12) while
// 128 columns split evenly into panels of 32. On a tie it cuts the longer side: splitting M
// repacks B once per block and splitting N repacks A, so cutting the longer side duplicates
// the smaller packing.
func (t *task) split(nw int) {
	mr, nr := t.mk.mr, t.mk.nr
	blockM := roundUp((t.m+nw-1)/nw, mr)
	blockN := roundUp((t.n+nw-1)/nw, nr)
	costM := blockM * roundUp(t.n, nr) // tiles of the largest block, in elements of C
	costN := roundUp(t.m, mr) * blockN
	t.splitM = costM < costN || costM == costN && t.m >= t.n
	dim := t.n
	t.bsize = blockN
	if t.splitM {
		dim, t.bsize = t.m, blockM
	}
	t.nblocks = (dim + t.bsize - 1) / t.bsize
}

// block computes block i of C, or batch item i.
func (t *task) block(i int, ws *workspace) {
	if t.offA != nil {
		// Batch item i: a whole product on this goroutine.
		a, b, c := t.a[t.offA[i]:], t.b[t.offB[i]:], t.c[t.offC[i]:]
		if 2*t.m*t.n*t.k <= naiveMaxFlops {
			naive(t.transA, t.transB, t.m, t.n, t.k, t.alpha, a, t.lda, b, t.ldb, t.beta, c, t.ldc)
			t.finish(i, 0, t.m, 0, t.n)
			return
		}
		t.gemm(i, a, b, c, 0, t.m, 0, t.n, ws)
		return
	}
	i0, i1, j0, j1 := 0, t.m, 0, t.n
	if t.splitM {
		i0, i1 = i*t.bsize, min((i+1)*t.bsize, t.m)
	} else {
		j0, j1 = i*t.bsize, min((i+1)*t.bsize, t.n)
	}
	t.gemm(0, t.a, t.b, t.c, i0, i1, j0, j1, ws)
}

// gemm computes rows i0:i1 and columns j0:j1 of C (of batch item item, for the epilogue) with
// the blocked loop: for each column block jc and depth block pc, pack B once, then for each row
// block ic pack A and sweep the micro-kernel over it. With t.parts set, each depth block's
// product goes to its own matrix in t.parts instead (see SgemmPartials).
//
// While the micro-kernel works on one block, the next block of op(B) (not transposed) and of
// op(A) = Aᵀ is prefetched into L2 a few rows per micro-kernel call (see spread): on the GPT's
// weight gradients (depth = tokens), whose x and dy come from memory or L3, packing B measured
// about 4 times slower than from L2 without it, and the products 2–5% slower on one core.
func (t *task) gemm(item int, a, b, c []float32, i0, i1, j0, j1 int, ws *workspace) {
	mk := t.mk
	mr, nr := mk.mr, mk.nr
	mc := roundUp(blocks.mc, mr)
	nc := roundUp(blocks.nc, nr)
	mode := t.aMode()
	var nextA, nextB spread
	for jc := j0; jc < j1; jc += nc {
		nb := min(nc, j1-jc)
		for pc := 0; pc < t.k; pc += blocks.kc {
			kb := min(blocks.kc, t.k-pc)
			beta, cc, ldc := t.beta, c, t.ldc
			if pc > 0 {
				beta = 1
			}
			if t.parts != nil { // block pc/kc's own m×n product
				beta, cc, ldc = 0, t.parts[pc/blocks.kc*t.m*t.n:], t.n
			}
			if t.packed == nil {
				packB(mk, t.transB, b, t.ldb, pc, kb, jc, nb, ws.bp)
			}
			if npc := pc + blocks.kc; t.packed == nil && !t.transB && npc < t.k && min(blocks.kc, t.k-npc)*nb <= prefetchMaxB {
				tiles := (i1 - i0 + mr - 1) / mr * ((nb + nr - 1) / nr)
				nextB.start(npc*t.ldb+jc, min(blocks.kc, t.k-npc), t.ldb, (nb+15)/16+1, tiles)
			}
			for ic := i0; ic < i1; ic += mc {
				mb := min(mc, i1-ic)
				tail := mb % mr
				ps := panelStride(kb, mr)
				tailOff := (mb - tail) / mr * ps // where the partial panel of op(A) is packed
				ldCopy := copyStride(kb)
				switch mode {
				case aPacked:
					packA(mk, t.transA, a, t.lda, ic, mb, pc, kb, ws.ap, ps)
				case aCopied:
					for r := 0; r < mb-tail; r++ {
						copy(ws.ap[r*ldCopy:r*ldCopy+kb], a[(ic+r)*t.lda+pc:])
					}
					tailOff = (mb - tail) * ldCopy
				}
				if mode != aPacked && tail != 0 {
					// Full panels are read in place; the partial one is packed (zero rows
					// added) so the kernel never reads past A.
					packA(mk, t.transA, a, t.lda, ic+mb-tail, tail, pc, kb, ws.ap[tailOff:], ps)
				}
				if mode != aPacked && !t.transA {
					t.prefetchNextA(a, i0, i1, j1, jc, pc, ic)
				}
				if t.transA { // the next block of A: the next rows of C, else the next depth
					nic, npc := ic+mc, pc
					if nic >= i1 {
						nic, npc = i0, pc+blocks.kc
					}
					if npc < t.k {
						tiles := (mb + mr - 1) / mr * ((nb + nr - 1) / nr)
						nextA.start(npc*t.lda+nic, min(blocks.kc, t.k-npc), t.lda, (min(mc, i1-nic)+15)/16+1, tiles)
					}
				}
				for jr := 0; jr < nb; jr += nr {
					bpan := &ws.bp[jr*kb]
					if t.packed != nil { // panel (jc+jr)/nr, from row packedP0+pc
						bpan = &t.packed.data[(jc+jr)/nr*t.packed.stride+(t.packedP0+pc)*nr]
					}
					nrb := min(nr, nb-jr)
					for ir := 0; ir < mb; ir += mr {
						nextA.step(a)
						nextB.step(b)
						mrb := min(mr, mb-ir)
						apan, rsa, csa := &ws.ap[tailOff], mr, 1
						switch {
						case mrb < mr:
						case mode == aPacked:
							apan = &ws.ap[ir/mr*ps]
						case mode == aCopied:
							apan, rsa, csa = &ws.ap[ir*ldCopy], 1, ldCopy
						case t.transA: // op(A)[i][p] = a[p*lda+i]
							apan, rsa, csa = &a[pc*t.lda+ic+ir], t.lda, 1
						default:
							apan, rsa, csa = &a[(ic+ir)*t.lda+pc], 1, t.lda
						}
						ci := (ic+ir)*ldc + jc + jr
						if mrb == mr && nrb == nr {
							mk.fn(kb, apan, rsa, csa, bpan, &cc[ci], ldc, t.alpha, beta)
							continue
						}
						// Partial tile: run the same kernel on a staging copy so edge
						// elements get exactly the arithmetic of interior ones.
						e := ws.edge
						if beta != 0 {
							for r := 0; r < mrb; r++ {
								copy(e[r*nr:r*nr+nrb], cc[ci+r*ldc:ci+r*ldc+nrb])
							}
						}
						mk.fn(kb, apan, rsa, csa, bpan, &e[0], nr, t.alpha, beta)
						for r := 0; r < mrb; r++ {
							copy(cc[ci+r*ldc:ci+r*ldc+nrb], e[r*nr:r*nr+nrb])
						}
					}
				}
				// The epilogue (see epilogue.go): after the last depth block, rows ic:ic+mb
				// and columns jc:jc+nb of C are final and still in L1/L2.
				if pc+kb == t.k {
					t.finish(item, ic, ic+mb, jc, jc+nb)
				}
			}
		}
	}
}

// prefetchMaxB is the largest block of op(B), in floats, that task.gemm prefetches: 1 MiB, a
// Zen 4 core's L2. A larger one (with 1024 columns the packed block alone is 2 MiB) cannot
// wait there for its turn; the GPT's weight gradient with one (fcout's at d=512) measured 1%
// slower with the prefetch, within the noise.
const prefetchMaxB = 1 << 18

// spread prefetches a block of rows into L2 a few rows at a time, one step per micro-kernel
// call, so that the block of an operand the next blocked loop iteration reads arrives while the
// kernel works on this one, without the burst of misses that asking for it at once causes
// (which measured slower, see prefetchNextA).
type spread struct {
	base, left, per, stride, lines int
}

// start sets s to prefetch rows rows of lines cache lines each, starting at element base of
// the operand and stride elements apart, over steps steps.
func (s *spread) start(base, rows, stride, lines, steps int) {
	*s = spread{base: base, left: rows, per: (rows + steps - 1) / max(steps, 1), stride: stride, lines: lines}
}

// step prefetches the next rows of s from x.
func (s *spread) step(x []float32) {
	if s.left > 0 {
		r := min(s.per, s.left)
		prefetchRowsL2(&x[s.base], r, s.stride, s.lines)
		s.base += r * s.stride
		s.left -= r
	}
}

// prefetchNextA asks the caches for the block of op(A) = A (not transposed, read in place)
// that follows block (jc, pc, ic) in task.gemm's loops over rows i0:i1 and columns :j1, so
// that it arrives while the micro-kernel works on this one. The first column panel of a block
// otherwise waits on A 12 rows at a time, in pieces of a few lines per row that the hardware
// prefetchers do not follow: with A coming from L3 (written by the layer before), this
// prefetch ran the GPT's 4096×128×128 products 3–8% faster. It is skipped for blocks of more
// than prefetchMaxLines lines, where it measured slower (depth 512), and for op(A) = Aᵀ, where
// it measured slower too.
func (t *task) prefetchNextA(a []float32, i0, i1, j1, jc, pc, ic int) {
	mc := roundUp(blocks.mc, t.mk.mr)
	switch {
	case ic+mc < i1:
		ic += mc
	case pc+blocks.kc < t.k:
		ic, pc = i0, pc+blocks.kc
	case jc+roundUp(blocks.nc, t.mk.nr) < j1:
		ic, pc = i0, 0
	default:
		return
	}
	mb, kb := min(mc, i1-ic), min(blocks.kc, t.k-pc)
	if lines := (kb+15)/16 + 1; mb*lines <= prefetchMaxLines {
		prefetchRows(&a[ic*t.lda+pc], mb, t.lda, lines)
	}
}

// prefetchMaxLines is the largest block of A, in cache lines, that prefetchNextA asks for.
const prefetchMaxLines = 1024

// aMode is how the micro-kernel reads op(A).
type aMode int

const (
	aInPlace aMode = iota // full panels straight from A, the partial one packed
	aPacked               // every panel packed (see packA)
	aCopied               // the block's rows copied to a stride that spreads them over L1
)

// aMode chooses how t's kernel reads op(A). Reading A in place saves packing it and measured
// no slower, except where its row stride makes the rows the kernel reads at once fall into
// few of the 64 sets of L1 (32 KiB 8-way on Zen 4, 48 KiB 12-way on Golden Cove), where they
// evict each other and the B panel and the kernel runs from L2:
//   - op(A) = Aᵀ (the weight gradient dyᵀ·x) reads one row of A per depth step, a kc-row
//     block; with a stride that is a multiple of 2 KiB they share 2 sets. A dy with 512 or
//     2048 columns measured 5–25% slower in place than packed, and packing measured 5–9%
//     slower than in place at other strides, so only these pack.
//   - op(A) = A reads mr rows at once; with a stride that is a multiple of 4 KiB they share
//     one set: up to 30% slower at 2048 columns, and a 2 KiB stride (2 sets) was not. A row
//     copy to a padded stride is one pass over the block, which every column panel reuses.
func (t *task) aMode() aMode {
	switch {
	case !t.mk.directA:
		return aPacked
	case t.transA && t.mk.packRows != nil && t.lda%512 == 0:
		return aPacked
	case !t.transA && t.lda%1024 == 0:
		return aCopied
	}
	return aInPlace
}

// copyStride is the row stride of an A block of kb columns copied in aCopied mode: a multiple
// of 16 floats (whole cache lines) plus one line, so successive rows start in different
// L1 sets.
func copyStride(kb int) int { return roundUp(kb, 16) + 16 }

// packA copies op(A)[i0:i0+mb, p0:p0+kb] into panels of mr rows, ps floats apart (see
// panelStride), each stored as kb groups of mr values, zero-padding the last panel.
func packA(mk *microKernel, trans bool, a []float32, lda, i0, mb, p0, kb int, dst []float32, ps int) {
	mr := mk.mr
	start := 0
	if full := mb / mr; trans && mk.packRows != nil && full > 0 {
		_ = a[(p0+kb-1)*lda+i0+full*mr-1] // the panels lie inside a
		_ = dst[(full-1)*ps+kb*mr-1]
		mk.packRows(&dst[0], &a[p0*lda+i0], kb, lda, full, ps)
		start = full * mr
	}
	for ip := start; ip < mb; ip += mr {
		rows := min(mr, mb-ip)
		d := dst[ip/mr*ps:]
		if trans { // op(A)[i][p] = a[p*lda+i]
			packPanel(mk, d, a, p0*lda+i0+ip, kb, lda, 1, rows, mr)
		} else {
			packPanel(mk, d, a, (i0+ip)*lda+p0, kb, 1, lda, rows, mr)
		}
	}
}

// panelStride is the distance between packed panels of A of depth kb: one cache line more
// than a panel, so the panels a row of A is spread over start in different L1 sets (kb·mr
// floats apart they would often share one).
func panelStride(kb, mr int) int { return kb*mr + 16 }

// packB copies op(B)[p0:p0+kb, j0:j0+nb] into panels of nr columns, each stored as kb groups
// of nr values, zero-padding the last panel.
func packB(mk *microKernel, trans bool, b []float32, ldb, p0, kb, j0, nb int, dst []float32) {
	nr := mk.nr
	start := 0
	if full := nb / nr; !trans && mk.packRowsB != nil && full > 0 {
		_ = b[(p0+kb-1)*ldb+j0+full*nr-1] // the panels lie inside b
		_ = dst[full*nr*kb-1]
		mk.packRowsB(&dst[0], &b[p0*ldb+j0], kb, ldb, full)
		start = full * nr
	}
	for jp := start; jp < nb; jp += nr {
		cols := min(nr, nb-jp)
		if trans { // op(B)[p][j] = b[j*ldb+p]
			packPanel(mk, dst[jp*kb:], b, (j0+jp)*ldb+p0, kb, 1, ldb, cols, nr)
		} else {
			packPanel(mk, dst[jp*kb:], b, p0*ldb+j0+jp, kb, ldb, 1, cols, nr)
		}
	}
}

// packPanel sets dst[p*w+r] = src[base+p*ps+r*rs] for p < kb, r < rows, and zero for
// rows ≤ r < w.
func packPanel(mk *microKernel, dst, src []float32, base, kb, ps, rs, rows, w int) {
	dst = dst[:kb*w]
	_ = src[base+(kb-1)*ps+(rows-1)*rs] // the whole panel lies inside src
	if mk.pack != nil && mk.pack(&dst[0], &src[base], kb, ps, rs, rows, w) {
		return
	}
	if rs == 1 {
		for p := 0; p < kb; p++ {
			d := dst[p*w : p*w+w]
			s := src[base+p*ps : base+p*ps+rows]
			for r, v := range s {
				d[r] = v
			}
			clear(d[rows:])
		}
		return
	}
	for r := 0; r < w; r++ {
		if r >= rows {
			for p := 0; p < kb; p++ {
				dst[p*w+r] = 0
			}
			continue
		}
		for p := 0; p < kb; p++ {
			dst[p*w+r] = src[base+r*rs+p*ps]
		}
	}
}

// runtimeProcs is the number of goroutines a large product is split over.
func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

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
		if ws == nil || ws.blk != blocks {
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

// run computes all blocks on up to nw goroutines, then returns t to taskPool.
func (t *task) run(nw int) {
	ws := getWorkspace(t.mk)
	if nw = min(nw, t.nblocks); nw > 1 {
		t.runParallel(ws, nw)
	} else {
		for i := 0; i < t.nblocks; i++ {
			t.block(i, ws)
		}
	}
	wsPool.Put(ws)
	*t = task{}
	taskPool.Put(t)
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

func kernelGo(k int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32) {
	ap := unsafe.Slice(a, 3*csa+(k-1)*rsa+1)
	bp := unsafe.Slice(b, 4*k)
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := 0; p < k; p++ {
		ai := p * rsa
		bv := bp[4*p : 4*p+4 : 4*p+4]
		a0, a1, a2, a3 := ap[ai], ap[ai+csa], ap[ai+2*csa], ap[ai+3*csa]
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
