package gemm_test

import (
	"fmt"

	"github.com/fadam-go/fadam/gemm"
)

func ExampleFast() {
	// C = A·Bᵀ for A 2×3 and B 2×3, both row-major.
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{1, 0, 1, 0, 1, 0}
	c := make([]float32, 4)
	gemm.Fast{}.Sgemm(false, true, 2, 2, 3, 1, a, 3, b, 3, 0, c, 2)
	fmt.Println(c)
	// Output: [4 2 10 5]
}

func ExampleSgemmBatched() {
	// Two heads of size 1 over a sequence of 2 positions: activations are [ctx=2, heads·dh=2]
	// row-major, and head h's Q and K columns start at offset h. Scores S_h = Q_h·K_hᵀ.
	q := []float32{1, 2, 3, 4}
	k := []float32{1, 1, 2, 0}
	s := make([]float32, 2*2*2)
	off := []int{0, 1}
	gemm.SgemmBatched(gemm.Default, false, true, 2, 2, 1, 1, q, 2, off, k, 2, off, 0, s, 2, []int{0, 4})
	fmt.Println(s[:4], s[4:])
	// Output: [1 2 3 6] [2 0 4 0]
}
