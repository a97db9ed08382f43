package nn_test

import (
	"fmt"

	"github.com/fadam-go/fadam/nn"
)

func ExampleCTCLoss() {
	// Four frames over three classes (0 is the blank) that mostly say "1, blank, 2, 2".
	logits := []float32{
		0, 4, 0,
		4, 0, 0,
		0, 0, 4,
		0, 0, 4,
	}
	grad := make([]float32, len(logits))
	loss, err := nn.CTCLoss(grad, logits, 4, 3, []int32{1, 2}, 1)
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.3f, best path %v\n", loss, nn.CTCGreedyDecode(logits, 4, 3))
	// Output: loss 0.071, best path [1 2]
}
