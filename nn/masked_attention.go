package nn

import (
	"math"

	"github.com/fadam-go/fadam/gemm"
)

// MaskedSelfAttention is the core of multi-head bidirectional (non-causal) self-attention over
// padded variable-length sequences, without its input and output projections: with qkv[B, T, 3C]
// packed as for CausalSelfAttention, out_h = softmax(q_h k_hᵀ/√(C/H) + mask) v_h, where the mask
// hides the keys at or beyond each sequence's length lens[b]. Rows of queries beyond lens[b] are
// computed the same way (over the valid keys) and are the caller's to ignore. Each (batch, head)
// pair is one unit of work spread over goroutines.
type MaskedSelfAttention struct {
	C, Heads int

	job   maskedAttentionJob
	split chunkSplitter
}

// NewMaskedSelfAttention returns attention over c features split into heads heads; c must be a
// multiple of heads.
func NewMaskedSelfAttention(c, heads int) *MaskedSelfAttention {
	return &MaskedSelfAttention{C: c, Heads: heads}
}

// Forward computes out[B, T, C] and the probabilities att[B, H, T, T] from qkv[B, T, 3C],
// overwriting both. lens[b] in [1, t] is the number of valid frames of sequence b.
func (a *MaskedSelfAttention) Forward(out, att, qkv []float32, lens []int, b, t int) {
	a.job = maskedAttentionJob{a: a, t: t, lens: lens, out: out, att: att, qkv: qkv}
	runChunks(&a.job, b*a.Heads, 1, &a.split)
}

// Backward adds the gradient with respect to qkv to dqkv[B, T, 3C], given dout[B, T, C] and the
// forward's qkv, att and lens. scratch must hold B·H·T·T floats; it is overwritten.
func (a *MaskedSelfAttention) Backward(dqkv, scratch, dout, qkv, att []float32, lens []int, b, t int) {
	a.job = maskedAttentionJob{a: a, backward: true, t: t, lens: lens, out: dout, att: att, qkv: qkv, dqkv: dqkv, scratch: scratch}
	runChunks(&a.job, b*a.Heads, 1, &a.split)
}

type maskedAttentionJob struct {
	a        *MaskedSelfAttention
	backward bool
	t        int
	lens     []int
	// out is the output in the forward pass and its gradient in the backward pass.
	out, att, qkv, dqkv, scratch []float32
}

func (j *maskedAttentionJob) runChunk(lo, hi int) {
	c, nh, t := j.a.C, j.a.Heads, j.t
	hs := c / nh
	scale := float32(1 / math.Sqrt(float64(hs)))
	k := gemm.Default
	for bh := lo; bh < hi; bh++ {
		b, h := bh/nh, bh%nh
		n := min(max(j.lens[b], 1), t) // valid keys
		base := b * t * 3 * c
		q := j.qkv[base+h*hs:]
		key := j.qkv[base+c+h*hs:]
		v := j.qkv[base+2*c+h*hs:]
		o := j.out[b*t*c+h*hs:]
		p := j.att[bh*t*t : (bh+1)*t*t]
		if !j.backward {
			// Scores over the n valid keys (columns n.. stay 0), row softmax, then P·v.
			clear(p)
			k.Sgemm(false, true, t, n, hs, scale, q, 3*c, key, 3*c, 0, p, t)
			for i := range t {
				maskedSoftmaxRow(p[i*t : i*t+n])
			}
			k.Sgemm(false, false, t, hs, n, 1, p, t, v, 3*c, 0, o, c)
			continue
		}
		dq := j.dqkv[base+h*hs:]
		dk := j.dqkv[base+c+h*hs:]
		dv := j.dqkv[base+2*c+h*hs:]
		ds := j.scratch[bh*t*t : (bh+1)*t*t]
		// dP = dout·vᵀ and dv += Pᵀ·dout, over the valid keys only.
		k.Sgemm(false, true, t, n, hs, 1, o, c, v, 3*c, 0, ds, t)
		k.Sgemm(true, false, n, hs, t, 1, p, t, o, c, 1, dv, 3*c)
		// Softmax backward: dS_ij = P_ij (dP_ij − Σ_k P_ik dP_ik).
		for i := range t {
			pr, dr := p[i*t:i*t+n], ds[i*t:i*t+n]
			var dot float64
			for jj, pv := range pr {
				dot += float64(pv * dr[jj])
			}
			df := float32(dot)
			for jj, pv := range pr {
				dr[jj] = pv * (dr[jj] - df)
			}
		}
		// dq += dS·k/√hs, dk += dSᵀ·q/√hs.
		k.Sgemm(false, false, t, hs, n, scale, ds, t, key, 3*c, 1, dq, 3*c)
		k.Sgemm(true, false, n, hs, t, scale, ds, t, q, 3*c, 1, dk, 3*c)
	}
}

// maskedSoftmaxRow replaces row by its softmax.
func maskedSoftmaxRow(row []float32) {
	mx := row[0]
	for _, x := range row {
		mx = max(mx, x)
	}
	var sum float64
	for jj, x := range row {
		e := math.Exp(float64(x - mx))
		row[jj] = float32(e)
		sum += e
	}
	inv := float32(1 / sum)
	for jj := range row {
		row[jj] *= inv
	}
}
