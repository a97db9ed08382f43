package fadam_test

import (
	"bytes"
	"fmt"

	"github.com/fadam-go/fadam"
)

// bfloat16 state halves the optimizer's memory; a checkpoint keeps the dtype, and resuming
// continues bit for bit.
func ExampleStateDType() {
	cfg := fadam.Defaults()
	cfg.LR = 0.05
	cfg.StateDType = fadam.BFloat16 // m and √f stored as bfloat16, rounded stochastically
	cfg.RoundingSeed = 7            // the same seed and gradients give the same bits
	opt, err := fadam.New(cfg)
	if err != nil {
		panic(err)
	}
	w := make([]float32, 1000)
	grad := make([]float32, len(w))
	params := []fadam.Param{{Name: "w", Shape: []int{len(w)}, Value: w, Grad: grad}}
	step := func(o *fadam.Optimizer) {
		for i := range w {
			grad[i] = 2 * (w[i] - 3)
		}
		if err := o.Step(params); err != nil {
			panic(err)
		}
	}
	for range 200 {
		step(opt)
	}
	var ckpt bytes.Buffer
	if _, err := opt.WriteTo(&ckpt); err != nil {
		panic(err)
	}
	resumed, _ := fadam.New(cfg) // Load needs the same StateDType
	if err := resumed.Unmarshal(ckpt.Bytes()); err != nil {
		panic(err)
	}
	fmt.Printf("state %d bytes for %d parameters (%s), w[0] = %.3f\n",
		resumed.StateBytes(), len(w), resumed.Config().StateDType, w[0])
	// Output: state 4000 bytes for 1000 parameters (bfloat16), w[0] = 3.000
}
