package optimizers_test

import (
	"fmt"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/optimizers"
)

// Build each of the four optimizers by name, with the shared hyperparameters unchanged and each
// algorithm's own constants (the paper's protocol), and minimise the same quadratic.
func ExampleNew() {
	shared := fadam.Defaults()
	shared.LR, shared.WeightDecay = 0.05, 0
	for _, name := range optimizers.Names {
		opt, err := optimizers.New(name, shared.WithConstants(fadam.Algorithm(name)))
		if err != nil {
			panic(err)
		}
		w, g := []float32{0, 0, 0, 0}, make([]float32, 4)
		params := []fadam.Param{{Name: "w", Shape: []int{2, 2}, Value: w, Grad: g}}
		for range 400 { // minimise Σ (w_i − 1)²
			for i := range w {
				g[i] = 2 * (w[i] - 1)
			}
			if err := opt.Step(params); err != nil {
				panic(err)
			}
		}
		fmt.Printf("%-10s ε = %-5g w = %.2f\n", opt.Name(), opt.Config().Eps, w)
	}
	// Output:
	// fadam      ε = 1e-08 w = [1.00 1.00 1.00 1.00]
	// fadafactor ε = 1e-08 w = [1.00 1.00 1.00 1.00]
	// adam       ε = 1e-08 w = [1.00 1.00 1.00 1.00]
	// adafactor  ε = 1e-30 w = [1.00 1.00 1.00 1.00]
}
