package fadam

import (
	"cmp"
	"fmt"
	"slices"
	"unsafe"
)

// span is the memory one parameter buffer occupies: [lo, hi) in bytes.
type span struct {
	lo, hi uintptr
	param  int  // index of the parameter
	grad   bool // Grad rather than Value
}

// label names the buffer for error messages.
func (s span) label(ps []Param) string {
	which := "Value"
	if s.grad {
		which = "Grad"
	}
	return fmt.Sprintf("the %s of parameter %q", which, ps[s.param].Name)
}

// disjointCheck reports buffers that share memory where one of them is written: a Value may
// not overlap any other buffer, its own Grad included, since Step writes it while reading the
// others from several goroutines. Grads may overlap each other when they are only read; with
// gradsWritten (global-norm clipping scales them in place) they may not overlap anything
// either. It sorts the buffers by address, O(n log n); a call with exactly the buffers of the
// last call that passed, under the same gradsWritten (the usual case: the same parameters
// every step), only compares them, O(n). Its buffers are reused, so that a Step allocates
// nothing for it.
type disjointCheck struct {
	spans        []span // this call's buffers, in parameter order
	checked      []span // the buffers of the last call that passed, in parameter order
	checkedWrite bool   // that call's gradsWritten
	sorted       []span // scratch for the sort
}

func (c *disjointCheck) check(ps []Param, gradsWritten bool) error {
	c.spans = c.spans[:0]
	for i, p := range ps {
		c.spans = appendSpan(c.spans, p.Value, i, false)
		c.spans = appendSpan(c.spans, p.Grad, i, true)
	}
	// Passing with written Grads implies passing without: the reverse does not hold.
	if (c.checkedWrite || !gradsWritten) && slices.Equal(c.spans, c.checked) {
		return nil
	}
	var err error
	if c.sorted, err = checkDisjoint(ps, c.spans, c.sorted, gradsWritten); err != nil {
		return err
	}
	c.checked, c.checkedWrite = append(c.checked[:0], c.spans...), gradsWritten
	return nil
}

// appendSpan appends the span of buffer x (parameter i's Grad when grad is set), if it holds
// anything.
func appendSpan(spans []span, x []float32, i int, grad bool) []span {
	if len(x) == 0 {
		return spans
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(x)))
	return append(spans, span{lo: lo, hi: lo + uintptr(len(x))*unsafe.Sizeof(x[0]), param: i, grad: grad})
}

// checkDisjoint is disjointCheck.check's sort and sweep over the buffers in spans, using
// scratch (returned for reuse).
func checkDisjoint(ps []Param, spans, scratch []span, gradsWritten bool) ([]span, error) {
	sorted := append(scratch[:0], spans...)
	slices.SortFunc(sorted, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	// Sweep in address order, keeping the earlier buffer that reaches furthest and the earlier
	// written buffer that reaches furthest: a buffer overlaps an earlier written one iff it
	// starts before the latter ends, and a written buffer overlaps an earlier one iff it starts
	// before the former ends.
	var reach, valueReach *span
	for i := range sorted {
		s := &sorted[i]
		switch {
		case valueReach != nil && s.lo < valueReach.hi:
			return sorted, fmt.Errorf("%w: %s overlaps %s", ErrInvalidParam, s.label(ps), valueReach.label(ps))
		case (!s.grad || gradsWritten) && reach != nil && s.lo < reach.hi:
			return sorted, fmt.Errorf("%w: %s overlaps %s", ErrInvalidParam, s.label(ps), reach.label(ps))
		}
		if reach == nil || s.hi > reach.hi {
			reach = s
		}
		if (!s.grad || gradsWritten) && (valueReach == nil || s.hi > valueReach.hi) {
			valueReach = s
		}
	}
	return sorted, nil
}
