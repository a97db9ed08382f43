package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/fadam-go/fadam"
)

// Memory-traffic model of one optimizer step, in bytes per parameter (float32 everywhere).
// Each algorithm needs whole-tensor reductions before it can finish an element, which forces
// separate passes over the tensor (DESIGN.md §3); the model counts the least traffic those passes
// need, ignoring the O(n+m) factored statistics R and C and treating every array as coming from
// memory. Achieved GB/s = model bytes × parameters per second, so a roofline above 1 would mean
// the implementation beats the model, for example with tensors that fit in cache.
const (
	// FAdam, Algorithm 1: pass 1 reads g for RMS(g) (4); pass 2 reads g, f, θ and writes f,
	// summing ḡ² and ḡ_w² for the two clips (16); pass 3 reads g, f, θ, m and writes m, θ (24).
	bytesFAdam = 44
	// FAdafactor, Algorithm 2: pass 1 reads g for the row/column sums of g² and RMS(g) (4);
	// pass 2 reads g, θ with f rebuilt from R and C, summing ḡ² and ḡ_w² (8); pass 3 reads
	// g, θ, m and writes m, θ (20).
	bytesFAdafactor = 32
	// Adam with Algorithm 3's update clipping (Clip > 0, as in fadam.Defaults): pass 1 reads
	// g, m, v and writes m, v, summing the squared update (20); pass 2 reads m, v, θ and
	// writes θ (16). Without clipping one pass of 28 bytes suffices.
	bytesAdam = 36
	// Adafactor, Algorithm 4: pass 1 reads g for the row/column sums of g² (4); pass 2 reads g
	// for RMS(ḡ) (4); pass 3 reads g, m, θ and writes m, θ (20).
	bytesAdafactor = 28
	// The triad a[i] = b[i] + s·c[i] reads two arrays and writes one (STREAM's convention,
	// which does not count the write-allocate read).
	bytesTriad = 12
)

// triad computes a[i] = b[i] + s·c[i], splitting the arrays into one contiguous chunk per
// worker.
func triad(a, b, c []float32, s float32, workers int) {
	n := len(a)
	workers = max(1, min(workers, n))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, b, c := a[lo:hi], b[lo:hi], c[lo:hi]
			for i := range a {
				a[i] = b[i] + s*c[i]
			}
		}()
	}
	wg.Wait()
}

// measureTriad returns the best triad bandwidth in bytes per second over reps repetitions on
// arrays of n float32, using GOMAXPROCS workers.
func measureTriad(n, reps int) float64 {
	a, b, c := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range b {
		b[i], c[i] = float32(i%7), float32(i%5)
	}
	workers := runtime.GOMAXPROCS(0)
	triad(a, b, c, 3, workers) // touch the pages before timing
	best := math.Inf(1)
	for range reps {
		start := time.Now()
		triad(a, b, c, 3, workers)
		best = min(best, time.Since(start).Seconds())
	}
	return bytesTriad * float64(n) / best
}

// tensorShape is one parameter tensor of a benchmark layout.
type tensorShape struct {
	name  string
	shape []int
}

func (t tensorShape) size() int {
	n := 1
	for _, d := range t.shape {
		n *= d
	}
	return n
}

// bigLayout is a single matrix of n parameters (n×1 when n has no better factorisation, so that
// FAdafactor sees a rank-2 tensor either way).
func bigLayout(n int) []tensorShape {
	rows := 1
	for r := int(math.Sqrt(float64(n))); r >= 1; r-- {
		if n%r == 0 {
			rows = r
			break
		}
	}
	return []tensorShape{{"big", []int{rows, n / rows}}}
}

// gptLayers, and the vocabulary and context sizes as multiples of the width, fix the shape of
// the gpt layout; only the width changes with the parameter budget.
const (
	gptLayers     = 8
	gptVocabRatio = 16 // vocabulary = 16·d
	gptCtxRatio   = 2  // context = 2·d
)

// gptParams is the parameter count of the gpt layout of width d:
// 12d² + 13d per layer, (16+2)d² for the embeddings and 2d for the final LayerNorm.
func gptParams(d int) int {
	return gptLayers*(12*d*d+13*d) + (gptVocabRatio+gptCtxRatio)*d*d + 2*d
}

// gptLayout returns the tensors of a GPT-2-shaped model (token and position embeddings; per
// layer two LayerNorms, the qkv, attention-output and two MLP matrices with biases; a final
// LayerNorm) whose width d is the largest with at most n parameters (at least 1): 100 tensors,
// 29.9M parameters at d = 512.
func gptLayout(n int) []tensorShape {
	d := 1
	for gptParams(d+1) <= n {
		d++
	}
	ts := []tensorShape{
		{"wte", []int{gptVocabRatio * d, d}},
		{"wpe", []int{gptCtxRatio * d, d}},
	}
	for l := range gptLayers {
		p := fmt.Sprintf("h%d.", l)
		ts = append(ts,
			tensorShape{p + "ln1.g", []int{d}}, tensorShape{p + "ln1.b", []int{d}},
			tensorShape{p + "attn.qkv.w", []int{d, 3 * d}}, tensorShape{p + "attn.qkv.b", []int{3 * d}},
			tensorShape{p + "attn.proj.w", []int{d, d}}, tensorShape{p + "attn.proj.b", []int{d}},
			tensorShape{p + "ln2.g", []int{d}}, tensorShape{p + "ln2.b", []int{d}},
			tensorShape{p + "mlp.fc.w", []int{d, 4 * d}}, tensorShape{p + "mlp.fc.b", []int{4 * d}},
			tensorShape{p + "mlp.proj.w", []int{4 * d, d}}, tensorShape{p + "mlp.proj.b", []int{d}},
		)
	}
	return append(ts, tensorShape{"lnf.g", []int{d}}, tensorShape{"lnf.b", []int{d}})
}

// newParams allocates the tensors of a layout with values and gradients drawn from a fixed
// seed, so every optimizer sees the same data.
func newParams(layout []tensorShape) []fadam.Param {
	rng := rand.New(rand.NewPCG(1, 2))
	ps := make([]fadam.Param, len(layout))
	for i, t := range layout {
		n := t.size()
		p := fadam.Param{Name: t.name, Shape: t.shape, Value: make([]float32, n), Grad: make([]float32, n)}
		for j := range n {
			p.Value[j] = float32(0.02 * rng.NormFloat64())
			p.Grad[j] = float32(1e-3 * rng.NormFloat64())
		}
		ps[i] = p
	}
	return ps
}

// stepTiming is the outcome of timing one optimizer.
type stepTiming struct {
	best       time.Duration // fastest timed Step
	stateBytes int64         // heap growth from construction through the first Step
}

// timeSteps builds an optimizer with construct, takes warmup steps, then times steps more and
// keeps the fastest. The heap growth across construction and the first step (after a GC) is the
// optimizer's state, plus any scratch it keeps.
func timeSteps(ctx context.Context, construct func() (fadam.Stepper, error), params []fadam.Param, warmup, steps int) (stepTiming, error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	opt, err := construct()
	if err != nil {
		return stepTiming{}, err
	}
	if err := opt.Step(params); err != nil {
		return stepTiming{}, err
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	res := stepTiming{best: time.Duration(math.MaxInt64), stateBytes: int64(after.HeapAlloc) - int64(before.HeapAlloc)}
	for i := range warmup + steps {
		if err := ctx.Err(); err != nil {
			return stepTiming{}, err
		}
		start := time.Now()
		if err := opt.Step(params); err != nil {
			return stepTiming{}, err
		}
		if i >= warmup {
			res.best = min(res.best, time.Since(start))
		}
	}
	runtime.KeepAlive(opt)
	return res, nil
}
