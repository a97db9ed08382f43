package nn

import (
	"sync"
	"sync/atomic"
	"testing"
)

type chunkCountJob struct{ hits []atomic.Int32 }

func (j *chunkCountJob) runChunk(lo, hi int) {
	for i := lo; i < hi; i++ {
		j.hits[i].Add(1)
	}
}

// TestRunChunksCoversEachIndexOnce runs several splitters at once, as parallel training runs
// do, and checks every index is run exactly once per call.
func TestRunChunksCoversEachIndexOnce(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s chunkSplitter
			for _, n := range []int{0, 1, 7, 100, 1000} {
				job := &chunkCountJob{hits: make([]atomic.Int32, n)}
				for range 50 {
					runChunks(job, n, minChunk(1+g), &s)
				}
				for i := range job.hits {
					if h := job.hits[i].Load(); h != 50 {
						t.Errorf("n=%d index %d run %d times, want 50", n, i, h)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
