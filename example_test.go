package fadam_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/fadam-go/fadam"
)

// Minimise (w−3)² with FAdam, excluding the bias-like parameter from weight decay.
func Example() {
	cfg := fadam.Defaults()
	cfg.LR = 0.1
	opt, err := fadam.New(cfg)
	if err != nil {
		panic(err)
	}
	w := []float32{0, 6}
	grad := make([]float32, 2)
	params := []fadam.Param{{Name: "w", Shape: []int{2}, Value: w, Grad: grad}}
	if err := opt.SetParamOptions("w", fadam.ParamOptions{NoWeightDecay: true}); err != nil {
		panic(err)
	}
	for step := range 300 {
		for i := range w {
			grad[i] = 2 * (w[i] - 3)
		}
		opt.SetLR(0.1 * (1 - float64(step)/300)) // linear decay
		if err := opt.Step(params); err != nil {
			panic(err)
		}
	}
	fmt.Printf("w = [%.2f %.2f] after %d steps\n", w[0], w[1], opt.Steps())
	// Output: w = [3.00 3.00] after 300 steps
}

// FAdafactor keeps a factored Fisher estimate for matrices; Fisher reconstructs it.
func ExampleNewFactored() {
	opt, err := fadam.NewFactored(fadam.Defaults())
	if err != nil {
		panic(err)
	}
	p := []fadam.Param{{Name: "W", Shape: []int{2, 2}, Value: []float32{1, 1, 1, 1}, Grad: []float32{1, 2, 3, 4}}}
	if err := opt.Step(p); err != nil {
		panic(err)
	}
	f, _ := opt.Fisher("W")
	// R = (1+4, 9+16) = (5, 25), C = (1+9, 4+16) = (10, 20), f_ij = R_i C_j / (5+25).
	fmt.Printf("f = %.4g, state %d bytes\n", f, opt.StateBytes())
	// Output: f = [1.667 3.333 8.333 16.67], state 32 bytes
}

// Resume training from a checkpoint: Save writes the optimizer's whole state (configuration,
// per-parameter options, step count, m and the Fisher estimates); a new optimizer that Loads it
// continues exactly where the first stopped. The parameter values themselves are the model's
// to save; here they stay in memory.
func ExampleOptimizer_Load() {
	dir, err := os.MkdirTemp("", "fadam-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "optimizer.safetensors")

	// train runs steps [from, to) of minimising Σ (w_i − i)² with a small step-dependent noise.
	train := func(opt *fadam.Optimizer, w []float32, from, to int) {
		g := make([]float32, len(w))
		params := []fadam.Param{{Name: "w", Shape: []int{len(w)}, Value: w, Grad: g}}
		for step := from; step < to; step++ {
			for i := range w {
				g[i] = 2*(w[i]-float32(i)) + 0.1*float32(step%3-1)
			}
			if err := opt.Step(params); err != nil {
				panic(err)
			}
		}
	}
	cfg := fadam.Defaults()
	cfg.LR = 0.05

	// Uninterrupted: 40 steps.
	straight, _ := fadam.New(cfg)
	wStraight := []float32{5, 5, 5}
	train(straight, wStraight, 0, 40)

	// Interrupted after 20 steps: save, then a fresh optimizer (as in a new process) loads the
	// checkpoint and runs the remaining 20.
	first, _ := fadam.New(cfg)
	w := []float32{5, 5, 5}
	train(first, w, 0, 20)
	if err := first.Save(path); err != nil {
		panic(err)
	}
	resumed, _ := fadam.New(fadam.Defaults()) // the configuration comes from the checkpoint
	if err := resumed.Load(path); err != nil {
		panic(err)
	}
	fmt.Println("loaded: step", resumed.Steps(), "LR", resumed.LR())
	train(resumed, w, 20, 40)
	fmt.Println("bit-identical to the uninterrupted run:", slices.Equal(w, wStraight))
	// Output:
	// loaded: step 20 LR 0.05
	// bit-identical to the uninterrupted run: true
}

// Per-parameter options, PyTorch's param groups: a rule excludes biases and gains (rank ≤ 1)
// from weight decay; by name, the embedding gets its own λ and half the learning rate; the
// optimizer's λ follows a schedule (parameters with their own λ keep it).
func ExampleOptimizer_SetParamOptionsFunc() {
	cfg := fadam.Defaults()
	cfg.LR, cfg.WeightDecay = 0.01, 0.1
	opt, err := fadam.New(cfg)
	if err != nil {
		panic(err)
	}
	opt.SetParamOptionsFunc(func(name string, shape []int) fadam.ParamOptions {
		if len(shape) <= 1 {
			return fadam.ParamOptions{}.WithWeightDecay(0) // or ParamOptions{NoWeightDecay: true}
		}
		return fadam.ParamOptions{}
	})
	// Explicit options replace the rule's for that parameter.
	if err := opt.SetParamOptions("embed", fadam.ParamOptions{LRScale: 0.5}.WithWeightDecay(0.01)); err != nil {
		panic(err)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	var params []fadam.Param
	for _, p := range []struct {
		name  string
		shape []int
	}{{"embed", []int{8, 4}}, {"w", []int{4, 4}}, {"b", []int{4}}} {
		n := p.shape[0]
		if len(p.shape) > 1 {
			n *= p.shape[1]
		}
		params = append(params, fadam.Param{Name: p.name, Shape: p.shape, Value: make([]float32, n), Grad: make([]float32, n)})
	}
	const steps = 100
	for step := range steps {
		opt.SetWeightDecay(0.05 * (1 + math.Cos(math.Pi*float64(step)/steps))) // cosine 0.1 → 0
		for _, p := range params {
			for i := range p.Grad {
				p.Grad[i] = float32(rng.NormFloat64())
			}
		}
		if err := opt.Step(params); err != nil {
			panic(err)
		}
	}
	for _, p := range params {
		o := opt.ParamOptions(p.Name, p.Shape)
		lambda := "the optimizer's"
		if o.HasWeightDecay {
			lambda = fmt.Sprint(o.WeightDecay)
		}
		scale := o.LRScale
		if scale == 0 { // 0 means 1
			scale = 1
		}
		fmt.Printf("%-5s LR scale %v, λ %s\n", p.Name, scale, lambda)
	}
	fmt.Printf("optimizer λ after the schedule: %.4f\n", opt.WeightDecay())
	// Output:
	// embed LR scale 0.5, λ 0.01
	// w     LR scale 1, λ the optimizer's
	// b     LR scale 1, λ 0
	// optimizer λ after the schedule: 0.0000
}

// Global-norm gradient clipping (PyTorch's clip_grad_norm_): with MaxGradNorm set, Step
// scales all gradients together so that their joint L2 norm is at most MaxGradNorm, in place,
// before the algorithm sees them; LastGradNorm reports the norm before clipping, for logging.
func ExampleOptimizer_LastGradNorm() {
	cfg := fadam.Defaults()
	cfg.MaxGradNorm = 1
	opt, err := fadam.New(cfg)
	if err != nil {
		panic(err)
	}
	a := fadam.Param{Name: "a", Shape: []int{2}, Value: []float32{0, 0}, Grad: []float32{3, 0}}
	b := fadam.Param{Name: "b", Shape: []int{}, Value: []float32{0}, Grad: []float32{4}}
	if err := opt.Step([]fadam.Param{a, b}); err != nil {
		panic(err)
	}
	fmt.Printf("norm before clipping: %.4g\n", opt.LastGradNorm())
	fmt.Printf("clipped gradients: a = %.4f, b = %.4f\n", a.Grad, b.Grad)
	// Output:
	// norm before clipping: 5
	// clipped gradients: a = [0.6000 0.0000], b = [0.8000]
}

// The paper's baselines run on the same engine: Adam with PyTorch AdamW semantics, with
// DefaultsFor giving PyTorch's constants (ε = 1e-8, no update clipping).
func ExampleNewAdam() {
	cfg := fadam.DefaultsFor(fadam.AlgorithmAdam)
	cfg.LR = 0.1
	opt, err := fadam.NewAdam(cfg)
	if err != nil {
		panic(err)
	}
	w, g := []float32{0}, []float32{0}
	params := []fadam.Param{{Name: "w", Shape: []int{1}, Value: w, Grad: g}}
	for range 500 { // minimise (w − 3)²
		g[0] = 2 * (w[0] - 3)
		if err := opt.Step(params); err != nil {
			panic(err)
		}
	}
	fmt.Printf("%s (ε = %g, clip = %g): w = %.2f\n", opt.Name(), opt.Config().Eps, opt.Config().Clip, w[0])
	// Output: adam (ε = 1e-08, clip = 0): w = 3.00
}

// Adafactor as printed in Algorithm 4, with its own constants (ε = 1e-30 inside the EMA, c =
// 1); a matrix keeps a factored second moment, so its state is about 4 bytes per parameter.
func ExampleNewAdafactor() {
	cfg := fadam.DefaultsFor(fadam.AlgorithmAdafactor)
	cfg.LR, cfg.WeightDecay = 0.05, 0
	opt, err := fadam.NewAdafactor(cfg)
	if err != nil {
		panic(err)
	}
	w, g := make([]float32, 64*32), make([]float32, 64*32)
	params := []fadam.Param{{Name: "W", Shape: []int{64, 32}, Value: w, Grad: g}}
	for range 300 { // minimise Σ (W_ij − 1)²
		for i := range w {
			g[i] = 2 * (w[i] - 1)
		}
		if err := opt.Step(params); err != nil {
			panic(err)
		}
	}
	fmt.Printf("%s (ε = %g): W[0] = %.2f, state %.2f bytes per parameter\n",
		opt.Name(), opt.Config().Eps, w[0], float64(opt.StateBytes())/float64(len(w)))
	// Output: adafactor (ε = 1e-30): W[0] = 1.00, state 4.19 bytes per parameter
}
