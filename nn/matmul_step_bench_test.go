package nn

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/fadam-go/fadam/gemm"
)

// stepProduct is one linear-layer product of a GPT training step as Linear issues it through
// matmul: C[m×n] = op(A)·op(B) + beta·C, with the operands named by index into stepBuffers.
type stepProduct struct {
	name           string
	transA, transB bool
	m, n, k        int
	a, b, c        []float32
	lda, ldb, ldc  int
	beta           float32
	// touch, if set, runs before the product untimed: a copy standing in for the element-wise
	// pass (LayerNorm, attention, GELU) that writes the product's input in the real step, so
	// the caches hold what they hold there.
	touch func()
}

// gptStepProducts returns the 15 kinds of linear products of one training step of the
// byte-level GPT (width d, layers blocks, tokens = batch×ctx rows) in the order the step runs
// them, on buffers laid out like the model's: activations per block, gradients shared, and
// every weight and weight gradient its own.
func gptStepProducts(d, layers, tokens int) []stepProduct {
	buf := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(i%13-6) * 0.01
		}
		return x
	}
	type block struct {
		in, ln1, qkv, attOut, mid, ln2, fc, fcGelu     []float32
		wQKV, gQKV, wProj, gProj, wFc, gFc, wOut, gOut []float32
	}
	bt := tokens
	blocks := make([]block, layers)
	for i := range blocks {
		blocks[i] = block{
			in: buf(bt * d), ln1: buf(bt * d), qkv: buf(bt * 3 * d), attOut: buf(bt * d), mid: buf(bt * d),
			ln2: buf(bt * d), fc: buf(bt * 4 * d), fcGelu: buf(bt * 4 * d),
			wQKV: buf(3 * d * d), gQKV: buf(3 * d * d), wProj: buf(d * d), gProj: buf(d * d),
			wFc: buf(4 * d * d), gFc: buf(4 * d * d), wOut: buf(4 * d * d), gOut: buf(4 * d * d),
		}
	}
	final, lnf, logits := buf(bt*d), buf(bt*d), buf(bt*256)
	wHead, gHead := buf(256*d), buf(256*d)
	dLogits, dLn, dRes, dQKV, dAttOut, dFc, dFcGelu := buf(bt*256), buf(bt*d), buf(bt*d), buf(bt*3*d), buf(bt*d), buf(bt*4*d), buf(bt*4*d)
	cp := func(dst, src []float32) func() { return func() { copy(dst, src) } }

	var ps []stepProduct
	// fwd is Linear's forward y = x·Wᵀ (+ beta·y), dw its dW += dyᵀ·x, dx its dx = dy·W.
	fwd := func(name string, in, out int, x, w, y []float32, beta float32, touch func()) {
		ps = append(ps, stepProduct{name: name + "_fwd", transB: true, m: bt, n: out, k: in, a: x, lda: in, b: w, ldb: in, c: y, ldc: out, beta: beta, touch: touch})
	}
	bwd := func(name string, in, out int, x, w, g, dy, dx []float32, touch func()) {
		ps = append(ps,
			stepProduct{name: name + "_dw", transA: true, m: out, n: in, k: bt, a: dy, lda: out, b: x, ldb: in, c: g, ldc: in, beta: 1, touch: touch},
			stepProduct{name: name + "_dx", m: bt, n: in, k: out, a: dy, lda: out, b: w, ldb: in, c: dx, ldc: in})
	}
	for i := range blocks {
		k := &blocks[i]
		next := final
		if i+1 < layers {
			next = blocks[i+1].in
		}
		// LayerNorm writes ln1, then the bias pass starts qkv.
		fwd("qkv", d, 3*d, k.ln1, k.wQKV, k.qkv, 1, func() { copy(k.ln1, k.in); clear(k.qkv) })
		// Attention writes attOut, then the bias pass starts mid as in + b.
		fwd("proj", d, d, k.attOut, k.wProj, k.mid, 1, func() { copy(k.attOut, k.qkv); copy(k.mid, k.in) })
		fwd("fc", d, 4*d, k.ln2, k.wFc, k.fc, 0, cp(k.ln2, k.mid))
		// GELU writes fcGelu, then the bias pass starts the next block's input as mid + b.
		fwd("fcout", 4*d, d, k.fcGelu, k.wOut, next, 1, func() { copy(k.fcGelu, k.fc); copy(next, k.mid) })
	}
	fwd("head", d, 256, lnf, wHead, logits, 0, cp(lnf, final))
	bwd("head", d, 256, lnf, wHead, gHead, dLogits, dLn, cp(dLogits, logits))
	for i := layers - 1; i >= 0; i-- {
		k := &blocks[i]
		bwd("fcout", 4*d, d, k.fcGelu, k.wOut, k.gOut, dRes, dFcGelu, cp(dRes, dLn))
		bwd("fc", d, 4*d, k.ln2, k.wFc, k.gFc, dFc, dLn, cp(dFc, dFcGelu))
		bwd("proj", d, d, k.attOut, k.wProj, k.gProj, dRes, dAttOut, cp(dRes, dLn))
		bwd("qkv", d, 3*d, k.ln1, k.wQKV, k.gQKV, dQKV, dLn, func() { copy(dQKV, dAttOut); copy(dQKV[bt*d:], dAttOut) })
	}
	return ps
}

// BenchmarkStepProducts runs the linear products of a GPT training step through matmul in step
// order, on step-sized buffers with a copy standing in for each element-wise pass between
// them, so the caches are about as cold as in the step; it reports GFLOP/s for each kind of
// product (from each product's fastest run, summed over the blocks, which other load disturbs
// less than the mean) and for all of them (mean, and "best" from the fastest runs), and their
// share of PeakGFLOPS. Run it
// once per GOMAXPROCS value (the pool's size is fixed at its first use):
//
//	GOMAXPROCS=1 go test ./nn -run '^$' -bench StepProducts -benchtime 10x
func BenchmarkStepProducts(b *testing.B) {
	peak := gemm.PeakGFLOPS(200 * time.Millisecond)
	for _, size := range []struct{ d, layers, tokens int }{{128, 4, 4096}, {512, 8, 2048}} {
		b.Run(fmt.Sprintf("d=%d", size.d), func(b *testing.B) {
			ps := gptStepProducts(size.d, size.layers, size.tokens)
			var job matmulJob
			var s chunkSplitter
			spent := map[string]time.Duration{}
			best := make([]time.Duration, len(ps)) // fastest run of each product
			flops := map[string]float64{}
			var total time.Duration
			cpu0, cpuOK := gemm.ProcessCPU()
			for b.Loop() {
				for i := range ps {
					p := &ps[i]
					if p.touch != nil {
						p.touch()
					}
					start := time.Now()
					matmul(&job, &s, p.transA, p.transB, p.m, p.n, p.k, 1, p.a, p.lda, p.b, p.ldb, p.beta, p.c, p.ldc)
					el := time.Since(start)
					if best[i] == 0 || el < best[i] {
						best[i] = el
					}
					spent[p.name] += el
					flops[p.name] += 2 * float64(p.m*p.n*p.k)
					total += el
				}
			}
			cpu1, cpuOK1 := gemm.ProcessCPU()
			var all float64
			names := make([]string, 0, len(spent))
			for n, f := range flops {
				all += f
				names = append(names, n)
			}
			sort.Strings(names)
			bestByName := map[string]time.Duration{}
			for i, p := range ps {
				bestByName[p.name] += best[i]
			}
			for _, n := range names {
				b.ReportMetric(flops[n]/float64(b.N)/bestByName[n].Seconds()/1e9, n+"-GFLOP/s")
			}
			gf := all / total.Seconds() / 1e9
			b.ReportMetric(gf, "GFLOP/s")
			if cpuOK && cpuOK1 && cpu1 > cpu0 {
				// The touches' time is in the CPU time too: an upper bound on the products'.
				b.ReportMetric(all/(cpu1-cpu0).Seconds()/1e9, "GFLOP/core-s")
			}
			var fastest time.Duration
			for _, d := range best {
				fastest += d
			}
			bestGF := all / float64(b.N) / fastest.Seconds() / 1e9
			b.ReportMetric(bestGF, "best-GFLOP/s")
			b.ReportMetric(total.Seconds()*1e3/float64(b.N), "ms/step")
			if peak > 0 {
				b.ReportMetric(100*gf/peak, "%peak")
				b.ReportMetric(100*bestGF/peak, "best-%peak")
			}
		})
	}
}
