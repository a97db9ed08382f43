//go:build !amd64 || purego

package gemm

// l2Size reports no size: this build does not read CPUID.
func l2Size() int { return 0 }
