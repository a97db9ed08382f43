// Package runpool runs an experiment's independent training runs a few at a time.
//
// Deprecated: the experiment harness (package experiment/harness) owns the worker pool; use
// harness.Sweep, or harness.Pool for code not yet ported to it.
package runpool

import (
	"context"

	"github.com/fadam-go/fadam/experiment/harness"
)

// Run is harness.Pool.
//
// Deprecated: use harness.Sweep or harness.Pool.
func Run(ctx context.Context, order []int, parallel int, job func(i int), skip func(i int, err error)) {
	harness.Pool(ctx, order, parallel, job, skip)
}
