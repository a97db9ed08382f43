package fadam_test

import (
	"fmt"

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
