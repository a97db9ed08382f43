//go:build !amd64 || purego

package gemm

// asmKernels lists no kernels: this build has no assembly (non-amd64 or the purego tag).
func asmKernels() []*microKernel { return nil }
