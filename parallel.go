package fadam

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelRunner runs fn(0..n−1) on up to GOMAXPROCS goroutines, handing out indices in order.
// Which goroutine runs an index never affects a result: every index writes its own output. Its
// state is reused, so run allocates nothing when fn is a func value created once (a stored
// method value): Step does not allocate.
type parallelRunner struct {
	next atomic.Int64
	n    int
	fn   func(i int)
	wg   sync.WaitGroup
}

// run calls fn(0..n−1) on up to GOMAXPROCS goroutines and returns when all calls are done.
func (r *parallelRunner) run(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	r.n, r.fn = n, fn
	r.next.Store(0)
	r.wg.Add(workers - 1)
	for range workers - 1 {
		go r.helper()
	}
	r.work()
	r.wg.Wait()
	r.fn = nil
}

func (r *parallelRunner) helper() {
	defer r.wg.Done()
	r.work()
}

// work runs indices until none are left.
func (r *parallelRunner) work() {
	for {
		i := int(r.next.Add(1) - 1)
		if i >= r.n {
			return
		}
		r.fn(i)
	}
}
