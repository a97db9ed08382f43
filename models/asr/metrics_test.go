package asr

import (
	"math"
	"strings"
	"testing"
)

func TestEditDistance(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "ab", 2},
		{"kitten", "sitting", 3},
		{"flaw", "lawn", 2},
		{"same", "same", 0},
		{"ab", "ba", 2},
	}
	for _, c := range cases {
		if got := EditDistance([]rune(c.a), []rune(c.b)); got != c.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := EditDistance([]rune(c.b), []rune(c.a)); got != c.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d (symmetry)", c.b, c.a, got, c.want)
		}
	}
}

func TestErrorCounts(t *testing.T) {
	var e ErrorCounts
	e.Add(strings.Fields("one two three"), strings.Fields("one too three")) // 1 sub; "two"→"too" 1 char
	e.Add(strings.Fields("oh five"), strings.Fields("oh five five"))        // 1 ins; 5 chars
	e.Add(strings.Fields("nine"), nil)                                      // 1 del; 4 chars
	if e.WordErrors != 3 || e.Words != 6 || math.Abs(e.WER()-0.5) > 1e-12 {
		t.Fatalf("word errors %d/%d, WER %g", e.WordErrors, e.Words, e.WER())
	}
	wantChars := len("one two three") + len("oh five") + len("nine")
	if e.CharErrors != 1+5+4 || e.Chars != wantChars {
		t.Fatalf("char errors %d/%d, want %d/%d", e.CharErrors, e.Chars, 10, wantChars)
	}
	if (ErrorCounts{}).WER() != 0 {
		t.Fatal("empty WER not 0")
	}
}
