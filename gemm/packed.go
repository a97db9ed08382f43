package gemm

import "fmt"

// PackedB is a right-hand operand op(B) packed once for Fast's micro-kernel, so that many
// products sharing it skip packing it again: attention multiplies each head's keys and values
// by every block of query rows. Its zero value is empty; Fast.PackB fills it, reusing its
// memory, so a steady state allocates nothing.
type PackedB struct {
	mk     *microKernel
	k, n   int
	stride int // floats per panel of nr columns: k·nr
	data   []float32
}

// K and N return the shape of the packed op(B): K rows, N columns.
func (p *PackedB) K() int { return p.k }

// N returns the number of columns of the packed op(B).
func (p *PackedB) N() int { return p.n }

// PackB packs op(B) (k×n, stored with row stride ldb, transposed if trans) into dst for f's
// micro-kernel. It panics, like Sgemm, when b is too short or ldb shorter than a row.
func (f Fast) PackB(dst *PackedB, trans bool, k, n int, b []float32, ldb int) {
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("gemm: negative dimension k=%d n=%d", k, n))
	}
	br, bc := k, n
	if trans {
		br, bc = n, k
	}
	if ldb < max(bc, 1) {
		panic(fmt.Sprintf("gemm: ldb=%d shorter than its row of %d", ldb, bc))
	}
	if br > 0 && bc > 0 && len(b) < (br-1)*ldb+bc {
		panic(fmt.Sprintf("gemm: b has %d elements, a %d×%d matrix with stride %d needs %d", len(b), br, bc, ldb, (br-1)*ldb+bc))
	}
	mk := f.kernel()
	size := roundUp(n, mk.nr) * k
	if cap(dst.data) < size {
		dst.data = make([]float32, size)
	}
	*dst = PackedB{mk: mk, k: k, n: n, stride: k * mk.nr, data: dst.data[:size]}
	if k > 0 && n > 0 {
		packB(mk, trans, b, ldb, 0, k, 0, n, dst.data)
	}
}

// SgemmPacked computes C = alpha·op(A)·B' + beta·C where B' is rows [p0, p0+k) and columns
// [0, n) of the operand packed by PackB: the same result, bit for bit, as Sgemm on those rows
// and columns of op(B). op(A) is m×k as in Sgemm. It panics when B' lies outside the packed
// operand, when b was packed for another micro-kernel, or on the arguments Sgemm rejects.
func (f Fast) SgemmPacked(transA bool, m, n, k int, alpha float32, a []float32, lda int, b *PackedB, p0 int, beta float32, c []float32, ldc int) {
	f.sgemmPacked(transA, m, n, k, alpha, a, lda, b, p0, beta, c, ldc, nil, false)
}

// SgemmPackedSerial is SgemmPacked computed on the calling goroutine alone, with ep (nil: none)
// run on each block of C as it is finished (see Epilogue; item is 0). It suits a caller that
// already runs independent blocks of rows on its own goroutines, each multiplying its rows by
// one operand packed once for all of them: every element of C gets the bits SgemmPacked and
// Sgemm give it, whichever rows a call covers.
func (f Fast) SgemmPackedSerial(transA bool, m, n, k int, alpha float32, a []float32, lda int, b *PackedB, p0 int, beta float32, c []float32, ldc int, ep Epilogue) {
	f.sgemmPacked(transA, m, n, k, alpha, a, lda, b, p0, beta, c, ldc, ep, true)
}

// sgemmPacked is SgemmPacked with an epilogue, on one goroutine if serial.
func (f Fast) sgemmPacked(transA bool, m, n, k int, alpha float32, a []float32, lda int, b *PackedB, p0 int, beta float32, c []float32, ldc int, ep Epilogue, serial bool) {
	if p0 < 0 || k < 0 || n < 0 || p0+k > b.k || n > b.n {
		panic(fmt.Sprintf("gemm: rows [%d, %d) and %d columns of a packed %d×%d operand", p0, p0+k, n, b.k, b.n))
	}
	mk := f.kernel()
	if b.mk != mk && m > 0 && n > 0 && k > 0 {
		panic(fmt.Sprintf("gemm: operand packed for micro-kernel %q, used with %q", b.mk.name, mk.name))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	if lda < max(ac, 1) || ldc < max(n, 1) {
		panic(fmt.Sprintf("gemm: lda=%d or ldc=%d shorter than its row (%d, %d)", lda, ldc, ac, n))
	}
	if ar > 0 && ac > 0 && len(a) < (ar-1)*lda+ac {
		panic(fmt.Sprintf("gemm: a has %d elements, a %d×%d matrix with stride %d needs %d", len(a), ar, ac, lda, (ar-1)*lda+ac))
	}
	if m > 0 && n > 0 && len(c) < (m-1)*ldc+n {
		panic(fmt.Sprintf("gemm: c has %d elements, a %d×%d matrix with stride %d needs %d", len(c), m, n, ldc, (m-1)*ldc+n))
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 || 2*m*n*k <= naiveMaxFlops {
		if k == 0 || alpha == 0 {
			scaleC(m, n, beta, c, ldc)
		} else {
			b.naive(transA, m, n, k, alpha, a, lda, p0, beta, c, ldc)
		}
		if ep != nil {
			ep.Block(0, 0, m, 0, n)
		}
		return
	}
	t := taskPool.Get().(*task)
	*t = task{mk: mk, transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, beta: beta, c: c, ldc: ldc,
		packed: b, packedP0: p0, ep: ep}
	nw := 1
	if !serial && 2*m*n*k >= parallelMinFlops {
		nw = runtimeProcs()
	}
	t.split(nw)
	t.run(nw)
}

// at returns op(B)[p][j] from the packed panels.
func (p *PackedB) at(row, j int) float32 {
	nr := p.mk.nr
	return p.data[j/nr*p.stride+row*nr+j%nr]
}

// naive is the naive product of Sgemm for tiny products, reading B from the panels.
func (p *PackedB) naive(transA bool, m, n, k int, alpha float32, a []float32, lda, p0 int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for q := 0; q < k; q++ {
				var x float32
				if transA {
					x = a[q*lda+i]
				} else {
					x = a[i*lda+q]
				}
				s += x * p.at(p0+q, j)
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}
