package nn

import (
	"runtime"
	"sync"
	"sync/atomic"
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
		go func() {
			for t := range p.tasks {
				t.tryRun()
			}
		}()
	}
	return p
})

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
