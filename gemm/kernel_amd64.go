//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

//go:generate go run gen_asm.go

// kernelAVX512 computes a 12×32 tile of C from packed panels (see microKernel).
//
//go:noescape
func kernelAVX512(k int, a, b, c *float32, ldc int, alpha, beta float32)

// kernelAVX2 computes a 6×16 tile of C from packed panels (see microKernel).
//
//go:noescape
func kernelAVX2(k int, a, b, c *float32, ldc int, alpha, beta float32)

var (
	avx512Kernel = &microKernel{name: "avx512", mr: 12, nr: 32, fn: kernelAVX512}
	avx2Kernel   = &microKernel{name: "avx2", mr: 6, nr: 16, fn: kernelAVX2}
)

// asmKernels lists the assembly micro-kernels this CPU can run, fastest first.
func asmKernels() []*microKernel {
	var ks []*microKernel
	// The kernel uses only AVX-512F; HasAVX512F also requires OS support for the ZMM state.
	if cpu.X86.HasAVX512F {
		ks = append(ks, avx512Kernel)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernel)
	}
	return ks
}
