//go:build !linux

package gemm

import "time"

// threadCPU is unavailable on this OS; PeakGFLOPS then uses wall time.
func threadCPU() (time.Duration, bool) { return 0, false }
