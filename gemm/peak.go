package gemm

import (
	"runtime"
	"sync"
	"time"
)

// PeakGFLOPS measures the float32 FMA throughput of this machine, in GFLOP/s, with the vector
// width Fast uses: GOMAXPROCS goroutines each run a loop of independent FMAs with no memory
// traffic for about d, and their rates add up. It is an upper bound for any Sgemm here, useful
// to put kernel speeds in proportion. Where the OS reports per-thread CPU time (Linux), each
// rate is over the time the goroutine's thread was actually on a core, so other processes on
// a shared machine lower it less. It returns 0 when no assembly kernel fits the CPU.
func PeakGFLOPS(d time.Duration) float64 {
	mk := bestKernel
	if mk.fmaLoop == nil {
		return 0
	}
	d = max(d, time.Millisecond)
	// Calibrate the iteration count on one goroutine.
	n := 1 << 14
	for {
		start := time.Now()
		mk.fmaLoop(n)
		if el := time.Since(start); el >= d/8 || n >= 1<<30 {
			n = int(float64(n) * float64(d) / float64(el))
			break
		}
		n *= 4
	}
	procs := runtime.GOMAXPROCS(0)
	rates := make([]float64, procs)
	var wg sync.WaitGroup
	for g := range rates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			start := time.Now()
			cpu0, ok := threadCPU()
			mk.fmaLoop(n)
			el := time.Since(start)
			if cpu1, ok1 := threadCPU(); ok && ok1 && cpu1 > cpu0 {
				el = cpu1 - cpu0 // time actually on a core, if other processes took some
			}
			rates[g] = float64(n) * float64(mk.fmaLoopFlops) / el.Seconds() / 1e9
		}()
	}
	wg.Wait()
	var sum float64
	for _, r := range rates {
		sum += r
	}
	return sum
}
