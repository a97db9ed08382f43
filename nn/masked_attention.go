package nn

// MaskedSelfAttention is the core of multi-head bidirectional (non-causal) self-attention over
// padded variable-length sequences, without its input and output projections: with qkv[B, T, 3C]
// packed as for CausalSelfAttention, out_h = softmax(q_h k_hᵀ/√(C/H) + mask) v_h, where the mask
// hides the keys at or beyond each sequence's length lens[b] (a length below 1 counts as 1, one
// above T as T). Rows of queries beyond lens[b] are computed the same way (over the valid keys)
// and are the caller's to ignore; their output gradients flow back like any other row's.
//
// It runs on the same fused, tiled kernels as CausalSelfAttention: each (batch, head) pair is
// one unit of work on the package's worker goroutines, blocks of AttentionRowBlock query rows
// form their scores against the valid keys only in a per-goroutine scratch, and ForwardStats
// keeps two floats per query row from which BackwardStats recomputes the probabilities bit for
// bit instead of storing B·H·T² of them. Forward and Backward keep the probabilities in att
// instead, for callers that want to read them.
type MaskedSelfAttention struct {
	C, Heads int

	runner attentionRunner
}

// NewMaskedSelfAttention returns attention over c features split into heads heads; c must be a
// multiple of heads.
func NewMaskedSelfAttention(c, heads int) *MaskedSelfAttention {
	return &MaskedSelfAttention{C: c, Heads: heads}
}

// Forward computes out[B, T, C] and the probabilities att[B, H, T, T] from qkv[B, T, 3C],
// overwriting both (the columns of padded keys are 0). lens[b] in [1, t] is the number of valid
// frames of sequence b. ForwardStats is the same without the T×T probabilities.
func (a *MaskedSelfAttention) Forward(out, att, qkv []float32, lens []int, b, t int) {
	if b <= 0 || t <= 0 {
		return
	}
	_, _ = att[b*a.Heads*t*t-1], lens[b-1]
	a.runner.run(attentionJob{c: a.C, nh: a.Heads, t: t, lens: lens, out: out, att: att, qkv: qkv}, b)
}

// Backward adds the gradient with respect to qkv to dqkv[B, T, 3C], given dout[B, T, C] and the
// forward's qkv, att and lens. scratch is no longer used (the softmax gradient lives in a small
// per-goroutine buffer) and may be nil; it is kept for callers of the earlier signature.
func (a *MaskedSelfAttention) Backward(dqkv, scratch, dout, qkv, att []float32, lens []int, b, t int) {
	if b <= 0 || t <= 0 {
		return
	}
	_, _ = att[b*a.Heads*t*t-1], lens[b-1]
	a.runner.run(attentionJob{c: a.C, nh: a.Heads, backward: true, t: t, lens: lens, out: dout, att: att, qkv: qkv, dqkv: dqkv}, b)
}

// StatsLen is the length of the stats buffer of ForwardStats and BackwardStats for b
// sequences padded to t frames: two floats per batch, head and query row.
func (a *MaskedSelfAttention) StatsLen(b, t int) int { return 2 * b * a.Heads * t }

// ForwardStats computes out[B, T, C] from qkv[B, T, 3C] and lens, and keeps in
// stats[StatsLen(b, t)] what BackwardStats needs to recompute the probabilities.
func (a *MaskedSelfAttention) ForwardStats(out, stats, qkv []float32, lens []int, b, t int) {
	if b <= 0 || t <= 0 {
		return
	}
	_, _ = stats[a.StatsLen(b, t)-1], lens[b-1]
	a.runner.run(attentionJob{c: a.C, nh: a.Heads, t: t, lens: lens, out: out, stats: stats, qkv: qkv}, b)
}

// BackwardStats sets dqkv[B, T, 3C] to the gradient with respect to qkv (unlike Backward, which
// adds to it; the keys and values of padded frames get 0), given dout[B, T, C], the forward's
// qkv and lens and the stats ForwardStats kept. It gives the same bits as Backward into a
// zeroed dqkv.
func (a *MaskedSelfAttention) BackwardStats(dqkv, dout, qkv, stats []float32, lens []int, b, t int) {
	if b <= 0 || t <= 0 {
		return
	}
	_, _ = stats[a.StatsLen(b, t)-1], lens[b-1]
	a.runner.run(attentionJob{c: a.C, nh: a.Heads, backward: true, t: t, lens: lens, out: dout, stats: stats, qkv: qkv, dqkv: dqkv}, b)
}

// maskedPair runs the key-masked attention of one (batch, head) pair: every query row sees the
// same n valid keys, so the blocks of rows differ only in which rows they hold.
func (j *attentionJob) maskedPair(s *attentionSlot, bh, hs int, scale float32) {
	c, t := j.c, j.t
	n := min(max(j.lens[bh/j.nh], 1), t) // valid keys
	q, key, v, o, p, stats := j.pairViews(s, bh, hs)
	// Kept probability rows are t wide (the padded keys' columns are zeroed); the scratch rows
	// need only the n valid columns.
	width := t
	if stats != nil {
		width = n
	}
	// kᵀ of the valid keys only, [hs, n].
	transposeHead(s.keysT, key, 3*c, n, hs)
	if !j.backward {
		for i0 := 0; i0 < t; i0 += AttentionRowBlock {
			m := min(AttentionRowBlock, t-i0)
			pb, st := p, s.rowStats
			if stats == nil {
				pb = p[i0*t:]
			} else {
				st = stats[2*i0:]
			}
			// Scores over the n valid keys, the row softmax in place, then out = P·v.
			tileMul(pb, t, q[i0*3*c:], 3*c, 1, s.keysT, n, m, n, hs, scale, false)
			maskedSoftmaxBlock(pb, t, m, n, width, st)
			tileMul(o[i0*c:], c, pb, t, 1, v, 3*c, m, hs, n, 1, false)
		}
		return
	}
	dq, dk, dv := j.gradViews(bh, hs)
	transposeHead(s.valuesT, v, 3*c, n, hs)
	ds := s.dscore
	add := stats == nil // Backward adds to dqkv, BackwardStats sets it
	for i0 := 0; i0 < t; i0 += AttentionRowBlock {
		m := min(AttentionRowBlock, t-i0)
		pb, st := p, []float32(nil)
		if stats == nil {
			pb = p[i0*t:]
		} else {
			st = stats[2*i0:]
			tileMul(pb, t, q[i0*3*c:], 3*c, 1, s.keysT, n, m, n, hs, scale, false)
		}
		// dP = dout·vᵀ over the valid keys, then the softmax backward in place.
		tileMul(ds, t, o[i0*c:], c, 1, s.valuesT, n, m, n, hs, 1, false)
		maskedSoftmaxGradBlock(pb, ds, t, m, n, st)
		// dq = dS·k/√hs for the block's rows; dv += Pᵀ·dout and dk += dSᵀ·q/√hs over the
		// valid keys, set by the first block where BackwardStats sets dqkv.
		tileMul(dq[i0*3*c:], 3*c, ds, t, 1, key, 3*c, m, hs, n, scale, add)
		acc := add || i0 > 0
		tileMul(dv, 3*c, pb, 1, t, o[i0*c:], c, n, hs, m, 1, acc)
		tileMul(dk, 3*c, ds, 1, t, q[i0*3*c:], 3*c, n, hs, m, scale, acc)
	}
	if !add {
		for i := n; i < t; i++ {
			clear(dk[i*3*c : i*3*c+hs])
			clear(dv[i*3*c : i*3*c+hs])
		}
	}
}

// maskedSoftmaxBlock turns m rows of scores (stride ld) into softmax probabilities over their
// first n columns and zeroes columns [n, width); stats[2r], stats[2r+1] receive row r's maximum
// and inv as in causalSoftmaxBlock, whose one-row form it is.
func maskedSoftmaxBlock(p []float32, ld, m, n, width int, stats []float32) {
	for r := range m {
		causalSoftmaxBlock(p[r*ld:], ld, 1, width, n-1, stats[2*r:])
	}
}

// maskedSoftmaxGradBlock is the softmax backward of m rows of n valid columns, the one-row form
// of causalSoftmaxGradBlock: with stats, p first becomes the probabilities recomputed from
// them; then ds = p ⊙ (ds − Σ p⊙ds).
func maskedSoftmaxGradBlock(p, ds []float32, ld, m, n int, stats []float32) {
	for r := range m {
		var st []float32
		if stats != nil {
			st = stats[2*r:]
		}
		causalSoftmaxGradBlock(p[r*ld:], ds[r*ld:], ld, 1, n, n-1, st)
	}
}
