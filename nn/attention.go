package nn

import (
	"math"

	"github.com/fadam-go/fadam/gemm"
)

// CausalSelfAttention is the core of multi-head causal self-attention, without its input and
// output projections: given per-token queries, keys and values packed as qkv[B, T, 3C] (q in
// columns [0, C), k in [C, 2C), v in [2C, 3C), head h in columns [h·C/H, (h+1)·C/H) of each), it
// computes out[B, T, C] with out_h = softmax(q_h k_hᵀ/√(C/H) + causal mask) v_h. The attention
// probabilities att[B, H, T, T] are kept for Backward. Each (batch, head) pair is one unit of
// work: two matrix products through gemm.Default plus a row softmax, spread over goroutines.
type CausalSelfAttention struct {
	C, Heads int

	job   attentionJob
	split chunkSplitter
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
	runChunks(&a.job, b*a.Heads, 1, &a.split)
}

// Backward adds the gradient with respect to qkv to dqkv[B, T, 3C], given dout[B, T, C] and the
// forward's qkv and att. scratch must hold B·H·T·T floats; it is overwritten.
func (a *CausalSelfAttention) Backward(dqkv, scratch, dout, qkv, att []float32, b, t int) {
	a.job = attentionJob{a: a, backward: true, t: t, out: dout, att: att, qkv: qkv, dqkv: dqkv, scratch: scratch}
	runChunks(&a.job, b*a.Heads, 1, &a.split)
}

type attentionJob struct {
	a        *CausalSelfAttention
	backward bool
	t        int
	// out is the output in the forward pass and its gradient in the backward pass.
	out, att, qkv, dqkv, scratch []float32
}

// AttentionRowBlock is the number of query rows per matrix product. Query rows [i0, i1) attend
// to keys [0, i1) only, so blocking the rows skips most of the masked upper triangle that a full
// T×T product would compute (about 3/8 of the attention products at T = 128).
const AttentionRowBlock = 32

func (j *attentionJob) runChunk(lo, hi int) {
	c, nh, t := j.a.C, j.a.Heads, j.t
	hs := c / nh
	scale := float32(1 / math.Sqrt(float64(hs)))
	k := gemm.Default
	for bh := lo; bh < hi; bh++ {
		b, h := bh/nh, bh%nh
		base := b * t * 3 * c
		q := j.qkv[base+h*hs:]
		key := j.qkv[base+c+h*hs:]
		v := j.qkv[base+2*c+h*hs:]
		o := j.out[b*t*c+h*hs:]
		p := j.att[bh*t*t : (bh+1)*t*t]
		if !j.backward {
			for i0 := 0; i0 < t; i0 += AttentionRowBlock {
				i1 := min(i0+AttentionRowBlock, t)
				// Scores s = q·kᵀ/√hs for keys up to i1, the causal row softmax in place (it
				// zeroes the rest of each row), then out = P·v.
				k.Sgemm(false, true, i1-i0, i1, hs, scale, q[i0*3*c:], 3*c, key, 3*c, 0, p[i0*t:], t)
				for i := i0; i < i1; i++ {
					causalSoftmaxRow(p[i*t:(i+1)*t], i)
				}
				k.Sgemm(false, false, i1-i0, hs, i1, 1, p[i0*t:], t, v, 3*c, 0, o[i0*c:], c)
			}
			continue
		}
		dq := j.dqkv[base+h*hs:]
		dk := j.dqkv[base+c+h*hs:]
		dv := j.dqkv[base+2*c+h*hs:]
		ds := j.scratch[bh*t*t : (bh+1)*t*t]
		for i0 := 0; i0 < t; i0 += AttentionRowBlock {
			i1 := min(i0+AttentionRowBlock, t)
			m := i1 - i0
			// dP = dout·vᵀ, dv += Pᵀ·dout, over keys [0, i1).
			k.Sgemm(false, true, m, i1, hs, 1, o[i0*c:], c, v, 3*c, 0, ds[i0*t:], t)
			k.Sgemm(true, false, i1, hs, m, 1, p[i0*t:], t, o[i0*c:], c, 1, dv, 3*c)
			// Softmax backward: dS_ij = P_ij (dP_ij − Σ_k P_ik dP_ik); zero above the diagonal.
			for i := i0; i < i1; i++ {
				dr := ds[i*t : (i+1)*t]
				softmaxBackwardRow(p[i*t:i*t+i+1], dr[:i+1])
				clear(dr[i+1:])
			}
			// dq += dS·k/√hs, dk += dSᵀ·q/√hs.
			k.Sgemm(false, false, m, hs, i1, scale, ds[i0*t:], t, key, 3*c, 1, dq[i0*3*c:], 3*c)
			k.Sgemm(true, false, i1, hs, m, scale, ds[i0*t:], t, q[i0*3*c:], 3*c, 1, dk, 3*c)
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
// bits as softmaxRowGeneric). It returns the row maximum and Σ e^(x−mx), from which
// log Σ e^x = mx + log sum.
func softmaxRow(x []float32) (mx, sum float32) {
	if mx, sum, ok := softmaxRowArch(x); ok {
		return mx, sum
	}
	return softmaxRowGeneric(x)
}

// softmaxRowGeneric is softmaxRow in Go. The sum runs over 16 lanes reduced as a tree, the
// order of the 16-lane assembly.
func softmaxRowGeneric(x []float32) (mx, sum float32) {
	mx = x[0]
	for _, v := range x {
		mx = max(mx, v)
	}
	for i, v := range x {
		x[i] = v - mx
	}
	expInPlaceGeneric(x)
	var lanes [16]float32
	for i, e := range x {
		lanes[i%16] += e
	}
	sum = reduce16(&lanes)
	inv := 1 / sum
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

// reduce16 sums 16 lanes as a tree: pairs 8 apart, then 4, 2 and 1 apart.
func reduce16(l *[16]float32) float32 {
	var s8 [8]float32
	for j := range s8 {
		s8[j] = l[j] + l[j+8]
	}
	s4 := [4]float32{s8[0] + s8[4], s8[1] + s8[5], s8[2] + s8[6], s8[3] + s8[7]}
	return (s4[0] + s4[2]) + (s4[1] + s4[3])
}

// reduce16f64 is reduce16 in float64.
func reduce16f64(l *[16]float64) float64 {
	var s8 [8]float64
	for j := range s8 {
		s8[j] = l[j] + l[j+8]
	}
	s4 := [4]float64{s8[0] + s8[4], s8[1] + s8[5], s8[2] + s8[6], s8[3] + s8[7]}
	return (s4[0] + s4[2]) + (s4[1] + s4[3])
}
