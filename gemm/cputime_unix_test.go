//go:build unix

package gemm

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time this process has used, so benchmarks can report speed per
// core-second, which other processes on a shared machine disturb far less than wall time.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
