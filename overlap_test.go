package fadam

import (
	"math/rand/v2"
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
	var scratch []span
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
		var err error
		scratch, err = checkDisjoint(ps, scratch, gradsWritten)
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

// TestCheckDisjointAllocates nothing once its scratch has grown: Step runs it every call.
func TestCheckDisjointAllocates(t *testing.T) {
	ps := make([]Param, 50)
	for i := range ps {
		ps[i] = Param{Name: "p", Value: make([]float32, 10), Grad: make([]float32, 10)}
	}
	scratch, err := checkDisjoint(ps, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(20, func() { scratch, err = checkDisjoint(ps, scratch, false) }); n != 0 || err != nil {
		t.Errorf("checkDisjoint allocates %v times per call (err %v)", n, err)
	}
}
