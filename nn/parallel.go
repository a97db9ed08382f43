package nn

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// chunkJob is a piece of layer work over the index range [lo, hi) whose chunks write disjoint
// outputs, so the result does not depend on how the range is split or who runs each chunk.
type chunkJob interface {
	runChunk(lo, hi int)
}

// chunkTask is one chunk of a job. Whoever claims it first (a pool worker or the caller, once
// it has finished its own chunk) runs it, so a caller never sits idle waiting for a worker that
// is busy elsewhere, for example with another training run.
type chunkTask struct {
	job     chunkJob
	lo, hi  int
	claimed atomic.Bool
	done    *sync.WaitGroup
}

func (t *chunkTask) tryRun() {
	if t.claimed.CompareAndSwap(false, true) {
		t.job.runChunk(t.lo, t.hi)
		t.done.Done()
	}
}

// chunkSplitter is the per-layer state of runChunks: its tasks live here so that splitting work
// allocates nothing after the first call. A layer must not run two jobs at once.
type chunkSplitter struct {
	wg    sync.WaitGroup
	tasks []chunkTask
}

// chunkPool is a fixed set of worker goroutines fed task pointers through a channel. Sending a
// pointer allocates nothing, unlike starting a goroutine with a closure, so a training step
// stays allocation-free.
type chunkPool struct {
	workers int // helpers besides the calling goroutine
	tasks   chan *chunkTask
}

var sharedChunkPool = sync.OnceValue(func() *chunkPool {
	p := &chunkPool{workers: runtime.GOMAXPROCS(0) - 1}
	p.tasks = make(chan *chunkTask, 64)
	for range p.workers {
		go p.work()
	}
	return p
})

// workerSpin is how long a worker keeps polling for the next task after finishing one before
// it blocks. A training step hands work to the pool every few tens of microseconds, and waking
// a blocked worker costs about 70 µs on a virtual machine whose idle virtual CPU halts (measured
// on the 2-core machine the benchmarks run on), as long as a small layer's whole chunk: without
// the spin the caller would run most chunks itself. The spin yields to any other goroutine that
// wants the CPU, and lasts at most this long once work stops arriving.
const workerSpin = 200 * time.Microsecond

// work runs tasks as they arrive, polling for workerSpin after each before blocking.
func (p *chunkPool) work() {
	for {
		var t *chunkTask
		select {
		case t = <-p.tasks:
		default:
			t = p.poll()
		}
		t.tryRun()
	}
}

// poll returns the next task, spinning for up to workerSpin before it blocks for one.
func (p *chunkPool) poll() *chunkTask {
	start := time.Now()
	for i := 1; ; i++ {
		select {
		case t := <-p.tasks:
			return t
		default:
		}
		if i%64 == 0 {
			if time.Since(start) > workerSpin {
				return <-p.tasks
			}
			// Let any goroutine waiting for this CPU run (another training run in the
			// process, or a goroutine of the caller's own).
			runtime.Gosched()
		}
	}
}

// maxChunks is the most chunks runChunks runs at once: a job that needs per-goroutine state
// keeps this many copies.
func maxChunks() int { return sharedChunkPool().workers + 1 }

// minChunk is the smallest amount of work (in the job's own units) worth handing to another
// goroutine; below it the whole range runs on the caller.
type minChunk int

// runChunks runs job over [0, n) split into up to GOMAXPROCS contiguous chunks and returns when
// all are done. The caller runs the last chunk, then any chunk no worker has claimed yet.
func runChunks(job chunkJob, n int, min minChunk, s *chunkSplitter) {
	p := sharedChunkPool()
	parts := p.workers + 1
	if m := n / max(int(min), 1); m < parts {
		parts = m
	}
	if parts <= 1 {
		job.runChunk(0, n)
		return
	}
	if len(s.tasks) < parts-1 {
		s.tasks = make([]chunkTask, parts-1)
	}
	s.wg.Add(parts - 1)
	for i := range parts - 1 {
		t := &s.tasks[i]
		t.job, t.lo, t.hi, t.done = job, i*n/parts, (i+1)*n/parts, &s.wg
		t.claimed.Store(false) // publishes the fields above to the worker that claims it
		select {
		case p.tasks <- t:
		default: // queue full: the caller will run it below
		}
	}
	job.runChunk((parts-1)*n/parts, n)
	for i := range parts - 1 {
		s.tasks[i].tryRun()
	}
	s.wg.Wait()
}
