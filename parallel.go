package fadam

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelFor runs fn(0..n−1) on up to GOMAXPROCS goroutines, handing out indices in order.
// Which goroutine runs an index never affects a result: every index writes its own output.
func parallelFor(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			fn(i)
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}
