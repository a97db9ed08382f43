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
				pr, dr := p[i*t:i*t+i+1], ds[i*t:(i+1)*t]
				var dot float64
				for jj, pv := range pr {
					dot += float64(pv * dr[jj])
				}
				df := float32(dot)
				for jj, pv := range pr {
					dr[jj] = pv * (dr[jj] - df)
				}
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
	vis := row[:i+1]
	mx := vis[0]
	for _, x := range vis {
		mx = max(mx, x)
	}
	for jj, x := range vis {
		vis[jj] = x - mx
	}
	expInPlace32(vis)
	var sum float32
	for _, e := range vis {
		sum += e
	}
	inv := 1 / sum
	for jj := range vis {
		vis[jj] *= inv
	}
	clear(row[i+1:])
}
