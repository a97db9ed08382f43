package nn

import (
	"math"
	"sync/atomic"
)

// CausalSelfAttention is the core of multi-head causal self-attention, without its input and
// output projections: given per-token queries, keys and values packed as qkv[B, T, 3C] (q in
// columns [0, C), k in [C, 2C), v in [2C, 3C), head h in columns [h·C/H, (h+1)·C/H) of each), it
// computes out[B, T, C] with out_h = softmax(q_h k_hᵀ/√(C/H) + causal mask) v_h.
//
// Each (batch, head) pair is one unit of work, spread over the package's worker goroutines
// (no goroutine per call; runs of pairs are claimed as the goroutines get to them, and the rows
// of the next pair are prefetched while one runs). A pair runs as a fused, tiled pass in the
// manner of flash attention: for each block of AttentionRowBlock query rows, the scores against
// the keys up to the block's last row are formed in a per-goroutine scratch held in L1/L2,
// turned into probabilities by a row softmax and multiplied by the values, all by small matrix
// kernels that read q, k and v in place (only kᵀ, and vᵀ in the backward pass, are transposed
// once per pair). Within a block each 8-row tile of the kernel covers only the keys its last
// row sees, so most of the masked half of the diagonal square is skipped. The T×T
// probabilities are not kept: ForwardStats saves each row's maximum and 1/Σ, and BackwardStats
// recomputes the same probabilities bit for bit from them (BackwardStatsOut, given the forward
// output too, takes the softmax backward's row sums from it). Forward and Backward are the same
// computation keeping the probabilities att[B, H, T, T] instead, for callers that want to read
// them. The exponential is the package's (expFMA32, with fused multiply-adds); every assembly
// kernel has a Go twin (build tag purego) that gives the same bits.
type CausalSelfAttention struct {
	C, Heads int

	runner attentionRunner
}

// attentionRunner spreads the (batch, head) pairs of one attention call over the worker pool;
// CausalSelfAttention and MaskedSelfAttention each keep one.
type attentionRunner struct {
	job   attentionJob
	split chunkSplitter
	// slots holds one scratch per chunk that can run at once; next hands them out within a
	// call.
	slots []attentionSlot
	next  atomic.Int32
	// pairs is the call's number of (batch, head) pairs, parts the number of goroutines that
	// may take part; claimed counts the pairs handed out.
	pairs, parts int
	claimed      atomic.Int64
}

// run runs j over its b·nh pairs. Each goroutine of the pool that joins claims runs of
// consecutive pairs until none are left, each run a share of what remains (guided
// scheduling: long runs first, for locality, single pairs at the end), so a goroutine that gets
// less of the CPU (another process on the machine) holds up the call by about one pair rather
// than by its whole share; every pair is computed the same way wherever it runs.
func (r *attentionRunner) run(j attentionJob, b int) {
	n := maxChunks()
	if len(r.slots) < n {
		r.slots = make([]attentionSlot, n)
	}
	r.next.Store(0)
	r.pairs = b * j.nh
	r.parts = min(n, r.pairs)
	r.claimed.Store(0)
	j.r = r
	r.job = j
	runChunks(&r.job, r.parts, 1, &r.split)
}

// claim returns the next run of unclaimed pairs [lo, hi), empty when none is left.
func (r *attentionRunner) claim() (lo, hi int) {
	for {
		c := int(r.claimed.Load())
		if c >= r.pairs {
			return r.pairs, r.pairs
		}
		n := max(1, (r.pairs-c)/(2*r.parts))
		if r.claimed.CompareAndSwap(int64(c), int64(c+n)) {
			return c, c + n
		}
	}
}

// attentionSlot is the per-goroutine scratch of one (batch, head) pair.
type attentionSlot struct {
	keysT, valuesT []float32 // [hs, T]
	scores, dscore []float32 // [AttentionRowBlock, T]
	rowStats       []float32 // [AttentionRowBlock, 2] when the caller keeps probabilities
	dots           []float32 // [AttentionRowBlock]: dout·out per row, when out is given
}

func (s *attentionSlot) ensure(t, hs int) {
	if len(s.keysT) < hs*t {
		s.keysT, s.valuesT = make([]float32, hs*t), make([]float32, hs*t)
	}
	if n := AttentionRowBlock * t; len(s.scores) < n {
		s.scores, s.dscore = make([]float32, n), make([]float32, n)
	}
	if s.rowStats == nil {
		s.rowStats, s.dots = make([]float32, 2*AttentionRowBlock), make([]float32, AttentionRowBlock)
	}
}

// NewCausalSelfAttention returns attention over c features split into heads heads; c must be a
// multiple of heads.
func NewCausalSelfAttention(c, heads int) *CausalSelfAttention {
	return &CausalSelfAttention{C: c, Heads: heads}
}

// Forward computes out[B, T, C] and the probabilities att[B, H, T, T] from qkv[B, T, 3C],
// overwriting both. ForwardStats is the same without the T×T probabilities.
func (a *CausalSelfAttention) Forward(out, att, qkv []float32, b, t int) {
	if b <= 0 || t <= 0 {
		return
	}
	_ = att[b*a.Heads*t*t-1]
	a.runner.run(attentionJob{c: a.C, nh: a.Heads, t: t, out: out, att: att, qkv: qkv}, b)
}

// Backward adds the gradient with respect to qkv to dqkv[B, T, 3C], given dout[B, T, C] and the
// forward's qkv and att. scratch is no longer used (the softmax gradient lives in a small
// per-goroutine buffer) and may be nil; it is kept for callers of the earlier signature.
func (a *CausalSelfAttention) Backward(dqkv, scratch, dout, qkv, att []float32, b, t int) {
	if b <= 0 || t <= 0 {
		return
	}
	_ = att[b*a.Heads*t*t-1]
	a.runner.run(attentionJob{c: a.C, nh: a.Heads, backward: true, t: t, out: dout, att: att, qkv: qkv, dqkv: dqkv}, b)
}

// StatsLen is the length of the stats buffer of ForwardStats and BackwardStats for b
// sequences of t tokens: two floats (the row maximum of the scores and 1/Σ e^(s−max)) per
// batch, head and query row.
func (a *CausalSelfAttention) StatsLen(b, t int) int { return 2 * b * a.Heads * t }

// ForwardStats computes out[B, T, C] from qkv[B, T, 3C] and keeps, in stats[StatsLen(b, t)],
// what BackwardStats needs to recompute the attention probabilities: B·H·T² floats fewer than
// Forward keeps.
func (a *CausalSelfAttention) ForwardStats(out, stats, qkv []float32, b, t int) {
	if b <= 0 || t <= 0 {
		return
	}
	_ = stats[a.StatsLen(b, t)-1]
	a.runner.run(attentionJob{c: a.C, nh: a.Heads, t: t, out: out, stats: stats, qkv: qkv}, b)
}

// BackwardStats sets dqkv[B, T, 3C] to the gradient with respect to qkv (unlike Backward,
// which adds to it; no zeroing pass is needed), given dout[B, T, C], the forward's qkv and the
// stats ForwardStats kept. It gives the same bits as Backward into a zeroed dqkv.
func (a *CausalSelfAttention) BackwardStats(dqkv, dout, qkv, stats []float32, b, t int) {
	if b <= 0 || t <= 0 {
		return
	}
	_ = stats[a.StatsLen(b, t)-1]
	a.runner.run(attentionJob{c: a.C, nh: a.Heads, backward: true, t: t, out: dout, stats: stats, qkv: qkv, dqkv: dqkv}, b)
}

// BackwardStatsOut is BackwardStats given also the forward output out[B, T, C] that
// ForwardStats wrote with these qkv and stats. The softmax backward needs, per query row i,
// Σ_j P_ij·dP_ij, which equals dout_i·out_i (out_i = Σ_j P_ij v_j and dP_ij = dout_i·v_j):
// BackwardStatsOut takes that dot product over the head's columns before the row's keys, as
// FlashAttention does, so that the probabilities are recomputed and turned into the score
// gradient in one pass instead of two. The result agrees with BackwardStats up to rounding
// (the two sums round differently), not bit for bit; like BackwardStats it sets dqkv and gives
// the same bits whatever GOMAXPROCS is.
func (a *CausalSelfAttention) BackwardStatsOut(dqkv, dout, qkv, out, stats []float32, b, t int) {
	if b <= 0 || t <= 0 {
		return
	}
	_, _ = stats[a.StatsLen(b, t)-1], out[b*t*a.C-1]
	a.runner.run(attentionJob{c: a.C, nh: a.Heads, backward: true, t: t, out: dout, fwd: out, stats: stats, qkv: qkv, dqkv: dqkv}, b)
}

type attentionJob struct {
	r        *attentionRunner
	c, nh    int // features and heads
	backward bool
	t        int
	// lens, if not nil, makes the attention bidirectional over keys [0, lens[b]) of sequence b
	// (MaskedSelfAttention) instead of causal.
	lens []int
	// out is the output in the forward pass and its gradient in the backward pass. Exactly
	// one of att (the probabilities) and stats (their row statistics) is set. fwd, if not nil
	// (backward with stats only), is the forward's output, from which each row's Σ P⊙dP is
	// taken as dout·out.
	out, att, stats, qkv, dqkv, fwd []float32
}

// AttentionRowBlock is the number of query rows per block. Query rows [i0, i1) attend to keys
// [0, i1) only, so blocking the rows skips most of the masked upper triangle that a full T×T
// product would compute (about 3/8 of the attention products at T = 128); the kernel's 8-row
// tiles skip most of the rest (the masked half of each block's diagonal square).
const AttentionRowBlock = 32

// CausalAttentionFlops is the nominal number of floating-point operations of causal attention
// over c features for one sequence of t tokens, forward and backward: six products (q·kᵀ and P·v
// forward; dP, dq, dk and dv backward), each 2·c per (query, key) pair, over the keys each block
// of AttentionRowBlock query rows sees (rows [i0, i1) against keys [0, i1)). The backward's
// recomputed scores are not counted. It is the count behind the GFLOP/s the GPT's training
// benchmarks report. It is 0 when c or t is not positive.
func CausalAttentionFlops(c, t int) float64 {
	if c <= 0 || t <= 0 {
		return 0
	}
	var pairs float64
	for i0 := 0; i0 < t; i0 += AttentionRowBlock {
		i1 := min(i0+AttentionRowBlock, t)
		pairs += float64((i1 - i0) * i1)
	}
	return 6 * 2 * float64(c) * pairs
}

// runChunk runs pairs as they are claimed (the range only counts the goroutines taking part),
// claiming the next run before the last pair of the current one so that the rows of each
// pair's successor can be prefetched.
func (j *attentionJob) runChunk(_, _ int) {
	hs := j.c / j.nh
	scale := float32(1 / math.Sqrt(float64(hs)))
	s := &j.r.slots[j.r.next.Add(1)-1]
	s.ensure(j.t, hs)
	lo, hi := j.r.claim()
	for lo < hi {
		next, nhi := lo+1, hi
		if next == hi {
			next, nhi = j.r.claim()
		}
		j.pair(s, lo, hs, scale, next)
		lo, hi = next, nhi
	}
}

// prefetchPair asks for rows [r0, r1) of pair bh's q, k and v, and of its output gradient in
// the backward pass, to be brought into L2 while the pair before it runs (a block of rows at a
// time, so that the prefetches do not queue up behind each other): in a training step they come
// from memory. (Prefetching the rows the pair writes gained nothing measurable.)
func (j *attentionJob) prefetchPair(bh, hs, r0, r1 int) {
	c, t := j.c, j.t
	b, h := bh/j.nh, bh%j.nh
	base := (b*t+r0)*3*c + h*hs
	for i := range 3 {
		prefetchRows(j.qkv[base+i*c:], 3*c, r1-r0, hs)
	}
	if j.backward {
		prefetchRows(j.out[(b*t+r0)*c+h*hs:], c, r1-r0, hs)
	}
	if j.fwd != nil {
		prefetchRows(j.fwd[(b*t+r0)*c+h*hs:], c, r1-r0, hs)
	}
}

// keyRange says which keys each query row of a pair attends to: row i sees keys [0, end(i)),
// end(i) = base + inc·i. Causal attention is base 1, inc 1; key-masked attention over n valid
// keys is base n, inc 0. Everything that differs between the two lives here.
type keyRange struct{ base, inc int }

func (k keyRange) end(i int) int { return k.base + k.inc*i }

// keys returns pair bh's key range.
func (j *attentionJob) keys(bh int) keyRange {
	if j.lens != nil {
		return keyRange{base: min(max(j.lens[bh/j.nh], 1), j.t)}
	}
	return keyRange{base: 1, inc: 1}
}

// scoreSteps shapes a product over the keys of block rows [i0, …) (scores, dP): each tile of
// tileRows rows covers the keys its last row sees, so that where the rows see more and more
// keys (causal attention) the masked half of the diagonal square is mostly skipped rather than
// computed and zeroed. depth is the product's depth (the head size).
func (k keyRange) scoreSteps(i0, depth int) tileSteps {
	return tileSteps{nFirst: k.end(i0 + tileRows - 1), nStep: tileRows * k.inc, kFirst: depth}
}

// keySumSteps shapes a product that sums over the keys of block rows [i0, …) (P·v, dS·k): each
// row tile sums over the keys its last row sees. width is the product's width (the head size).
func (k keyRange) keySumSteps(i0, width int) tileSteps {
	return tileSteps{nFirst: width, kFirst: k.end(i0 + tileRows - 1), kStep: tileRows * k.inc}
}

// pair runs the attention of one (batch, head) pair, forward or backward, over blocks of
// AttentionRowBlock query rows. The rows of pair next (if it is one) are prefetched along the
// way, a block per block.
func (j *attentionJob) pair(s *attentionSlot, bh, hs int, scale float32, next int) {
	c, t := j.c, j.t
	kr := j.keys(bh)
	nk := kr.end(t - 1) // keys any row sees: kᵀ (and vᵀ) hold these
	q, key, v, o, p, stats := j.pairViews(s, bh, hs)
	transposeHead(s.keysT, key, 3*c, nk, hs)
	if j.backward {
		transposeHead(s.valuesT, v, 3*c, nk, hs)
	}
	for i0 := 0; i0 < t; i0 += AttentionRowBlock {
		i1 := min(i0+AttentionRowBlock, t)
		if next < j.r.pairs {
			j.prefetchPair(next, hs, i0, i1) // spread over the blocks, so as not to stall
		}
		m, e := i1-i0, kr.end(i1-1) // the block's rows see keys [0, e) at most
		// pb holds the block's scores, then probabilities: kept rows (att) are t wide, zero
		// beyond each row's keys; scratch rows are zeroed only up to e.
		pb, w := s.scores, e
		if stats == nil {
			pb, w = p[i0*t:], t
		}
		scores, sums := kr.scoreSteps(i0, hs), kr.keySumSteps(i0, hs)
		if !j.backward {
			st := s.rowStats
			if stats != nil {
				st = stats[2*i0:]
			}
			// Scores s = q·kᵀ/√hs, the row softmax in place, then out = P·v.
			tileMulSteps(pb, t, q[i0*3*c:], 3*c, 1, s.keysT, nk, m, e, hs, scale, false, scores)
			softmaxBlock(pb, t, m, kr.end(i0), kr.inc, w, st)
			tileMulSteps(o[i0*c:], c, pb, t, 1, v, 3*c, m, hs, e, 1, false, sums)
			continue
		}
		add := stats == nil // Backward adds to dqkv, BackwardStats sets it
		var st, dots []float32
		if j.fwd != nil {
			// Σ_k P_ik dP_ik = dout_i·out_i, before the scores.
			dots = s.dots
			rowDots(dots, o[i0*c:], c, j.fwd[(bh/j.nh*t+i0)*c+bh%j.nh*hs:], c, m, hs)
		}
		if stats != nil {
			// Recompute the forward's scores; the softmax backward below turns them into its
			// probabilities from the row statistics.
			st = stats[2*i0:]
			tileMulSteps(pb, t, q[i0*3*c:], 3*c, 1, s.keysT, nk, m, e, hs, scale, false, scores)
		}
		// dP = dout·vᵀ, then the softmax backward in place: dS_ij = P_ij (dP_ij − Σ_k P_ik
		// dP_ik), zero beyond each row's keys.
		ds := s.dscore
		tileMulSteps(ds, t, o[i0*c:], c, 1, s.valuesT, nk, m, e, hs, 1, false, scores)
		softmaxGradBlock(pb, ds, t, m, kr.end(i0), kr.inc, e, st, dots)
		// dq = dS·k/√hs for the block's rows (no other block reaches them: set where
		// BackwardStats sets dqkv), then the key and value gradients.
		dq, dk, dv := j.gradViews(bh, hs)
		tileMulSteps(dq[i0*3*c:], 3*c, ds, t, 1, key, 3*c, m, hs, e, scale, add, sums)
		j.keyGrads(dv, dk, pb, ds, o, q, kr, i0, i1, hs, scale, add)
	}
	if j.backward && stats != nil {
		// Keys no row sees (padded frames) get no gradient.
		_, dk, dv := j.gradViews(bh, hs)
		for i := nk; i < t; i++ {
			clear(dk[i*3*c : i*3*c+hs])
			clear(dv[i*3*c : i*3*c+hs])
		}
	}
}

// keyGrads adds block [i0, i1)'s share of the key and value gradients: dv[j] += Σ_i P_ij dout_i
// and dk[j] += Σ_i dS_ij q_i/√hs over the block's rows i that see key j. Keys an earlier block
// reached are added to; the others are set, unless add (Backward) asks to add to all. Keys that
// every row of the block sees form one product; the rest (the diagonal square of causal
// attention, kr.inc = 1) another whose tiles of tileRows keys each start at the first row that
// sees the tile's first key (entries of P and dS beyond a row's keys are zero).
func (j *attentionJob) keyGrads(dv, dk, pb, ds, o, q []float32, kr keyRange, i0, i1, hs int, scale float32, add bool) {
	c, t := j.c, j.t
	// Keys [0, seen) were reached by an earlier block, keys [0, full) are seen by every row
	// of this one, keys [full, e) by some.
	seen, full, e := 0, kr.end(i0), kr.end(i1-1)
	if i0 > 0 {
		seen = kr.end(i0 - 1)
	}
	if kr.inc > 0 {
		full = seen // keys [seen, e) go in the trapezoid, tiles aligned with the rows'
	}
	keyGrad := func(k0, k1, r0 int, acc bool, st tileSteps) {
		a, m, depth := (r0-i0)*t+k0, k1-k0, i1-r0
		st.kFirst = depth
		tileMulSteps(dv[k0*3*c:], 3*c, pb[a:], 1, t, o[r0*c:], c, m, hs, depth, 1, acc, st)
		tileMulSteps(dk[k0*3*c:], 3*c, ds[a:], 1, t, q[r0*3*c:], 3*c, m, hs, depth, scale, acc, st)
	}
	if seen > 0 {
		keyGrad(0, min(seen, full), i0, true, tileSteps{nFirst: hs})
	}
	if full > seen {
		keyGrad(seen, full, i0, add, tileSteps{nFirst: hs})
	}
	if e > full {
		// Key tile g starts tileRows·g keys after full, so its first row does too.
		keyGrad(full, e, max(i0, full-kr.base+1), add, tileSteps{nFirst: hs, pStep: tileRows})
	}
}

// pairViews returns pair bh's views of q, k, v and out (or its gradient) in place (head hs
// columns at the pair's offset; rows strided 3C or C), and where its probabilities live: row
// i in att's row i (stats nil) or, while block i0 runs, in row i−i0 of the slot's scratch with
// the pair's row statistics in stats.
func (j *attentionJob) pairViews(s *attentionSlot, bh, hs int) (q, key, v, o, p, stats []float32) {
	c, t := j.c, j.t
	b, h := bh/j.nh, bh%j.nh
	base := b*t*3*c + h*hs
	q, key, v = j.qkv[base:], j.qkv[base+c:], j.qkv[base+2*c:]
	o = j.out[b*t*c+h*hs:]
	if j.att != nil {
		return q, key, v, o, j.att[bh*t*t : (bh+1)*t*t], nil
	}
	return q, key, v, o, s.scores, j.stats[2*bh*t : 2*(bh+1)*t]
}

// gradViews returns pair bh's views of dq, dk and dv in dqkv.
func (j *attentionJob) gradViews(bh, hs int) (dq, dk, dv []float32) {
	c, t := j.c, j.t
	base := (bh/j.nh)*t*3*c + (bh%j.nh)*hs
	return j.dqkv[base:], j.dqkv[base+c:], j.dqkv[base+2*c:]
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
	mx = expShiftedGeneric(x)
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

// expShiftedGeneric replaces x (not empty) by expApprox32(x − max x) and returns max x.
func expShiftedGeneric(x []float32) (mx float32) {
	mx = x[0]
	for _, v := range x {
		mx = max(mx, v)
	}
	for i, v := range x {
		x[i] = v - mx
	}
	expInPlaceGeneric(x)
	return mx
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
