package nn

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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

// BenchmarkWakeLatency measures what the pool's polling workers avoid: the time from sending a
// task to a goroutine blocked on a channel to that goroutine running, after the caller has
// worked alone for 100 µs (as between a step's layers). It reports the median in µs.
func BenchmarkWakeLatency(b *testing.B) {
	ch := make(chan time.Time)
	lat := make(chan time.Duration, 1)
	go func() {
		for t := range ch {
			lat <- time.Since(t)
		}
	}()
	defer close(ch)
	var ds []time.Duration
	for b.Loop() {
		for end := time.Now().Add(100 * time.Microsecond); time.Now().Before(end); {
		}
		ch <- time.Now()
		for done := false; !done; { // stay busy, as a caller running its own chunk does
			select {
			case d := <-lat:
				ds = append(ds, d)
				done = true
			default:
			}
		}
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1e3, "µs-median")
}
