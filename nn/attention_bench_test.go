package nn_test

import (
	"testing"

	"github.com/fadam-go/fadam/nn"
)

// BenchmarkCausalSelfAttention times forward+backward at the speed model's shape for 8
// sequences (T=128, C=128, 4 heads).
func BenchmarkCausalSelfAttention(b *testing.B) {
	const bs, t, c, nh = 8, 128, 128, 4
	a := nn.NewCausalSelfAttention(c, nh)
	qkv := substrateRand(bs*t*3*c, 1, 1)
	out, dout := make([]float32, bs*t*c), substrateRand(bs*t*c, 1, 2)
	att, scratch := make([]float32, bs*nh*t*t), make([]float32, bs*nh*t*t)
	dqkv := make([]float32, len(qkv))
	for b.Loop() {
		a.Forward(out, att, qkv, bs, t)
		a.Backward(dqkv, scratch, dout, qkv, att, bs, t)
	}
}

// BenchmarkCausalSelfAttentionStats is BenchmarkCausalSelfAttention through ForwardStats and
// BackwardStats (probabilities recomputed, not kept).
func BenchmarkCausalSelfAttentionStats(b *testing.B) {
	const bs, t, c, nh = 8, 128, 128, 4
	a := nn.NewCausalSelfAttention(c, nh)
	qkv := substrateRand(bs*t*3*c, 1, 1)
	out, dout := make([]float32, bs*t*c), substrateRand(bs*t*c, 1, 2)
	stats := make([]float32, a.StatsLen(bs, t))
	dqkv := make([]float32, len(qkv))
	for b.Loop() {
		a.ForwardStats(out, stats, qkv, bs, t)
		a.BackwardStats(dqkv, dout, qkv, stats, bs, t)
	}
}

// maskedBenchSetup is the ASR model's attention shape: 16 sequences padded to T=32 with 20–32
// valid frames, C=96, 4 heads.
func maskedBenchSetup() (a *nn.MaskedSelfAttention, lens []int, qkv, out, dout, dqkv []float32, bs, t int) {
	const c, nh = 96, 4
	bs, t = 16, 32
	a = nn.NewMaskedSelfAttention(c, nh)
	lens = make([]int, bs)
	for i := range lens {
		lens[i] = t - 12*i/(bs-1)
	}
	qkv = substrateRand(bs*t*3*c, 1, 1)
	out, dout = make([]float32, bs*t*c), substrateRand(bs*t*c, 1, 2)
	return a, lens, qkv, out, dout, make([]float32, len(qkv)), bs, t
}

// BenchmarkMaskedSelfAttention times forward+backward of the padded, non-causal attention at
// the ASR model's shape (maskedBenchSetup).
func BenchmarkMaskedSelfAttention(b *testing.B) {
	a, lens, qkv, out, dout, dqkv, bs, t := maskedBenchSetup()
	att := make([]float32, bs*a.Heads*t*t)
	for b.Loop() {
		a.Forward(out, att, qkv, lens, bs, t)
		a.Backward(dqkv, nil, dout, qkv, att, lens, bs, t)
	}
}

// BenchmarkMaskedSelfAttentionStats is BenchmarkMaskedSelfAttention through ForwardStats and
// BackwardStats (probabilities recomputed, not kept), as the ASR model runs it.
func BenchmarkMaskedSelfAttentionStats(b *testing.B) {
	a, lens, qkv, out, dout, dqkv, bs, t := maskedBenchSetup()
	stats := make([]float32, a.StatsLen(bs, t))
	for b.Loop() {
		a.ForwardStats(out, stats, qkv, lens, bs, t)
		a.BackwardStats(dqkv, dout, qkv, stats, lens, bs, t)
	}
}

// BenchmarkCausalSelfAttentionStep times the attention of one training step of the d=128 GPT
// (32 sequences of 128 tokens, C = 128, 4 heads, 4 layers): ForwardStats of every layer, then
// BackwardStats in reverse, each layer on its own buffers (about 66 MB in all, more than the
// last-level cache), so that, as in the step, the rows come from memory rather than cache.
func BenchmarkCausalSelfAttentionStep(b *testing.B) {
	benchmarkAttentionStep(b, attentionStepD128, false)
}

// BenchmarkCausalSelfAttentionStepOut is BenchmarkCausalSelfAttentionStep with
// BackwardStatsOut (the row sums Σ P⊙dP taken as dout·out), as models/gpt runs it.
func BenchmarkCausalSelfAttentionStepOut(b *testing.B) {
	benchmarkAttentionStep(b, attentionStepD128, true)
}

// BenchmarkCausalSelfAttentionStep512 is BenchmarkCausalSelfAttentionStepOut at the d=512
// GPT's shape (8 sequences of 256 tokens, C = 512, 4 heads of 128 columns, 8 layers; about
// 200 MB of buffers).
func BenchmarkCausalSelfAttentionStep512(b *testing.B) {
	benchmarkAttentionStep(b, attentionStepShape{bs: 8, t: 256, c: 512, nh: 4, layers: 8}, true)
}

// attentionStepShape is the attention of one GPT training step: batch, context, features,
// heads and layers.
type attentionStepShape struct{ bs, t, c, nh, layers int }

var attentionStepD128 = attentionStepShape{bs: 32, t: 128, c: 128, nh: 4, layers: 4}

// benchmarkAttentionStep also reports GFLOP/s on nn.CausalAttentionFlops's count, the GPT's.
func benchmarkAttentionStep(b *testing.B, sh attentionStepShape, withOut bool) {
	bs, t, c, nh, layers := sh.bs, sh.t, sh.c, sh.nh, sh.layers
	a := nn.NewCausalSelfAttention(c, nh)
	type layer struct{ qkv, out, stats, dout, dqkv []float32 }
	ls := make([]layer, layers)
	for i := range ls {
		ls[i] = layer{
			qkv: substrateRand(bs*t*3*c, 1, uint64(3*i+1)), out: make([]float32, bs*t*c),
			stats: make([]float32, a.StatsLen(bs, t)), dout: substrateRand(bs*t*c, 1, uint64(3*i+2)),
			dqkv: make([]float32, bs*t*3*c),
		}
	}
	for b.Loop() {
		for i := range ls {
			a.ForwardStats(ls[i].out, ls[i].stats, ls[i].qkv, bs, t)
		}
		for i := layers - 1; i >= 0; i-- {
			l := ls[i]
			if withOut {
				a.BackwardStatsOut(l.dqkv, l.dout, l.qkv, l.out, l.stats, bs, t)
			} else {
				a.BackwardStats(l.dqkv, l.dout, l.qkv, l.stats, bs, t)
			}
		}
	}
	flops := float64(layers*bs) * nn.CausalAttentionFlops(c, t)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
