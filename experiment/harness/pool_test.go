package harness

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestPoolCallsEveryIndexOnce(t *testing.T) {
	for _, parallel := range []int{0, 1, 2, 8} {
		var mu sync.Mutex
		seen := map[int]int{}
		var running, peak atomic.Int32
		pool(context.Background(), []int{3, 1, 0, 2, 4}, parallel, func(i int) {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			mu.Lock()
			seen[i]++
			mu.Unlock()
			running.Add(-1)
		}, func(i int, err error) { t.Errorf("index %d skipped: %v", i, err) })
		if len(seen) != 5 {
			t.Errorf("parallel=%d: ran %v", parallel, seen)
		}
		for i, n := range seen {
			if n != 1 {
				t.Errorf("parallel=%d: index %d ran %d times", parallel, i, n)
			}
		}
		if limit := int32(max(1, parallel)); peak.Load() > limit {
			t.Errorf("parallel=%d: %d jobs at once", parallel, peak.Load())
		}
	}
}

func TestPoolSkipsAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var ran, skipped atomic.Int32
	pool(ctx, []int{0, 1, 2, 3}, 1, func(i int) {
		ran.Add(1)
		cancel() // the first job cancels: the rest must be skipped
	}, func(i int, err error) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("skip error %v", err)
		}
		skipped.Add(1)
	})
	if ran.Load() != 1 || skipped.Load() != 3 {
		t.Errorf("ran %d, skipped %d; want 1 and 3", ran.Load(), skipped.Load())
	}
}
