package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/optimizers"
	"github.com/fadam-go/fadam/report"
)

// Memory-traffic model of one optimizer step, in bytes per parameter (float32 everywhere; the
// bfloat16-state rows below).
// Each algorithm needs whole-tensor reductions before it can finish an element, which forces
// separate passes over the tensor (docs/optimizer.md); the model counts the least traffic those passes
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
	// With bfloat16 state (Config.StateDType) every access to m and √f (√v, R, C) moves 2
	// bytes instead of 4: FAdam's three accesses of √f and three of m save 10 bytes, FAdafactor's
	// two of m save 4, Adam's six of m and √v save 12, Adafactor's two of m save 4.
	bytesFAdamBF16      = bytesFAdam - 10
	bytesFAdafactorBF16 = bytesFAdafactor - 4
	bytesAdamBF16       = bytesAdam - 12
	bytesAdafactorBF16  = bytesAdafactor - 4
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

// triadArrays holds the three arrays of the triad, so it can be re-measured during a run.
type triadArrays struct{ a, b, c []float32 }

func newTriadArrays(n int) *triadArrays {
	t := &triadArrays{make([]float32, n), make([]float32, n), make([]float32, n)}
	for i := range t.b {
		t.b[i], t.c[i] = float32(i%7), float32(i%5)
	}
	triad(t.a, t.b, t.c, 3, runtime.GOMAXPROCS(0)) // touch the pages before timing
	return t
}

// best returns the best triad bandwidth in bytes per second over reps repetitions, using
// GOMAXPROCS workers.
func (t *triadArrays) best(reps int) float64 {
	workers := runtime.GOMAXPROCS(0)
	best := math.Inf(1)
	for range reps {
		start := time.Now()
		triad(t.a, t.b, t.c, 3, workers)
		best = min(best, time.Since(start).Seconds())
	}
	return bytesTriad * float64(len(t.a)) / best
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

// modelBytes is the modelled traffic per parameter of each optimizer, by the name
// optimizers.New takes.
var modelBytes = map[string]float64{
	"fadam":      bytesFAdam,
	"fadafactor": bytesFAdafactor,
	"adam":       bytesAdam,
	"adafactor":  bytesAdafactor,
}

// modelBytesBF16 is modelBytes with bfloat16 state; those rows are named <optimizer>-bf16.
var modelBytesBF16 = map[string]float64{
	"fadam":      bytesFAdamBF16,
	"fadafactor": bytesFAdafactorBF16,
	"adam":       bytesAdamBF16,
	"adafactor":  bytesAdafactorBF16,
}

func init() {
	register(command{
		name:    "bench",
		summary: "optimizer-step throughput against the memory roofline (a triad); --train: GPT training-step throughput",
		run:     runBench,
	})
}

func runBench(ctx context.Context, args []string) error {
	return bench(ctx, args, os.Stdout, os.Stderr)
}

func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if wantsTrainBench(args) {
		return benchTrain(ctx, args, stdout, stderr)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	params := fs.Int("params", 16<<20, "parameter count (the gpt layout defaults to 30M and picks the widest model that fits)")
	layout := fs.String("layout", "big", "big: one tensor of --params parameters; gpt: about 100 tensors shaped like a GPT")
	steps := fs.Int("steps", 10, "timed steps per optimizer (the fastest is reported)")
	warmup := fs.Int("warmup", 2, "untimed steps before timing")
	reps := fs.Int("triad-reps", 10, "triad repetitions (the fastest is the roofline)")
	names := fs.String("optimizers", "fadam,fadafactor,adam,adafactor", "comma-separated optimizers to time")
	states := fs.String("state", "float32,bfloat16", "comma-separated state dtypes to time each optimizer with (float32, bfloat16; bfloat16 rows are named <optimizer>-bf16)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	paramsSet := false
	fs.Visit(func(f *flag.Flag) { paramsSet = paramsSet || f.Name == "params" })
	if *params < 1 || *steps < 1 || *warmup < 0 || *reps < 1 {
		return usagef("--params, --steps and --triad-reps must be at least 1 and --warmup at least 0 (got %d, %d, %d, %d)", *params, *steps, *reps, *warmup)
	}
	var algos []string
	for _, name := range strings.Split(*names, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if _, ok := modelBytes[name]; !ok {
			return usagef("unknown optimizer %q (known: %s)", name, strings.Join(optimizers.Names, ", "))
		}
		algos = append(algos, name)
	}
	var dtypes []fadam.StateDType
	for _, s := range strings.Split(*states, ",") {
		var d fadam.StateDType
		if err := d.UnmarshalText([]byte(strings.ToLower(strings.TrimSpace(s)))); err != nil {
			return usagef("--state: %v", err)
		}
		dtypes = append(dtypes, d)
	}
	var shapes []tensorShape
	switch *layout {
	case "big":
		shapes = bigLayout(*params)
	case "gpt":
		if !paramsSet {
			*params = 30_000_000
		}
		shapes = gptLayout(*params)
	default:
		return usagef("unknown --layout %q (want big or gpt)", *layout)
	}
	n := 0
	for _, s := range shapes {
		n += s.size()
	}

	fmt.Fprintf(stdout, "layout %s: %d parameters in %d tensor(s); %s\n", *layout, n, len(shapes), report.Machine())
	// The machine may be shared, so the triad is measured again before each optimizer; the
	// roofline is the best bandwidth seen, which can only make the ratios conservative.
	tri := newTriadArrays(n)
	triadBW := tri.best(*reps)
	fmt.Fprintf(stdout, "%-12s %8.1f GB/s  (a[i] = b[i] + s·c[i] over %d float32, %d B/elem, best of %d)\n",
		"triad", triadBW/1e9, n, bytesTriad, *reps)
	triadLo, triadHi := triadBW, triadBW

	ps := newParams(shapes)
	// Lines are printed after every optimizer has run, so that each ratio divides by the same,
	// final best triad.
	type line struct {
		name                           string
		model, perSec, bw, state, heap float64
		impl                           float64
	}
	var lines []line
	for _, name := range algos {
		for _, dtype := range dtypes {
			if err := ctx.Err(); err != nil {
				return err
			}
			bw := tri.best(*reps)
			triadLo, triadHi = min(triadLo, bw), max(triadHi, bw)
			cfg := fadam.Defaults()
			cfg.StateDType = dtype
			row, model := name, modelBytes[name]
			if dtype == fadam.BFloat16 {
				row, model = name+"-bf16", modelBytesBF16[name]
			}
			var opt optimizers.Optimizer
			res, err := timeSteps(ctx, func() (fadam.Stepper, error) {
				o, err := optimizers.New(name, cfg)
				opt = o
				return o, err
			}, ps, *warmup, *steps)
			if err != nil {
				return fmt.Errorf("%s: %w", row, err)
			}
			perSec := float64(n) / res.best.Seconds()
			lines = append(lines, line{name: row, model: model, perSec: perSec, bw: perSec * model,
				state: float64(opt.StateBytes()) / float64(n), impl: float64(opt.TrafficBytes()) / float64(n),
				heap: float64(max(res.stateBytes, 0)) / float64(n)})
		}
	}
	for _, l := range lines {
		fmt.Fprintf(stdout, "%-15s %8.1f Mparams/s  %6.1f GB/s  roofline=%.2f  state=%.1f B/param  [model %g B/param, implementation %.1f; heap +%.1f B/param; best of %d steps]\n",
			l.name, l.perSec/1e6, l.bw/1e9, l.bw/triadHi, l.state, l.model, l.impl, l.heap, *steps)
	}
	fmt.Fprintf(stdout, "roofline = GB/s ÷ best triad %.1f GB/s (triad ranged %.1f–%.1f GB/s during the run)\n", triadHi/1e9, triadLo/1e9, triadHi/1e9)
	return nil
}
