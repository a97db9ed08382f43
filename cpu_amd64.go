//go:build amd64 && !purego

package fadam

// hasAVX reports whether the CPU and OS support AVX (CPUID and XGETBV). It is the one CPU-feature
// check of the package's assembly loops.
func hasAVX() bool

// hasAVX512 reports whether the CPU and OS support AVX2, AVX-512F and AVX-512VL with the
// opmask and ZMM state saved.
func hasAVX512() bool

// useAVX selects the assembly loops; tests switch it off to compare them with the Go loops.
var useAVX = hasAVX()

// useAVX512 selects the AVX-512 loops where there are some (the bfloat16-state loops), under
// useAVX: tests switch it off to compare them with the AVX loops.
var useAVX512 = useAVX && hasAVX512()
