// Package gpt is a byte-level GPT (vocabulary 256) on the nn substrate: token and position
// embeddings, pre-LN transformer blocks (causal self-attention and a GELU MLP, each with a
// residual connection), a final LayerNorm and an untied output projection to the vocabulary.
// Activations are preallocated for one batch shape, so a training step allocates nothing.
package gpt

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/nn"
)

// Vocab is the vocabulary size of a byte-level model.
const Vocab = 256

// Config is the shape of a model and of the batches it is built for.
type Config struct {
	D      int // embedding width C
	Layers int // number of transformer blocks
	Heads  int // attention heads per block; D must be a multiple
	Ctx    int // context length T
	Batch  int // sequences per batch B
}

// Validate reports what is wrong with c, if anything.
func (c Config) Validate() error {
	switch {
	case c.D <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.Ctx <= 0 || c.Batch <= 0:
		return fmt.Errorf("gpt: d=%d, layers=%d, heads=%d, ctx=%d and batch=%d must all be positive",
			c.D, c.Layers, c.Heads, c.Ctx, c.Batch)
	case c.D%c.Heads != 0:
		return fmt.Errorf("gpt: d=%d is not a multiple of heads=%d", c.D, c.Heads)
	}
	return nil
}

// FlopsPerToken is the number of floating-point operations of the matrix products of one
// training step (forward and backward) per token: 6 per weight of the linear layers, plus the
// attention products (q·kᵀ and P·v forward, four products backward) over the blocks of the
// causal T×T square that nn.CausalSelfAttention computes.
func (c Config) FlopsPerToken() float64 {
	linear := float64(c.Layers)*12*float64(c.D*c.D) + float64(Vocab*c.D)
	attention := float64(c.Layers) * nn.CausalAttentionFlops(c.D, c.Ctx) / float64(c.Ctx)
	return 6*linear + attention
}

// block is one pre-LN transformer block.
type block struct {
	ln1, ln2  *nn.LayerNorm
	qkv, proj *nn.Linear // attention input (C → 3C) and output (C → C) projections
	attn      *nn.CausalSelfAttention
	fc, fcOut *nn.Linear // MLP (C → 4C → C)
	gelu      *nn.GELU
}

// blockActs holds the activations of one block that its backward reads.
type blockActs struct {
	in                    []float32 // residual stream entering the block [BT, C]
	ln1, ln1Mean, ln1Rstd []float32
	qkv                   []float32 // [BT, 3C]
	attStats              []float32 // [B, H, T, 2]: each attention row's maximum and 1/Σ
	attOut                []float32 // [BT, C] before the projection
	mid                   []float32 // residual stream after attention [BT, C]
	ln2, ln2Mean, ln2Rstd []float32
	fc, fcGelu            []float32 // [BT, 4C]: fc·ln2 without its bias, and gelu(fc + bias)
}

// Model is a byte-level GPT with its activation and gradient buffers.
type Model struct {
	Cfg Config

	emb    *nn.TokenPosEmbedding
	blocks []*block
	lnf    *nn.LayerNorm
	head   *nn.Linear // untied: its own [Vocab, C] weight, no bias
	loss   *nn.SoftmaxCrossEntropy
	params []*fadam.Param

	// forward activations
	acts                     []blockActs
	out                      []float32 // residual stream after the last block [BT, C]
	lnfOut, lnfMean, lnfRstd []float32
	logits, probs            []float32 // [BT, Vocab]
	tokens, targets          []int32
	dRes, dRes2, dLn         []float32
	dAttOut, dQKV            []float32
	dFc, dLogits             []float32

	linears     []*nn.Linear // every Linear, for packing their weights once per pass
	rows        nn.RowBlocks
	chain       chain
	blockTimes  []PhaseTimes // per block of rows of a chain, its stages' times (phase timing only)
	geluScratch [][]float32  // per block of rows of a chain, one row of GELU's σ (not kept)

	// laps, if its times are set (SetPhaseTimes), receives the time of each kind of work.
	laps lapTimer
}

// Phase is a kind of work in a training step, for the breakdown SetPhaseTimes collects.
type Phase int

// The phases of a training step.
const (
	PhaseMatmul    Phase = iota // the linear layers: matrix products, bias and residual adds (and GELU's backward, fused into a product)
	PhaseAttention              // causal self-attention between the projections
	PhaseGELU                   // the MLP activation's forward
	PhaseLayerNorm              // the LayerNorms
	PhaseLoss                   // softmax and cross-entropy
	PhaseOther                  // embeddings, zeroing gradients
	NumPhases
)

var phaseNames = [NumPhases]string{"matmul", "attention", "GELU", "LayerNorm", "softmax/xent", "other"}

// String names the phase for reports.
func (p Phase) String() string {
	if p < 0 || p >= NumPhases {
		return fmt.Sprintf("Phase(%d)", int(p))
	}
	return phaseNames[p]
}

// PhaseTimes is the wall time spent in each phase.
type PhaseTimes [NumPhases]time.Duration

// SetPhaseTimes makes the following Forward and Backward calls add the wall time of each phase
// to *t (nil stops timing). Timing reads the clock once per layer call and allocates nothing.
func (m *Model) SetPhaseTimes(t *PhaseTimes) { m.laps.times = t }

// startLaps starts the clock of a Forward or Backward call.
func (m *Model) startLaps() {
	if m.laps.times != nil {
		m.laps.mark = time.Now()
	}
}

// lap charges the time since the previous lap to phase p.
func (m *Model) lap(p Phase) { m.laps.lap(p) }

// New builds a model for cfg with weights drawn deterministically from seed: GPT-2's
// initialisation (N(0, 0.02²) for weights and embeddings, the two residual output projections
// scaled by 1/√(2·Layers), zero biases, LayerNorm gains 1).
func New(cfg Config, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, bt := cfg.D, cfg.Batch*cfg.Ctx
	m := &Model{Cfg: cfg}
	m.emb = nn.NewTokenPosEmbedding("wte", "wpe", Vocab, cfg.Ctx, c)
	m.params = append(m.params, m.emb.Params()...)
	buf := func(n int) []float32 { return make([]float32, n) }
	for l := range cfg.Layers {
		p := fmt.Sprintf("blocks.%d.", l)
		b := &block{
			gelu:  new(nn.GELU),
			ln1:   nn.NewLayerNorm(p+"ln1", c),
			qkv:   nn.NewLinear(p+"attn.qkv", c, 3*c, true),
			attn:  nn.NewCausalSelfAttention(c, cfg.Heads),
			proj:  nn.NewLinear(p+"attn.proj", c, c, true),
			ln2:   nn.NewLayerNorm(p+"ln2", c),
			fc:    nn.NewLinear(p+"mlp.fc", c, 4*c, true),
			fcOut: nn.NewLinear(p+"mlp.proj", 4*c, c, true),
		}
		m.blocks = append(m.blocks, b)
		for _, ps := range [][]*fadam.Param{b.ln1.Params(), b.qkv.Params(), b.proj.Params(), b.ln2.Params(), b.fc.Params(), b.fcOut.Params()} {
			m.params = append(m.params, ps...)
		}
		m.acts = append(m.acts, blockActs{
			in: buf(bt * c), ln1: buf(bt * c), ln1Mean: buf(bt), ln1Rstd: buf(bt),
			qkv: buf(bt * 3 * c), attStats: buf(b.attn.StatsLen(cfg.Batch, cfg.Ctx)), attOut: buf(bt * c),
			mid: buf(bt * c), ln2: buf(bt * c), ln2Mean: buf(bt), ln2Rstd: buf(bt),
			fc: buf(bt * 4 * c), fcGelu: buf(bt * 4 * c),
		})
	}
	m.lnf = nn.NewLayerNorm("lnf", c)
	m.head = nn.NewLinear("lm_head", c, Vocab, false)
	m.params = append(m.params, m.lnf.Params()...)
	m.params = append(m.params, m.head.Params()...)
	m.loss = nn.NewSoftmaxCrossEntropy(Vocab, bt)

	m.out, m.lnfOut, m.lnfMean, m.lnfRstd = buf(bt*c), buf(bt*c), buf(bt), buf(bt)
	m.logits, m.probs = buf(bt*Vocab), buf(bt*Vocab)
	m.tokens, m.targets = make([]int32, bt), make([]int32, bt)
	m.dRes, m.dRes2, m.dLn, m.dAttOut, m.dQKV = buf(bt*c), buf(bt*c), buf(bt*c), buf(bt*c), buf(bt*3*c)
	m.dFc, m.dLogits = buf(bt*4*c), buf(bt*Vocab)

	for _, k := range m.blocks {
		m.linears = append(m.linears, k.qkv, k.proj, k.fc, k.fcOut)
	}
	m.linears = append(m.linears, m.head)
	m.chain.m = m
	m.blockTimes = make([]PhaseTimes, (bt+rowBlock-1)/rowBlock)
	for range m.blockTimes {
		m.geluScratch = append(m.geluScratch, buf(4*c))
	}

	m.init(seed)
	// Pack once here so that the packed copies' memory is New's, as MemoryBytes counts it.
	nn.PackLinears(m.linears, true, &m.rows)
	nn.PackLinears(m.linears, false, &m.rows)
	return m, nil
}

func (m *Model) init(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x6770742d696e6974)) // stream "gpt-init"
	residualStd := 0.02 / math.Sqrt(2*float64(m.Cfg.Layers))
	for _, p := range m.params {
		switch {
		case len(p.Shape) == 1:
			// Biases stay 0 and LayerNorm gains 1, as NewLinear and NewLayerNorm left them.
		case isResidualProjection(p.Name):
			nn.InitNormal(p.Value, residualStd, rng)
		default:
			nn.InitNormal(p.Value, 0.02, rng)
		}
	}
}

func isResidualProjection(name string) bool {
	return strings.HasSuffix(name, ".attn.proj.w") || strings.HasSuffix(name, ".mlp.proj.w")
}

// Params returns the model's trainable tensors in a fixed order: wte, wpe, then for each block
// ln1.{g,b}, attn.qkv.{w,b}, attn.proj.{w,b}, ln2.{g,b}, mlp.fc.{w,b}, mlp.proj.{w,b}, then
// lnf.{g,b} and lm_head.w. Names are prefixed "blocks.<i>." inside block i.
func (m *Model) Params() []*fadam.Param { return m.params }

// Decays reports whether weight decay applies to p under the usual GPT convention: matrices
// (weights and embeddings) decay, vectors (biases and LayerNorm gains and shifts) do not.
func Decays(p *fadam.Param) bool { return len(p.Shape) >= 2 }

// ErrBadBatch is wrapped by the errors Forward returns for a batch of the wrong size or with a
// token outside the vocabulary.
var ErrBadBatch = errors.New("gpt: bad batch")

// Forward runs the model on inputs[B·T] (byte values, row-major by sequence) and returns the
// mean cross-entropy of predicting targets[B·T]. It keeps the activations for Backward.
func (m *Model) Forward(inputs, targets []int32) (float64, error) {
	cfg := m.Cfg
	b, t := cfg.Batch, cfg.Ctx
	bt := b * t
	if len(inputs) != bt || len(targets) != bt {
		return 0, fmt.Errorf("%w: %d inputs and %d targets, want batch×ctx = %d", ErrBadBatch, len(inputs), len(targets), bt)
	}
	for i := range bt {
		if uint32(inputs[i]) >= Vocab || uint32(targets[i]) >= Vocab {
			return 0, fmt.Errorf("%w: token %d (input %d, target %d) is outside [0, %d)", ErrBadBatch, i, inputs[i], targets[i], Vocab)
		}
	}
	copy(m.tokens, inputs)
	copy(m.targets, targets)

	m.startLaps()
	m.emb.Forward(m.acts[0].in, m.tokens, b, t)
	m.lap(PhaseOther)
	nn.PackLinears(m.linears, true, &m.rows)
	m.lap(PhaseMatmul)
	// Everything but attention runs in chains over blocks of rows (see forwardRows): the first
	// block's LayerNorm and qkv projection, then, after each block's attention, the rest of
	// that block and the next one's LayerNorm and projection.
	m.runChain(false, -1)
	for l := range m.blocks {
		k, a := m.blocks[l], &m.acts[l]
		k.attn.ForwardStats(a.attOut, a.attStats, a.qkv, b, t)
		m.lap(PhaseAttention)
		m.runChain(false, l)
	}
	loss := m.loss.Forward(m.probs, m.logits, m.targets, bt)
	m.lap(PhaseLoss)
	return loss, nil
}

// rowBlock is the number of rows (tokens) of a block of the forward and backward chains: a
// multiple of nn.LayerNormRowBlock and nn.GELUBiasRowBlock, as the Rows methods of the
// backward need, and gemm's row cache block on machines with a 1 MiB L2. Measured on the
// d=128 model (4096 rows), 96 and 192 ran alike, 64 and 384 5–10% slower.
const rowBlock = 96

// chain is the RowJob of runChain: forwardRows or backwardRows of layer index l.
type chain struct {
	m        *Model
	l        int
	backward bool
}

// RunRows runs rows [lo, hi) of the chain.
func (c *chain) RunRows(lo, hi int) {
	if c.backward {
		c.m.backwardRows(c.l, lo, hi)
	} else {
		c.m.forwardRows(c.l, lo, hi)
	}
}

// runChain runs c for layer index l over blocks of rowBlock rows on nn's worker pool. With
// phase timing on, each block times its stages and the chain's wall time is shared out among
// the phases in proportion to the time the blocks spent in them.
func (m *Model) runChain(backward bool, l int) {
	m.chain.l, m.chain.backward = l, backward
	m.rows.Run(&m.chain, m.Cfg.Batch*m.Cfg.Ctx, rowBlock)
	if m.laps.times == nil {
		return
	}
	now := time.Now()
	wall := now.Sub(m.laps.mark)
	m.laps.mark = now
	var total time.Duration
	var sums PhaseTimes
	for i := range m.blockTimes {
		for p, d := range m.blockTimes[i] {
			sums[p] += d
			total += d
		}
		m.blockTimes[i] = PhaseTimes{}
	}
	if total <= 0 {
		m.laps.times[PhaseMatmul] += wall
		return
	}
	for p, d := range sums {
		m.laps.times[p] += time.Duration(float64(wall) * float64(d) / float64(total))
	}
}

// lapTimer charges the time between its laps to phases: the model's calls, and each block of
// rows of a chain its own stages.
type lapTimer struct {
	times *PhaseTimes // nil: timing off
	mark  time.Time   // the end of the last lap
}

// startStages starts the clock of the block starting at row lo.
func (m *Model) startStages(lo int) lapTimer {
	if m.laps.times == nil {
		return lapTimer{}
	}
	return lapTimer{times: &m.blockTimes[lo/rowBlock], mark: time.Now()}
}

// lap charges the time since the previous lap to phase p.
func (s *lapTimer) lap(p Phase) {
	if s.times == nil {
		return
	}
	now := time.Now()
	s.times[p] += now.Sub(s.mark)
	s.mark = now
}

// forwardRows is the forward pass between two attentions, one block of rows at a time: for layer
// l ≥ 0, the attention's output projection and residual add, LayerNorm, the MLP and its
// residual add; then, for layer l+1, LayerNorm and the qkv projection, or, after the last
// layer, the final LayerNorm and the head's logits.
func (m *Model) forwardRows(l, lo, hi int) {
	st := m.startStages(lo)
	if l >= 0 {
		k, a := m.blocks[l], &m.acts[l]
		k.proj.ForwardRows(a.mid, a.in, a.attOut, lo, hi) // x + attn(ln1(x))
		st.lap(PhaseMatmul)
		k.ln2.ForwardRows(a.ln2, a.ln2Mean, a.ln2Rstd, a.mid, lo, hi)
		st.lap(PhaseLayerNorm)
		k.fc.ForwardRowsNoBias(a.fc, a.ln2, lo, hi)
		st.lap(PhaseMatmul)
		// fc's bias, then GELU; σ is not kept (the backward recomputes it): a fifth of the
		// activation memory, at no measured cost in speed
		k.gelu.ForwardBiasRowsNoSig(a.fcGelu, a.fc, k.fc.B.Value, m.geluScratch[lo/rowBlock], lo, hi)
		st.lap(PhaseGELU)
		next := m.out
		if l+1 < len(m.blocks) {
			next = m.acts[l+1].in
		}
		k.fcOut.ForwardRows(next, a.mid, a.fcGelu, lo, hi) // x + mlp(ln2(x))
		st.lap(PhaseMatmul)
	}
	if l := l + 1; l < len(m.blocks) {
		k, a := m.blocks[l], &m.acts[l]
		k.ln1.ForwardRows(a.ln1, a.ln1Mean, a.ln1Rstd, a.in, lo, hi)
		st.lap(PhaseLayerNorm)
		k.qkv.ForwardRows(a.qkv, nil, a.ln1, lo, hi)
		st.lap(PhaseMatmul)
		return
	}
	m.lnf.ForwardRows(m.lnfOut, m.lnfMean, m.lnfRstd, m.out, lo, hi)
	st.lap(PhaseLayerNorm)
	m.head.ForwardRows(m.logits, nil, m.lnfOut, lo, hi)
	st.lap(PhaseMatmul)
}

// Backward sets every parameter's Grad to the gradient of the loss of the last Forward.
//
// Input gradients run in chains over blocks of rows, like the forward (see backwardRows); each
// chain's weight gradients, which sum over all rows, follow it as whole products.
func (m *Model) Backward() {
	cfg := m.Cfg
	b, t := cfg.Batch, cfg.Ctx
	bt := b * t
	m.startLaps()
	nn.ZeroGrads(m.params)
	m.lap(PhaseOther)

	m.loss.BackwardSet(m.dLogits, m.probs, m.targets, bt)
	m.lap(PhaseLoss)
	nn.PackLinears(m.linears, false, &m.rows)
	m.lap(PhaseMatmul)
	// dRes and dRes2 are the gradients of the residual stream at a block's output and between
	// its attention and MLP; each branch adds into them on the way down, which is the whole
	// backward of the residual adds.
	for l := len(m.blocks); l >= 0; l-- {
		if l == len(m.blocks) {
			m.lnf.StartBackwardRows(bt)
		} else {
			m.blocks[l].ln1.StartBackwardRows(bt)
		}
		if l > 0 {
			k, a := m.blocks[l-1], &m.acts[l-1]
			k.fcOut.StartBackwardRowsGELU(m.dFc, a.fc, k.fc.B.Value, nil, bt, true)
			k.ln2.StartBackwardRows(bt)
		}
		m.runChain(true, l)

		if l == len(m.blocks) {
			m.lnf.FinishBackwardRows(bt)
			m.head.BackwardWeights(m.dLogits, m.lnfOut, bt, true)
		} else {
			k, a := m.blocks[l], &m.acts[l]
			k.ln1.FinishBackwardRows(bt)
			k.qkv.BackwardWeights(m.dQKV, a.ln1, bt, true)
		}
		m.lap(PhaseMatmul)
		if l == 0 {
			break
		}
		k, a := m.blocks[l-1], &m.acts[l-1]
		k.fcOut.FinishBackwardRowsGELU(k.fc.B.Grad)
		k.ln2.FinishBackwardRows(bt)
		k.fcOut.BackwardWeights(m.dRes, a.fcGelu, bt, true)
		k.fc.BackwardWeights(m.dFc, a.ln2, bt, false) // its bias gradient came from the GELU epilogue
		k.proj.BackwardWeights(m.dRes2, a.attOut, bt, true)
		m.lap(PhaseMatmul)
		k.attn.BackwardStatsOut(m.dQKV, m.dAttOut, a.qkv, a.attOut, a.attStats, b, t)
		m.lap(PhaseAttention)
	}
	m.emb.Backward(m.dRes, m.tokens, b, t)
	m.lap(PhaseOther)
}

// backwardRows is the backward pass between two attentions, one block of rows at a time: for l =
// len(blocks), the head's input gradient and the final LayerNorm's; for l < len(blocks), layer
// l's qkv projection and LayerNorm; then, for layer l−1, the MLP's input gradients (GELU's in
// the epilogue of the product before it), LayerNorm and the attention's output projection, up
// to the gradient of the attention's output.
func (m *Model) backwardRows(l, lo, hi int) {
	c, bt := m.Cfg.D, m.Cfg.Batch*m.Cfg.Ctx
	st := m.startStages(lo)
	if l == len(m.blocks) {
		m.head.BackwardRowsSet(m.dLn, m.dLogits, lo, hi)
		st.lap(PhaseMatmul)
		clear(m.dRes[lo*c : hi*c])
		m.lnf.BackwardRows(m.dRes, m.dLn, m.out, m.lnfMean, m.lnfRstd, lo, hi, bt)
		st.lap(PhaseLayerNorm)
	} else {
		k, a := m.blocks[l], &m.acts[l]
		k.qkv.BackwardRowsSet(m.dLn, m.dQKV, lo, hi)
		st.lap(PhaseMatmul)
		copy(m.dRes[lo*c:hi*c], m.dRes2[lo*c:hi*c])
		k.ln1.BackwardRows(m.dRes, m.dLn, a.in, a.ln1Mean, a.ln1Rstd, lo, hi, bt)
		st.lap(PhaseLayerNorm)
	}
	l--
	if l < 0 {
		return
	}
	k, a := m.blocks[l], &m.acts[l]
	k.fcOut.BackwardRowsSetGELU(m.dRes, lo, hi) // into dFc, set by StartBackwardRowsGELU
	k.fc.BackwardRowsSet(m.dLn, m.dFc, lo, hi)
	st.lap(PhaseMatmul)
	copy(m.dRes2[lo*c:hi*c], m.dRes[lo*c:hi*c])
	k.ln2.BackwardRows(m.dRes2, m.dLn, a.mid, a.ln2Mean, a.ln2Rstd, lo, hi, bt)
	st.lap(PhaseLayerNorm)
	k.proj.BackwardRowsSet(m.dAttOut, m.dRes2, lo, hi)
	st.lap(PhaseMatmul)
}
