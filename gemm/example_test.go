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

// biasEpilogue adds a bias to every column of C as each block of C is finished.
type biasEpilogue struct {
	c    []float32
	ldc  int
	bias []float32
}

func (e *biasEpilogue) Block(_, i0, i1, j0, j1 int) {
	for i := i0; i < i1; i++ {
		row := e.c[i*e.ldc : i*e.ldc+j1]
		for j := j0; j < j1; j++ {
			row[j] += e.bias[j]
		}
	}
}

func ExampleSgemmEpilogue() {
	// y = x·Wᵀ + b, with the bias added while each block of y is still in cache.
	x := []float32{1, 2, 3, 4, 5, 6} // 2×3
	w := []float32{1, 0, 1, 0, 1, 0} // 2×3
	y := make([]float32, 4)
	ep := &biasEpilogue{c: y, ldc: 2, bias: []float32{10, 20}}
	gemm.SgemmEpilogue(gemm.Default, false, true, 2, 2, 3, 1, x, 3, w, 3, 0, y, 2, ep)
	fmt.Println(y)
	// Output: [14 22 20 25]
}
