package asr_test

import (
	"fmt"

	"github.com/fadam-go/fadam/models/asr"
	"github.com/fadam-go/fadam/nn"
)

func Example() {
	m, err := asr.New(asr.DefaultConfig(), 1)
	if err != nil {
		panic(err)
	}
	// Two utterances of 100 and 60 frames of 40 log-mel features, zero-padded to 100.
	feats := make([]float32, 2*100*40)
	for i := range feats[:100*40+60*40] {
		feats[i] = float32(i%7) - 3
	}
	logits, err := m.Forward(feats, []int{100, 60}, 2, 100)
	if err != nil {
		panic(err)
	}
	loss, err := m.Loss([][]int32{{1, 2, 3}, {11}})
	if err != nil {
		panic(err)
	}
	nn.ZeroGrads(m.Params())
	m.Backward()
	fmt.Println(len(logits)/asr.DefaultConfig().Classes, "output frames; valid:", m.OutputLens(), "; loss > 0:", loss > 0)
	// Output: 50 output frames; valid: [25 15] ; loss > 0: true
}
