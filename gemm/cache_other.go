//go:build !amd64 || purego

package gemm

// l2Size reports no size: this build does not read CPUID.
func l2Size() int { return 0 }

// prefetchRows does nothing: this build has no prefetch instruction.
func prefetchRows(p *float32, rows, stride, lines int) {}

// prefetchRowsL2 does nothing: this build has no prefetch instruction.
func prefetchRowsL2(p *float32, rows, stride, lines int) {}
