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

// BackwardStatsOut is BackwardStats given also the forward output out[B, T, C] that
// ForwardStats wrote with these qkv, stats and lens: each row's Σ_j P_ij·dP_ij is taken as
// dout_i·out_i (see CausalSelfAttention.BackwardStatsOut), one pass over each block fewer. The
// result agrees with BackwardStats up to rounding, not bit for bit.
func (a *MaskedSelfAttention) BackwardStatsOut(dqkv, dout, qkv, out, stats []float32, lens []int, b, t int) {
	if b <= 0 || t <= 0 {
		return
	}
	_, _, _ = stats[a.StatsLen(b, t)-1], lens[b-1], out[b*t*a.C-1]
	a.runner.run(attentionJob{c: a.C, nh: a.Heads, backward: true, t: t, lens: lens, out: dout, fwd: out, stats: stats, qkv: qkv, dqkv: dqkv}, b)
}
