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
	// Query rows [i0, i1) multiply against keys [0, i1).
	var pairs float64
	for i0 := 0; i0 < c.Ctx; i0 += nn.AttentionRowBlock {
		i1 := min(i0+nn.AttentionRowBlock, c.Ctx)
		pairs += float64((i1 - i0) * i1)
	}
	attention := float64(c.Layers) * 6 * 2 * float64(c.D) * pairs / float64(c.Ctx)
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
	fc, fcGelu, fcSig     []float32 // [BT, 4C]: fc·ln2 without its bias, gelu(fc + bias) and its σ
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
	dRes, dLn, dAttOut, dQKV []float32
	dFc, dLogits             []float32

	// phases, if set, receives the time of each kind of work; mark is the end of the last lap.
	phases *PhaseTimes
	mark   time.Time
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
func (m *Model) SetPhaseTimes(t *PhaseTimes) { m.phases = t }

// startLaps starts the clock of a Forward or Backward call.
func (m *Model) startLaps() {
	if m.phases != nil {
		m.mark = time.Now()
	}
}

// lap charges the time since the previous lap to phase p.
func (m *Model) lap(p Phase) {
	if m.phases == nil {
		return
	}
	now := time.Now()
	m.phases[p] += now.Sub(m.mark)
	m.mark = now
}

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
			fc: buf(bt * 4 * c), fcGelu: buf(bt * 4 * c), fcSig: buf(bt * 4 * c),
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
	m.dRes, m.dLn, m.dAttOut, m.dQKV = buf(bt*c), buf(bt*c), buf(bt*c), buf(bt*3*c)
	m.dFc, m.dLogits = buf(bt*4*c), buf(bt*Vocab)

	m.init(seed)
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
	for l := range m.blocks {
		k, a := m.blocks[l], &m.acts[l]
		// x + attn(ln1(x))
		k.ln1.Forward(a.ln1, a.ln1Mean, a.ln1Rstd, a.in, bt)
		m.lap(PhaseLayerNorm)
		k.qkv.Forward(a.qkv, a.ln1, bt)
		m.lap(PhaseMatmul)
		k.attn.ForwardStats(a.attOut, a.attStats, a.qkv, b, t)
		m.lap(PhaseAttention)
		k.proj.ForwardResidual(a.mid, a.in, a.attOut, bt)
		m.lap(PhaseMatmul)
		// x + mlp(ln2(x))
		k.ln2.Forward(a.ln2, a.ln2Mean, a.ln2Rstd, a.mid, bt)
		m.lap(PhaseLayerNorm)
		k.fc.ForwardNoBias(a.fc, a.ln2, bt)
		m.lap(PhaseMatmul)
		k.gelu.ForwardBias(a.fcGelu, a.fcSig, a.fc, k.fc.B.Value) // fc's bias, then GELU
		m.lap(PhaseGELU)
		next := m.out
		if l+1 < len(m.blocks) {
			next = m.acts[l+1].in
		}
		k.fcOut.ForwardResidual(next, a.mid, a.fcGelu, bt)
		m.lap(PhaseMatmul)
	}
	m.lnf.Forward(m.lnfOut, m.lnfMean, m.lnfRstd, m.out, bt)
	m.lap(PhaseLayerNorm)
	m.head.Forward(m.logits, m.lnfOut, bt)
	m.lap(PhaseMatmul)
	loss := m.loss.Forward(m.probs, m.logits, m.targets, bt)
	m.lap(PhaseLoss)
	return loss, nil
}

// Backward sets every parameter's Grad to the gradient of the loss of the last Forward.
func (m *Model) Backward() {
	cfg := m.Cfg
	b, t := cfg.Batch, cfg.Ctx
	bt := b * t
	m.startLaps()
	nn.ZeroGrads(m.params)
	m.lap(PhaseOther)

	m.loss.BackwardSet(m.dLogits, m.probs, m.targets, bt)
	m.lap(PhaseLoss)
	m.head.BackwardSet(m.dLn, m.dLogits, m.lnfOut, bt)
	m.lap(PhaseMatmul)
	// dRes is the gradient of the residual stream; each block's branches add into it on the
	// way down, which is the whole backward of the residual adds.
	clear(m.dRes)
	m.lnf.Backward(m.dRes, m.dLn, m.out, m.lnfMean, m.lnfRstd, bt)
	m.lap(PhaseLayerNorm)
	for l := len(m.blocks) - 1; l >= 0; l-- {
		k, a := m.blocks[l], &m.acts[l]
		// GELU's backward and fc's bias gradient in the epilogue of fcOut's input gradient
		k.fcOut.BackwardSetGELU(m.dFc, m.dRes, a.fcGelu, bt, a.fc, k.fc.B.Value, a.fcSig, k.fc.B.Grad)
		m.lap(PhaseMatmul)
		k.fc.BackwardSetNoBias(m.dLn, m.dFc, a.ln2, bt)
		m.lap(PhaseMatmul)
		k.ln2.Backward(m.dRes, m.dLn, a.mid, a.ln2Mean, a.ln2Rstd, bt)
		m.lap(PhaseLayerNorm)

		k.proj.BackwardSet(m.dAttOut, m.dRes, a.attOut, bt)
		m.lap(PhaseMatmul)
		k.attn.BackwardStatsOut(m.dQKV, m.dAttOut, a.qkv, a.attOut, a.attStats, b, t)
		m.lap(PhaseAttention)
		k.qkv.BackwardSet(m.dLn, m.dQKV, a.ln1, bt)
		m.lap(PhaseMatmul)
		k.ln1.Backward(m.dRes, m.dLn, a.in, a.ln1Mean, a.ln1Rstd, bt)
		m.lap(PhaseLayerNorm)
	}
	m.emb.Backward(m.dRes, m.tokens, b, t)
	m.lap(PhaseOther)
}
