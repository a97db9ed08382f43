package harness

import (
	"context"
	"sync"
)

// pool calls job(i) for every i in order on up to parallel goroutines, and returns when every
// call has returned. Once ctx is cancelled, the indices not yet started are handed to skip
// with ctx's error instead, so a caller can mark them as never run. job and skip are called
// from several goroutines, each index exactly once.
func pool(ctx context.Context, order []int, parallel int, job func(i int), skip func(i int, err error)) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(parallel, len(order))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := ctx.Err(); err != nil {
					skip(i, err)
					continue
				}
				job(i)
			}
		}()
	}
	for _, i := range order {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

// Pool runs independent jobs a few at a time, as Sweep does: job(i) for every i in order on up
// to parallel goroutines; once ctx is cancelled, the indices not yet started go to skip with
// ctx's error. It is for experiments not yet expressed as a Task.
func Pool(ctx context.Context, order []int, parallel int, job func(i int), skip func(i int, err error)) {
	pool(ctx, order, parallel, job, skip)
}
