//go:build !unix

package gemm

import "time"

// ProcessCPU is unavailable on this OS: it returns 0, false (see the unix version).
func ProcessCPU() (time.Duration, bool) { return 0, false }
