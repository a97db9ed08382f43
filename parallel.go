package fadam

import (
	"runtime"
	"sync/atomic"
	"time"
)

// parallelRunner runs fn(0..n−1) on up to GOMAXPROCS goroutines, handing out indices in order.
// Which goroutine runs an index never affects a result: every index writes its own output. Its
// state is reused, so run allocates nothing when fn is a func value created once (a stored
// method value): Step does not allocate.
//
// Handing work to another goroutine is not free: on a virtual machine whose idle virtual CPU
// halts, waking one costs about 70–125 µs (measured on the 2-core machine the benchmarks run
// on), longer than a whole pass over a small model's parameters. So run keeps small work on the
// calling goroutine (see minParallelWork), and the helper goroutines it starts do not exit when
// their share is done: each polls for the runner's next call for up to helperSpin, yielding the
// CPU as it does, so that the passes of one step, which follow each other within microseconds,
// start a helper once rather than once per pass. A helper that sees no work for helperSpin
// exits: an idle runner, and an Optimizer that is dropped, hold no goroutine.
type parallelRunner struct {
	next atomic.Int64
	n    int
	fn   func(i int)
	// finished counts the helpers that have done their share of the current call.
	finished atomic.Int32
	// slots is the number of helpers the current call still wants; a helper joins the call by
	// taking one (the taking publishes n and fn to it). run takes back the slots no helper took.
	slots atomic.Int32
	// live counts the helpers that exist: running a share or polling for the next call.
	live atomic.Int32
}

// minParallelWork is the least work (elements × passes over them, in the units of run's work
// argument) that run hands to helpers; below it, the calling goroutine does it all. FAdam's
// passes cost about 1 ns per element on GPT-shaped layouts. Measured on the 2-core machine the
// benchmarks run on (BenchmarkParallelThreshold, BenchmarkStep), with helpers polling from the
// previous step two goroutines lose at 35k parameters (1.2× slower), are about even at 120k
// (noisy: 1.8× faster in one run, 1.3× slower in another), gain 1.3–1.7× at 137k and 2× from
// 220k. Helpers that must first be started cost more, but in a training run the model's own
// worker pool keeps the other CPU awake and the step still gains there (docs/speed.md).
var minParallelWork = 1 << 16

// helperSpin is how long a helper polls for the runner's next call before it exits. It covers
// the gaps between the passes of a step (a few µs) and between the steps of a tight loop, but
// not a training step's forward and backward passes: each Step then starts its helpers once.
const helperSpin = 200 * time.Microsecond

// run calls fn(0..n−1) and returns when all calls are done. work is the amount of work of all n
// calls together (elements × passes); below minParallelWork every call runs on the calling
// goroutine.
func (r *parallelRunner) run(n, work int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 || work < minParallelWork {
		for i := range n {
			fn(i)
		}
		return
	}
	want := int32(workers - 1)
	r.n, r.fn = n, fn
	r.next.Store(0)
	r.finished.Store(0)
	r.slots.Store(want) // publishes n, fn and next to the helpers that take a slot
	// Start helpers for the slots the live ones (polling for this call) cannot fill.
	for live := r.live.Load(); live < want; live++ {
		r.live.Add(1)
		go r.helper()
	}
	r.work()
	// Take back the slots no helper took (no index is left for them), then wait for the helpers
	// that took one. Each is finishing at most one index, so this polls rather than blocks:
	// being woken would cost more than the wait.
	taken := want - r.slots.Swap(0)
	for r.finished.Load() != taken {
		runtime.Gosched()
	}
	r.fn = nil
}

// helper joins calls of run until it has seen none for helperSpin.
func (r *parallelRunner) helper() {
	for r.join() {
		r.work()
		r.finished.Add(1)
	}
}

// join waits for a call of run that wants a helper and takes one of its slots, polling for up to
// helperSpin and yielding the CPU every few polls. It reports false, with the helper no longer
// counted as live, when no call came.
func (r *parallelRunner) join() bool {
	var start time.Time
	for i := 0; ; i++ {
		if r.take() {
			return true
		}
		switch {
		case i == 0:
			start = time.Now()
		case i%32 == 0:
			if time.Since(start) > helperSpin {
				r.live.Add(-1)
				// A call that started just now may have counted this helper as live and
				// started no other: take its slot if it is still free.
				if r.take() {
					r.live.Add(1)
					return true
				}
				return false
			}
			runtime.Gosched()
		}
	}
}

// take takes a slot of the current call of run, if one is free.
func (r *parallelRunner) take() bool {
	for {
		s := r.slots.Load()
		if s == 0 {
			return false
		}
		if r.slots.CompareAndSwap(s, s-1) {
			return true
		}
	}
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
