// Package gemm puts the training substrate's matrix multiplications behind one small interface,
// so a faster kernel can replace gonum's where measurements ask for it.
//
// Fast is the packed, cache-blocked kernel (GotoBLAS/BLIS loop structure) with AVX-512 and
// AVX2+FMA assembly micro-kernels; Default is Fast when the CPU has them. All four transpose
// combinations run at about the same speed. Its cache blocks follow the core's L2 size, read
// from CPUID at init. Results are bit-identical whatever GOMAXPROCS is and from call to call:
// every C element is one accumulator per depth block summed in a fixed order. They can differ in
// the last bits between machines whose micro-kernel or depth block differs. Products under about
// 2 MFLOP run on the calling goroutine, so many small ones (attention heads) are best handed
// to SgemmBatched, which runs them side by side.
package gemm

import (
	"fmt"

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

// String names the kernel for reports.
func (Gonum) String() string { return "gonum" }

// Default is the kernel the substrate uses: Fast when an assembly micro-kernel fits this CPU
// (it measured an order of magnitude faster than gonum on the substrate's shapes), gonum
// otherwise, since gonum's own assembly beats Fast's portable Go micro-kernel.
var Default Kernel = defaultKernel()

func defaultKernel() Kernel {
	if len(asmKernels()) > 0 {
		return Fast{}
	}
	return Gonum{}
}

// Name returns a short name for k, for reports: "gonum", "fast/avx512", "fast/avx2",
// "fast/go", or the Go type of an unknown kernel.
func Name(k Kernel) string {
	if s, ok := k.(interface{ String() string }); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", k)
}
