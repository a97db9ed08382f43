//go:build !unix

package gemm

import "time"

// processCPU is unavailable here; benchmarks then report wall-time speed only.
func processCPU() (time.Duration, bool) { return 0, false }
