//go:build amd64 && !purego

package fadam

// cpuFeatures is the package's one CPU-feature check (CPUID and XGETBV): avx reports AVX with
// the XMM and YMM state saved by the OS; avx512 reports AVX2, AVX-512F and AVX-512VL with the
// opmask and ZMM state saved too.
func cpuFeatures() (avx, avx512 bool)

var hasAVX, hasAVX512 = cpuFeatures()

// useAVX selects the assembly loops; tests switch it off to compare them with the Go loops.
var useAVX = hasAVX

// useAVX512 selects the AVX-512 loops where there are some (the bfloat16-state loops), under
// useAVX: tests switch it off to compare them with the AVX loops.
var useAVX512 = useAVX && hasAVX512
