package schedule_test

import (
	"fmt"
	"log"

	"github.com/fadam-go/fadam/schedule"
)

func Example() {
	// Warm up over 2 steps to 1e-3, then decay along a cosine to 1e-4 at step 6.
	s, err := schedule.WarmupCosine(1e-3, 1e-4, 2, 6)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s)
	for t := 1; t <= 7; t++ {
		// In a training loop: set the optimizer's learning rate to s.LR(t), then step.
		fmt.Printf("step %d: lr %.6f\n", t, s.LR(t))
	}
	// Output:
	// cosine(peak=0.001, floor=0.0001, warmup=2, total=6)
	// step 1: lr 0.000500
	// step 2: lr 0.001000
	// step 3: lr 0.000868
	// step 4: lr 0.000550
	// step 5: lr 0.000232
	// step 6: lr 0.000100
	// step 7: lr 0.000100
}
