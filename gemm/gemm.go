// Package gemm puts the training substrate's matrix multiplications behind one small interface,
// so a faster kernel can replace gonum's where measurements ask for it.
package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Kernel computes C = alpha·op(A)·op(B) + beta·C on row-major float32 matrices, where op(X) is X
// or its transpose. op(A) is m×k, op(B) is k×n and C is m×n; lda, ldb and ldc are the row strides
// of A, B and C as stored. A kernel may use several goroutines; it returns when C is final.
// C must not alias A or B.
type Kernel interface {
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// Gonum is the kernel backed by gonum's pure-Go blas32 implementation.
type Gonum struct{}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// Sgemm implements Kernel with gonum's Sgemm.
func (Gonum) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	gonum.Implementation{}.Sgemm(trans(transA), trans(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Default is the kernel the substrate uses.
var Default Kernel = Gonum{}
