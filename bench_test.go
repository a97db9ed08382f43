package fadam_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/optimizers"
)

// Benchmarks of one optimizer step, reporting the step's memory traffic (TrafficBytes) as
// bytes/s, and of a triad a[i] = b[i] + s·c[i] (12 bytes per element) on the same machine: the
// roofline (docs/optimizer.md) is the ratio of the two MB/s figures.
//
//	go test -run '^$' -bench 'Triad|Step' -benchtime 10x -count 6 . | tee new.txt; benchstat new.txt
//	go test -run '^$' -bench Roofline -benchtime 1x .   # interleaved, best of 7

const big = 16 << 20

// gptSpecs mirrors cmd/fadam's gpt layout at width 512: 100 tensors, 29.9M parameters.
func gptSpecs() []spec { return gptSpecsOf(512) }

// gptSpecsOf is the gpt layout at width d.
func gptSpecsOf(d int) []spec { return gptLayers(d, 8, []int{16 * d, d}, []int{2 * d, d}) }

// compareSpecs are the tensors of the model `fadam compare` trains by default (the byte-level
// GPT of width 64, 2 layers, context 64: 137k parameters in 29 tensors, most of them small).
func compareSpecs() []spec {
	return append(gptLayers(64, 2, []int{256, 64}, []int{64, 64}), spec{"lm_head.w", []int{256, 64}})
}

// gptLayers is a GPT of width d with the given number of layers and embedding shapes.
func gptLayers(d, layers int, wte, wpe []int) []spec {
	s := []spec{{"wte", wte}, {"wpe", wpe}}
	for l := range layers {
		p := fmt.Sprintf("h%d.", l)
		s = append(s,
			spec{p + "ln1.g", []int{d}}, spec{p + "ln1.b", []int{d}},
			spec{p + "attn.qkv.w", []int{d, 3 * d}}, spec{p + "attn.qkv.b", []int{3 * d}},
			spec{p + "attn.proj.w", []int{d, d}}, spec{p + "attn.proj.b", []int{d}},
			spec{p + "ln2.g", []int{d}}, spec{p + "ln2.b", []int{d}},
			spec{p + "mlp.fc.w", []int{d, 4 * d}}, spec{p + "mlp.fc.b", []int{4 * d}},
			spec{p + "mlp.proj.w", []int{4 * d, d}}, spec{p + "mlp.proj.b", []int{d}},
		)
	}
	return append(s, spec{"lnf.g", []int{d}}, spec{"lnf.b", []int{d}})
}

// triad runs a[i] = b[i] + 3·c[i] with one contiguous slice per GOMAXPROCS worker.
func triad(a, x, y []float32) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := len(a)*w/workers, len(a)*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, x, y := a[lo:hi], x[lo:hi], y[lo:hi]
			for i := range a {
				a[i] = x[i] + 3*y[i]
			}
		}()
	}
	wg.Wait()
}

func triadArrays(n int) (a, x, y []float32) {
	a, x, y = make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], y[i] = float32(i%7), float32(i%5)
	}
	return a, x, y
}

func BenchmarkTriad(b *testing.B) {
	a, x, y := triadArrays(big)
	b.SetBytes(12 * big)
	b.ResetTimer()
	for b.Loop() {
		triad(a, x, y)
	}
}

// BenchmarkRoofline alternates triad and step timings (best of 7 each, so that a machine shared
// with other work disturbs the ratio least) and reports the step's bytes/s over the triad's as
// "roofline". Run it with -benchtime 1x.
func BenchmarkRoofline(b *testing.B) {
	a, x, y := triadArrays(big)
	layouts := []struct {
		name  string
		specs []spec
	}{{"big16Mi", []spec{{"big", []int{4096, 4096}}}}, {"gpt", gptSpecs()}}
	for _, l := range layouts {
		for _, name := range optimizers.Names {
			b.Run(name+"/"+l.name, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				ps := makeParams(rng, l.specs)
				fillGrads(rng, ps, 1)
				o, err := optimizers.New(name, fadam.Defaults())
				if err != nil {
					b.Fatal(err)
				}
				if err := o.Step(ps); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					bestTriad, bestStep := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
					for range 7 {
						start := time.Now()
						triad(a, x, y)
						bestTriad = min(bestTriad, time.Since(start))
						start = time.Now()
						if err := o.Step(ps); err != nil {
							b.Fatal(err)
						}
						bestStep = min(bestStep, time.Since(start))
					}
					triadBW := 12 * big / bestTriad.Seconds()
					stepBW := float64(o.TrafficBytes()) / bestStep.Seconds()
					b.ReportMetric(stepBW/triadBW, "roofline")
					b.ReportMetric(stepBW/1e9, "GB/s")
					b.ReportMetric(triadBW/1e9, "triad-GB/s")
					b.ReportMetric(float64(totalParams(ps))/bestStep.Seconds()/1e6, "Mparams/s")
					b.ReportMetric(float64(o.StateBytes())/float64(totalParams(ps)), "state-B/param")
				}
			})
		}
	}
}

func BenchmarkStep(b *testing.B) {
	layouts := []struct {
		name  string
		specs []spec
	}{{"big16Mi", []spec{{"big", []int{4096, 4096}}}}, {"gpt", gptSpecs()}, {"compare", compareSpecs()}}
	for _, l := range layouts {
		for _, name := range optimizers.Names {
			b.Run(name+"/"+l.name, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				ps := makeParams(rng, l.specs)
				fillGrads(rng, ps, 1)
				o, err := optimizers.New(name, fadam.Defaults())
				if err != nil {
					b.Fatal(err)
				}
				if err := o.Step(ps); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(o.TrafficBytes())
				for b.Loop() {
					if err := o.Step(ps); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(o.StateBytes())/float64(totalParams(ps)), "state-B/param")
			})
		}
	}
}

func totalParams(ps []fadam.Param) int {
	n := 0
	for _, p := range ps {
		n += len(p.Value)
	}
	return n
}

// BenchmarkStepOptions measures what the per-step options cost FAdam, as ratios of step times
// measured interleaved in one run (best of 7 each, so that a machine shared with other work
// disturbs the ratios least), on the gpt layout at width 256 (7.6M parameters, beyond the
// caches): global-norm clipping that does not clip (the norm comes from passRead's sums),
// clipping that clips at every step (gradients restored outside the timer: one more read and
// write of g and a second passRead), and per-parameter options by rule, each over no options.
//
//	go test -run '^$' -bench StepOptions -benchtime 1x -count 6 .
func BenchmarkStepOptions(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	ps := makeParams(rng, gptSpecsOf(256)) // shared: each optimizer updates the same values
	saved := fillGrads(rng, ps, 1)
	for i := range saved {
		saved[i] = append([]float32(nil), saved[i]...)
	}
	restore := func() {
		for i := range ps {
			copy(ps[i].Grad, saved[i])
		}
	}
	cases := []struct {
		name    string
		maxNorm float64
		rule    bool
		opt     *fadam.Optimizer
	}{{"none", 0, false, nil}, {"clip-inactive", 1e30, false, nil}, {"clip-active", 1, false, nil}, {"param-groups", 0, true, nil}}
	for i := range cases {
		c := &cases[i]
		cfg := fadam.Defaults()
		cfg.MaxGradNorm = c.maxNorm
		o, err := fadam.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if c.rule {
			o.SetParamOptionsFunc(func(_ string, shape []int) fadam.ParamOptions {
				if len(shape) < 2 {
					return fadam.ParamOptions{}.WithWeightDecay(0.1)
				}
				return fadam.ParamOptions{LRScale: 0.5}
			})
		}
		restore()
		if err := o.Step(ps); err != nil {
			b.Fatal(err)
		}
		c.opt = o
	}
	for b.Loop() {
		best := make([]time.Duration, len(cases))
		for i := range best {
			best[i] = time.Duration(math.MaxInt64)
		}
		for range 7 {
			for i, c := range cases {
				restore()
				start := time.Now()
				if err := c.opt.Step(ps); err != nil {
					b.Fatal(err)
				}
				best[i] = min(best[i], time.Since(start))
			}
		}
		for i, c := range cases[1:] {
			b.ReportMetric(best[i+1].Seconds()/best[0].Seconds(), c.name+"/none")
		}
		b.ReportMetric(float64(best[0].Microseconds())/1e3, "none-ms")
	}
}
