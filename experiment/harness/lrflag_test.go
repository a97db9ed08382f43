package harness

import (
	"flag"
	"io"
	"slices"
	"testing"
)

func TestLRList(t *testing.T) {
	cases := []struct {
		in   string
		want []float64 // nil: refused
	}{
		{"3e-3", []float64{3e-3}},
		{"1e-3, 3e-3,1e-2", []float64{1e-3, 3e-3, 1e-2}},
		{"0.01,", []float64{0.01}},
		{"NaN", nil},
		{"nan", nil},
		{"0", nil},
		{"-1e-3", nil},
		{"Inf", nil},
		{"1e-3,x", nil},
		{"1e-3,1e-3", nil},
		{",", nil},
	}
	for _, c := range cases {
		l := LRList{1}
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Var(&l, "lr", "")
		err := fs.Parse([]string{"--lr", c.in})
		switch {
		case c.want == nil && err == nil:
			t.Errorf("--lr %q accepted as %v", c.in, l)
		case c.want != nil && (err != nil || !slices.Equal(l, c.want)):
			t.Errorf("--lr %q = %v, %v; want %v", c.in, l, err, c.want)
		}
	}
	l := LRList{1e-3, 0.5}
	if s := l.String(); s != "0.001,0.5" {
		t.Errorf("String = %q", s)
	}
}
