//go:build unix

package gemm

import (
	"syscall"
	"time"
)

// ProcessCPU returns the CPU time (user and system) of all this process's threads, so a
// benchmark can report speed per core-second, which other processes on a shared machine disturb
// far less than wall time. ok is false where the OS does not tell.
func ProcessCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
