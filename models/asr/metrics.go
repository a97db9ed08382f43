package asr

// EditDistance returns the Levenshtein distance between a and b: the least number of
// substitutions, insertions and deletions that turn a into b.
func EditDistance[T comparable](a, b []T) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ErrorCounts accumulates word and character edit distances over a test set.
type ErrorCounts struct {
	WordErrors, Words int
	CharErrors, Chars int
}

// Add scores one hypothesis against its reference, both as word sequences. Characters are those
// of the words joined by single spaces.
func (e *ErrorCounts) Add(ref, hyp []string) {
	e.WordErrors += EditDistance(ref, hyp)
	e.Words += len(ref)
	r, h := []rune(joinWords(ref)), []rune(joinWords(hyp))
	e.CharErrors += EditDistance(r, h)
	e.Chars += len(r)
}

// WER is the word error rate: word edit distance over the number of reference words.
func (e ErrorCounts) WER() float64 { return ratio(e.WordErrors, e.Words) }

// CER is the character error rate: character edit distance over the reference characters.
func (e ErrorCounts) CER() float64 { return ratio(e.CharErrors, e.Chars) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func joinWords(ws []string) string {
	n := 0
	for _, w := range ws {
		n += len(w) + 1
	}
	out := make([]byte, 0, n)
	for i, w := range ws {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, w...)
	}
	return string(out)
}
