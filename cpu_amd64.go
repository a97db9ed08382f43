//go:build amd64 && !purego

package fadam

// hasAVX reports whether the CPU and OS support AVX (CPUID and XGETBV). It is the one CPU-feature
// check of the package's assembly loops.
func hasAVX() bool

// useAVX selects the assembly loops; tests switch it off to compare them with the Go loops.
var useAVX = hasAVX()
