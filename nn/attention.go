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
			// Scores s = q·kᵀ/√hs, then the causal row softmax in place.
			k.Sgemm(false, true, t, t, hs, scale, q, 3*c, key, 3*c, 0, p, t)
			causalSoftmaxRows(p, t)
			k.Sgemm(false, false, t, hs, t, 1, p, t, v, 3*c, 0, o, c)
			continue
		}
		dq := j.dqkv[base+h*hs:]
		dk := j.dqkv[base+c+h*hs:]
		dv := j.dqkv[base+2*c+h*hs:]
		ds := j.scratch[bh*t*t : (bh+1)*t*t]
		// dP = dout·vᵀ, dv += Pᵀ·dout.
		k.Sgemm(false, true, t, t, hs, 1, o, c, v, 3*c, 0, ds, t)
		k.Sgemm(true, false, t, hs, t, 1, p, t, o, c, 1, dv, 3*c)
		// Softmax backward: dS_ij = P_ij (dP_ij − Σ_k P_ik dP_ik); zero above the diagonal.
		for i := range t {
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
		k.Sgemm(false, false, t, hs, t, scale, ds, t, key, 3*c, 1, dq, 3*c)
		k.Sgemm(true, false, t, hs, t, scale, ds, t, q, 3*c, 1, dk, 3*c)
	}
}

// causalSoftmaxRows replaces each row i of the t×t scores s by softmax over columns 0..i and
// zeroes columns i+1.. (the causal mask).
func causalSoftmaxRows(s []float32, t int) {
	for i := range t {
		row := s[i*t : (i+1)*t]
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
		inv := float32(1 / sum)
		for jj := range vis {
			vis[jj] *= inv
		}
		clear(row[i+1:])
	}
}
