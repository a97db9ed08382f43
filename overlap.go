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

// checkDisjoint reports buffers that share memory where one of them is written: a Value may
// not overlap any other buffer, its own Grad included, since Step writes it while reading the
// others from several goroutines. Grads may overlap each other when they are only read; with
// gradsWritten (global-norm clipping scales them in place) they may not overlap anything
// either. It sorts the buffers by address, O(n log n), reusing scratch (returned for the next
// call).
func checkDisjoint(ps []Param, scratch []span, gradsWritten bool) ([]span, error) {
	spans := scratch[:0]
	for i, p := range ps {
		for _, b := range []struct {
			x    []float32
			grad bool
		}{{p.Value, false}, {p.Grad, true}} {
			if len(b.x) == 0 {
				continue
			}
			lo := uintptr(unsafe.Pointer(unsafe.SliceData(b.x)))
			spans = append(spans, span{lo: lo, hi: lo + uintptr(len(b.x))*unsafe.Sizeof(b.x[0]), param: i, grad: b.grad})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	// Sweep in address order, keeping the earlier buffer that reaches furthest and the earlier
	// Value that reaches furthest: a buffer overlaps an earlier Value iff it starts before the
	// latter ends, and a Value overlaps an earlier buffer iff it starts before the former ends.
	var reach, valueReach *span
	for i := range spans {
		s := &spans[i]
		switch {
		case valueReach != nil && s.lo < valueReach.hi:
			return spans, fmt.Errorf("%w: %s overlaps %s", ErrInvalidParam, s.label(ps), valueReach.label(ps))
		case (!s.grad || gradsWritten) && reach != nil && s.lo < reach.hi:
			return spans, fmt.Errorf("%w: %s overlaps %s", ErrInvalidParam, s.label(ps), reach.label(ps))
		}
		if reach == nil || s.hi > reach.hi {
			reach = s
		}
		if (!s.grad || gradsWritten) && (valueReach == nil || s.hi > valueReach.hi) {
			valueReach = s
		}
	}
	return spans, nil
}
