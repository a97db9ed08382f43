package nn

import (
	"math"
	"sync/atomic"

	"github.com/fadam-go/fadam/gemm"
)

// CausalSelfAttention is the core of multi-head causal self-attention, without its input and
// output projections: given per-token queries, keys and values packed as qkv[B, T, 3C] (q in
// columns [0, C), k in [C, 2C), v in [2C, 3C), head h in columns [h·C/H, (h+1)·C/H) of each), it
// computes out[B, T, C] with out_h = softmax(q_h k_hᵀ/√(C/H) + causal mask) v_h. The attention
// probabilities att[B, H, T, T] are kept for Backward. Each (batch, head) pair is one unit of
// work, spread over goroutines: blocks of query rows, each two matrix products through
// gemm.Default and a row softmax. With gemm.Fast each head's keys and values are packed once
// for all its row blocks (gemm.PackedB) rather than once per product.
type CausalSelfAttention struct {
	C, Heads int

	job   attentionJob
	split chunkSplitter
	// slots holds one set of packed operands per chunk that can run at once; next hands them
	// out within a call.
	slots []attentionSlot
	next  atomic.Int32
}

// attentionSlot is the per-goroutine state of the attention products: one head's operands.
type attentionSlot struct {
	keysT, values, valuesT, dout, keys, queries headOperand
}

// NewCausalSelfAttention returns attention over c features split into heads heads; c must be a
// multiple of heads.
func NewCausalSelfAttention(c, heads int) *CausalSelfAttention {
	return &CausalSelfAttention{C: c, Heads: heads}
}

// Forward computes out[B, T, C] and the probabilities att[B, H, T, T] from qkv[B, T, 3C],
// overwriting both.
func (a *CausalSelfAttention) Forward(out, att, qkv []float32, b, t int) {
	a.job = attentionJob{a: a, t: t, out: out, att: att, qkv: qkv}
	a.run(b)
}

// Backward adds the gradient with respect to qkv to dqkv[B, T, 3C], given dout[B, T, C] and the
// forward's qkv and att. scratch must hold B·H·T·T floats; it is overwritten.
func (a *CausalSelfAttention) Backward(dqkv, scratch, dout, qkv, att []float32, b, t int) {
	a.job = attentionJob{a: a, backward: true, t: t, out: dout, att: att, qkv: qkv, dqkv: dqkv, scratch: scratch}
	a.run(b)
}

func (a *CausalSelfAttention) run(b int) {
	if n := maxChunks(); len(a.slots) < n {
		a.slots = make([]attentionSlot, n)
	}
	a.next.Store(0)
	a.job.kern = gemm.Default
	a.job.fast = nil
	switch f := gemm.Default.(type) {
	case gemm.Fast:
		a.job.fastKernel = f
		a.job.fast = &a.job.fastKernel
	case *gemm.Fast:
		a.job.fast = f
	}
	runChunks(&a.job, b*a.Heads, 1, &a.split)
}

type attentionJob struct {
	a        *CausalSelfAttention
	backward bool
	t        int
	// out is the output in the forward pass and its gradient in the backward pass.
	out, att, qkv, dqkv, scratch []float32

	kern       gemm.Kernel
	fast       *gemm.Fast // gemm.Default if it is a Fast kernel, else nil
	fastKernel gemm.Fast
}

// AttentionRowBlock is the number of query rows per matrix product. Query rows [i0, i1) attend
// to keys [0, i1) only, so blocking the rows skips most of the masked upper triangle that a full
// T×T product would compute (about 3/8 of the attention products at T = 128).
const AttentionRowBlock = 32

// headOperand is a right-hand operand op(B) of one head's products: packed once for gemm.Fast,
// read in place by any other kernel.
type headOperand struct {
	packed gemm.PackedB
	b      []float32
	ld     int
	trans  bool
}

// set makes op(B) (k×n, stored in b with row stride ld, transposed if trans) the operand.
func (o *headOperand) set(f *gemm.Fast, trans bool, k, n int, b []float32, ld int) {
	o.b, o.ld, o.trans = b, ld, trans
	if f != nil {
		f.PackB(&o.packed, trans, k, n, b, ld)
	}
}

// mul computes C = alpha·op(A)·B' + beta·C with B' rows [p0, p0+k) and columns [0, n) of op(B).
func (j *attentionJob) mul(o *headOperand, transA bool, m, n, k int, alpha float32, a []float32, lda, p0 int, beta float32, c []float32, ldc int) {
	if j.fast != nil {
		j.fast.SgemmPacked(transA, m, n, k, alpha, a, lda, &o.packed, p0, beta, c, ldc)
		return
	}
	off := p0 * o.ld
	if o.trans {
		off = p0
	}
	j.kern.Sgemm(transA, o.trans, m, n, k, alpha, a, lda, o.b[off:], o.ld, beta, c, ldc)
}

func (j *attentionJob) runChunk(lo, hi int) {
	c, nh, t := j.a.C, j.a.Heads, j.t
	hs := c / nh
	scale := float32(1 / math.Sqrt(float64(hs)))
	s := &j.a.slots[j.a.next.Add(1)-1]
	for bh := lo; bh < hi; bh++ {
		b, h := bh/nh, bh%nh
		base := b * t * 3 * c
		q := j.qkv[base+h*hs:]
		key := j.qkv[base+c+h*hs:]
		v := j.qkv[base+2*c+h*hs:]
		o := j.out[b*t*c+h*hs:]
		p := j.att[bh*t*t : (bh+1)*t*t]
		if !j.backward {
			s.keysT.set(j.fast, true, hs, t, key, 3*c)
			s.values.set(j.fast, false, t, hs, v, 3*c)
			for i0 := 0; i0 < t; i0 += AttentionRowBlock {
				i1 := min(i0+AttentionRowBlock, t)
				// Scores s = q·kᵀ/√hs for keys up to i1, the causal row softmax in place (it
				// zeroes the rest of each row), then out = P·v.
				j.mul(&s.keysT, false, i1-i0, i1, hs, scale, q[i0*3*c:], 3*c, 0, 0, p[i0*t:], t)
				for i := i0; i < i1; i++ {
					causalSoftmaxRow(p[i*t:(i+1)*t], i)
				}
				j.mul(&s.values, false, i1-i0, hs, i1, 1, p[i0*t:], t, 0, 0, o[i0*c:], c)
			}
			continue
		}
		dq := j.dqkv[base+h*hs:]
		dk := j.dqkv[base+c+h*hs:]
		dv := j.dqkv[base+2*c+h*hs:]
		ds := j.scratch[bh*t*t : (bh+1)*t*t]
		s.valuesT.set(j.fast, true, hs, t, v, 3*c)
		s.dout.set(j.fast, false, t, hs, o, c)
		s.keys.set(j.fast, false, t, hs, key, 3*c)
		s.queries.set(j.fast, false, t, hs, q, 3*c)
		for i0 := 0; i0 < t; i0 += AttentionRowBlock {
			i1 := min(i0+AttentionRowBlock, t)
			m := i1 - i0
			// dP = dout·vᵀ, dv += Pᵀ·dout, over keys [0, i1).
			j.mul(&s.valuesT, false, m, i1, hs, 1, o[i0*c:], c, 0, 0, ds[i0*t:], t)
			j.mul(&s.dout, true, i1, hs, m, 1, p[i0*t:], t, i0, 1, dv, 3*c)
			// Softmax backward: dS_ij = P_ij (dP_ij − Σ_k P_ik dP_ik); zero above the diagonal.
			for i := i0; i < i1; i++ {
				dr := ds[i*t : (i+1)*t]
				softmaxBackwardRow(p[i*t:i*t+i+1], dr[:i+1])
				clear(dr[i+1:])
			}
			// dq += dS·k/√hs, dk += dSᵀ·q/√hs.
			j.mul(&s.keys, false, m, hs, i1, scale, ds[i0*t:], t, 0, 1, dq[i0*3*c:], 3*c)
			j.mul(&s.queries, true, i1, hs, m, scale, ds[i0*t:], t, i0, 1, dk, 3*c)
		}
	}
}

// causalSoftmaxRow replaces row i of the scores by the softmax over its columns 0..i and
// zeroes columns i+1.. (the causal mask).
func causalSoftmaxRow(row []float32, i int) {
	softmaxRow(row[:i+1])
	clear(row[i+1:])
}

// softmaxRow replaces x (not empty) by its softmax, in assembly where the CPU allows (the same
// bits as softmaxRowGeneric). It returns the row maximum and Σ e^(x−mx) in float64, from
// which log Σ e^x = mx + log sum (float64 keeps a cross-entropy smooth enough for finite
// differences).
func softmaxRow(x []float32) (mx float32, sum float64) {
	if mx, sum, ok := softmaxRowArch(x); ok {
		return mx, sum
	}
	return softmaxRowGeneric(x)
}

// softmaxRowGeneric is softmaxRow in Go. The sum runs over 16 float64 lanes reduced as a tree,
// the order of the 16-lane assembly.
func softmaxRowGeneric(x []float32) (mx float32, sum float64) {
	mx = x[0]
	for _, v := range x {
		mx = max(mx, v)
	}
	for i, v := range x {
		x[i] = v - mx
	}
	expInPlaceGeneric(x)
	var lanes [16]float64
	for i, e := range x {
		lanes[i%16] += float64(e)
	}
	sum = reduce16f64(&lanes)
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
	return mx, sum
}

// softmaxBackwardRow sets d = p ⊙ (d − Σ p⊙d) for one row of probabilities p (not empty) and
// their upstream gradient d: the softmax backward, dS_ij = P_ij (dP_ij − Σ_k P_ik dP_ik).
func softmaxBackwardRow(p, d []float32) {
	if !softmaxBackwardRowArch(p, d) {
		softmaxBackwardRowGeneric(p, d)
	}
}

// softmaxBackwardRowGeneric is softmaxBackwardRow in Go, its dot product summed in float64
// over 16 lanes in the assembly's order.
func softmaxBackwardRowGeneric(p, d []float32) {
	d = d[:len(p)]
	var lanes [16]float64
	for i, pv := range p {
		lanes[i%16] += float64(pv * d[i])
	}
	dot := float32(reduce16f64(&lanes))
	for i, pv := range p {
		d[i] = pv * (d[i] - dot)
	}
}

// reduce16f64 sums 16 lanes as a tree: pairs 8 apart, then 4, 2 and 1 apart.
func reduce16f64(l *[16]float64) float64 {
	var s8 [8]float64
	for j := range s8 {
		s8[j] = l[j] + l[j+8]
	}
	s4 := [4]float64{s8[0] + s8[4], s8[1] + s8[5], s8[2] + s8[6], s8[3] + s8[7]}
	return (s4[0] + s4[2]) + (s4[1] + s4[3])
}
