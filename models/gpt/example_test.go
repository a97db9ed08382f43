package gpt_test

import (
	"fmt"

	"github.com/fadam-go/fadam/models/gpt"
	"github.com/fadam-go/fadam/nn"
)

func Example() {
	m, err := gpt.New(gpt.Config{D: 64, Layers: 2, Heads: 4, Ctx: 64, Batch: 16}, 1)
	if err != nil {
		panic(err)
	}
	ps := m.Params()
	fmt.Println(nn.Count(ps), "parameters in", len(ps), "tensors")
	for _, p := range ps[:6] {
		fmt.Println(p.Name, p.Shape, "decays:", gpt.Decays(p))
	}
	// Output:
	// 136960 parameters in 29 tensors
	// wte [256 64] decays: true
	// wpe [64 64] decays: true
	// blocks.0.ln1.g [64] decays: false
	// blocks.0.ln1.b [64] decays: false
	// blocks.0.attn.qkv.w [192 64] decays: true
	// blocks.0.attn.qkv.b [192] decays: false
}
