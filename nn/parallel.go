package nn

import (
	"runtime"
	"sync"
)

// chunkJob is a piece of layer work over the index range [lo, hi) whose chunks write disjoint
// outputs, so the result does not depend on how the range is split.
type chunkJob interface {
	runChunk(lo, hi int)
}

type chunkTask struct {
	job    chunkJob
	lo, hi int
	done   *sync.WaitGroup
}

// chunkPool is a fixed set of worker goroutines fed through a channel. Sending a task (an
// interface holding a pointer, two ints and a pointer) allocates nothing, unlike starting a
// goroutine with a closure, so a training step stays allocation-free.
type chunkPool struct {
	workers int // helpers besides the calling goroutine
	tasks   chan chunkTask
}

var sharedChunkPool = sync.OnceValue(func() *chunkPool {
	p := &chunkPool{workers: runtime.GOMAXPROCS(0) - 1}
	p.tasks = make(chan chunkTask, 4*(p.workers+1))
	for range p.workers {
		go func() {
			for t := range p.tasks {
				t.job.runChunk(t.lo, t.hi)
				t.done.Done()
			}
		}()
	}
	return p
})

// minChunk is the smallest amount of work (in the job's own units) worth handing to another
// goroutine; below it the whole range runs on the caller.
type minChunk int

// runChunks runs job over [0, n) split into up to GOMAXPROCS contiguous chunks, the caller
// taking the last one, and returns when all are done. wg must be owned by the caller (a field of
// the layer) so that waiting allocates nothing. Chunks must not share outputs.
func runChunks(job chunkJob, n int, min minChunk, wg *sync.WaitGroup) {
	p := sharedChunkPool()
	parts := p.workers + 1
	if m := n / max(int(min), 1); m < parts {
		parts = m
	}
	if parts <= 1 {
		job.runChunk(0, n)
		return
	}
	wg.Add(parts - 1)
	for i := range parts - 1 {
		p.tasks <- chunkTask{job: job, lo: i * n / parts, hi: (i + 1) * n / parts, done: wg}
	}
	job.runChunk((parts-1)*n/parts, n)
	wg.Wait()
}
