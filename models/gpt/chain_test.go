package gpt

import (
	"math"
	"testing"

	"github.com/fadam-go/fadam/gemm"
)

// layerwiseStep is a second implementation of Forward and Backward: one layer at a time over the
// whole batch, through the layers' whole-batch methods, as the model ran before its row chains.
// It uses m's weights and buffers and returns the loss; the gradients are left in m's params.
func layerwiseStep(m *Model, inputs, targets []int32) float64 {
	cfg := m.Cfg
	b, t := cfg.Batch, cfg.Ctx
	bt := b * t
	copy(m.tokens, inputs)
	copy(m.targets, targets)
	sigs := make([][]float32, len(m.blocks)) // GELU's σ, which the model itself does not keep
	for l := range sigs {
		sigs[l] = make([]float32, bt*4*cfg.D)
	}
	m.emb.Forward(m.acts[0].in, m.tokens, b, t)
	for l := range m.blocks {
		k, a := m.blocks[l], &m.acts[l]
		k.ln1.Forward(a.ln1, a.ln1Mean, a.ln1Rstd, a.in, bt)
		k.qkv.Forward(a.qkv, a.ln1, bt)
		k.attn.ForwardStats(a.attOut, a.attStats, a.qkv, b, t)
		k.proj.ForwardResidual(a.mid, a.in, a.attOut, bt)
		k.ln2.Forward(a.ln2, a.ln2Mean, a.ln2Rstd, a.mid, bt)
		k.fc.ForwardNoBias(a.fc, a.ln2, bt)
		k.gelu.ForwardBias(a.fcGelu, sigs[l], a.fc, k.fc.B.Value)
		next := m.out
		if l+1 < len(m.blocks) {
			next = m.acts[l+1].in
		}
		k.fcOut.ForwardResidual(next, a.mid, a.fcGelu, bt)
	}
	m.lnf.Forward(m.lnfOut, m.lnfMean, m.lnfRstd, m.out, bt)
	m.head.Forward(m.logits, m.lnfOut, bt)
	loss := m.loss.Forward(m.probs, m.logits, m.targets, bt)

	for _, p := range m.params {
		clear(p.Grad)
	}
	m.loss.BackwardSet(m.dLogits, m.probs, m.targets, bt)
	m.head.BackwardSet(m.dLn, m.dLogits, m.lnfOut, bt)
	clear(m.dRes)
	m.lnf.Backward(m.dRes, m.dLn, m.out, m.lnfMean, m.lnfRstd, bt)
	for l := len(m.blocks) - 1; l >= 0; l-- {
		k, a := m.blocks[l], &m.acts[l]
		k.fcOut.BackwardSetGELU(m.dFc, m.dRes, a.fcGelu, bt, a.fc, k.fc.B.Value, sigs[l], k.fc.B.Grad)
		k.fc.BackwardSetNoBias(m.dLn, m.dFc, a.ln2, bt)
		k.ln2.Backward(m.dRes, m.dLn, a.mid, a.ln2Mean, a.ln2Rstd, bt)
		k.proj.BackwardSet(m.dAttOut, m.dRes, a.attOut, bt)
		k.attn.BackwardStatsOut(m.dQKV, m.dAttOut, a.qkv, a.attOut, a.attStats, b, t)
		k.qkv.BackwardSet(m.dLn, m.dQKV, a.ln1, bt)
		k.ln1.Backward(m.dRes, m.dLn, a.in, a.ln1Mean, a.ln1Rstd, bt)
	}
	m.emb.Backward(m.dRes, m.tokens, b, t)
	return loss
}

// TestChainsMatchLayerwise checks the row-chained Forward and Backward against layerwiseStep bit
// for bit: the loss, every gradient and the logits, over two steps (the second after a change of
// the weights, which the packed copies must follow), for row counts that are and are not
// multiples of the row block, with gemm.Fast and with a kernel that is not Fast (no packing),
// whose products give a block of rows the bits of the whole product. (gonum's do not, as its
// blocking depends on where a block starts: with gemm.Gonum the two agree to rounding.)
func TestChainsMatchLayerwise(t *testing.T) {
	saved := gemm.Default
	defer func() { gemm.Default = saved }()
	for _, kern := range []gemm.Kernel{gemm.Fast{}, serialKernel{}, gemm.Gonum{}} {
		gemm.Default = kern
		_, exact := kern.(serialKernel)
		if _, ok := kern.(gemm.Fast); ok {
			exact = true
		}
		same := func(a, b float32) bool {
			if exact {
				return math.Float32bits(a) == math.Float32bits(b)
			}
			return math.Abs(float64(a-b)) <= 1e-5*(1+math.Abs(float64(b)))
		}
		for _, cfg := range []Config{
			{D: 32, Layers: 2, Heads: 2, Ctx: 40, Batch: 5},  // 200 rows: blocks of 96, 96, 8
			{D: 48, Layers: 3, Heads: 4, Ctx: 48, Batch: 4},  // 192 rows: two whole blocks
			{D: 16, Layers: 1, Heads: 1, Ctx: 20, Batch: 1},  // fewer rows than a block
			{D: 64, Layers: 1, Heads: 2, Ctx: 128, Batch: 3}, // products large enough to split
		} {
			chained, err := New(cfg, 7)
			if err != nil {
				t.Fatal(err)
			}
			layered, _ := New(cfg, 7)
			for step := range 2 {
				in, tg := tinyBatch(cfg, uint64(10+step))
				want := layerwiseStep(layered, in, tg)
				got, err := chained.Forward(in, tg)
				if err != nil {
					t.Fatal(err)
				}
				chained.Backward()
				if exact && math.Float64bits(got) != math.Float64bits(want) || math.Abs(got-want) > 1e-6*want {
					t.Fatalf("%T %+v step %d: loss %v, layer by layer %v", kern, cfg, step, got, want)
				}
				for i := range chained.logits {
					if !same(chained.logits[i], layered.logits[i]) {
						t.Fatalf("%T %+v step %d: logit %d = %v, layer by layer %v", kern, cfg, step, i, chained.logits[i], layered.logits[i])
					}
				}
				for pi, p := range chained.Params() {
					q := layered.Params()[pi]
					for j := range p.Grad {
						if !same(p.Grad[j], q.Grad[j]) {
							t.Fatalf("%T %+v step %d: %s.Grad[%d] = %v, layer by layer %v", kern, cfg, step, p.Name, j, p.Grad[j], q.Grad[j])
						}
					}
				}
				// A plain SGD step on both, so the next step runs on changed weights.
				for pi, p := range chained.Params() {
					q := layered.Params()[pi]
					for j := range p.Value {
						p.Value[j] -= 0.5 * p.Grad[j]
						q.Value[j] -= 0.5 * q.Grad[j]
					}
				}
			}
		}
	}
}
