package fadam

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelRun runs fn(0..n−1) on up to GOMAXPROCS goroutines, handing out indices in order.
// Which goroutine runs an index never affects a result: every index writes its own output.
//
// The helpers are long-lived goroutines shared by every optimizer of the process, started on
// first use, so that a Step allocates nothing. An Optimizer keeps one parallelRun, which it
// uses from one goroutine at a time.
type parallelRun struct {
	n    int
	fn   func(i int)
	next atomic.Int64
	wg   sync.WaitGroup
}

// work takes indices until none are left.
func (r *parallelRun) work() {
	for {
		i := int(r.next.Add(1) - 1)
		if i >= r.n {
			return
		}
		r.fn(i)
	}
}

// helpers is the process-wide pool: runs wait in queue for a helper to join them.
var helpers struct {
	mu      sync.Mutex
	started int
	queue   chan *parallelRun
}

// ensureHelpers starts helpers until at least n are running.
func ensureHelpers(n int) {
	helpers.mu.Lock()
	defer helpers.mu.Unlock()
	if helpers.queue == nil {
		helpers.queue = make(chan *parallelRun, 256)
	}
	for ; helpers.started < n; helpers.started++ {
		go func() {
			for r := range helpers.queue {
				r.work()
				r.wg.Done()
			}
		}()
	}
}

// run executes fn(0..n−1) and returns when every index is done.
func (r *parallelRun) run(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	ensureHelpers(workers - 1)
	r.n, r.fn = n, fn
	r.next.Store(0)
	r.wg.Add(workers - 1)
	for range workers - 1 {
		helpers.queue <- r
	}
	r.work()
	r.wg.Wait()
	r.fn = nil
}
