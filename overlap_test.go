package fadam

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestCheckDisjointAgainstPairs compares the sorted sweep with a check of every pair, on random
// slices of one buffer.
func TestCheckDisjointAgainstPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]float32, 64)
	slice := func() []float32 {
		lo := rng.IntN(len(buf))
		return buf[lo : lo+rng.IntN(min(8, len(buf)-lo)+1)]
	}
	overlap := func(a, b []float32) bool {
		if len(a) == 0 || len(b) == 0 {
			return false
		}
		return &a[0] == &b[0] || // same start
			(offset(buf, a) < offset(buf, b)+len(b) && offset(buf, b) < offset(buf, a)+len(a))
	}
	var c disjointCheck
	for trial := range 20000 {
		gradsWritten := trial%2 == 1 // global-norm clipping scales the Grads in place
		ps := make([]Param, 1+rng.IntN(5))
		for i := range ps {
			ps[i] = Param{Name: string(rune('a' + i)), Value: slice(), Grad: slice()}
		}
		want := false
		for i := range ps {
			for j := range ps {
				if overlap(ps[i].Value, ps[j].Grad) || (i < j && overlap(ps[i].Value, ps[j].Value)) ||
					(gradsWritten && i < j && overlap(ps[i].Grad, ps[j].Grad)) {
					want = true
				}
			}
		}
		err := c.check(ps, gradsWritten)
		if got := err != nil; got != want {
			t.Fatalf("trial %d (gradsWritten %v): checkDisjoint error %v, want an error: %v (%+v)", trial, gradsWritten, err, want, ps)
		}
	}
}

// offset is the index of a[0] in buf.
func offset(buf, a []float32) int {
	for i := range buf {
		if &buf[i] == &a[0] {
			return i
		}
	}
	panic("not a slice of buf")
}

// TestCheckDisjointAllocates nothing once its buffers have grown, whether it compares the
// buffers with the last call's or sorts them: Step runs it every call.
func TestCheckDisjointAllocates(t *testing.T) {
	ps := make([]Param, 50)
	for i := range ps {
		ps[i] = Param{Name: "p", Value: make([]float32, 10), Grad: make([]float32, 10)}
	}
	var c disjointCheck
	if err := c.check(ps, false); err != nil {
		t.Fatal(err)
	}
	other := make([]Param, 50)
	for i := range other {
		other[i] = Param{Name: "p", Value: make([]float32, 10), Grad: make([]float32, 10)}
	}
	// Alternating two sets sorts every call; repeating one only compares.
	alternate, i := [][]Param{ps, other}, 0
	for name, f := range map[string]func() error{
		"same buffers":  func() error { return c.check(ps, false) },
		"other buffers": func() error { i++; return c.check(alternate[i%2], false) },
	} {
		var err error
		if n := testing.AllocsPerRun(20, func() { err = f() }); n != 0 || err != nil {
			t.Errorf("%s: %v allocations per call (err %v)", name, n, err)
		}
	}
}

// TestCheckDisjointCache: a set that passed is compared again, not trusted, and passing with
// Grads only read does not vouch for the same buffers with Grads written.
func TestCheckDisjointCache(t *testing.T) {
	buf := make([]float32, 40)
	ps := []Param{{Name: "a", Value: buf[0:10], Grad: buf[20:30]}, {Name: "b", Value: buf[10:20], Grad: buf[25:35]}}
	var c disjointCheck
	if err := c.check(ps, false); err != nil {
		t.Fatalf("shared Grads, only read: %v", err)
	}
	if err := c.check(ps, true); err == nil {
		t.Error("shared Grads, written: passed because the same buffers passed read-only")
	}
	bad := slices.Clone(ps)
	bad[1].Grad = buf[5:15]
	if err := c.check(bad, false); err == nil {
		t.Error("an overlap right after a passing call went unnoticed")
	}
}
