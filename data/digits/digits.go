// Package digits builds the spoken-digit corpus of the speech experiment: utterances of one to
// seven digit words ("zero" … "nine", "oh") synthesised with Debian's espeak-ng over many voices,
// speeds and pitches, in three splits whose voices and settings are disjoint: training, dev (for
// choosing hyperparameters such as the learning rate) and test (for the reported numbers). The synthesised
// WAV files are cached in a directory with a JSON manifest and reused while it stays valid; on
// loading, each utterance is resampled to 16 kHz, given light seeded noise and turned into
// normalised log-mel features.
package digits

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Words are the vocabulary; word i has CTC label i+1 (label 0 is the blank).
var Words = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "oh"}

// Classes is the number of CTC output classes: the blank plus one per word.
var Classes = len(Words) + 1

// Label returns the CTC label of word w, or an error for a word outside Words.
func Label(w string) (int32, error) {
	for i, x := range Words {
		if x == w {
			return int32(i + 1), nil
		}
	}
	return 0, fmt.Errorf("digits: unknown word %q", w)
}

// Transcript returns the words of labels joined by spaces (labels outside the vocabulary show as "?").
func Transcript(labels []int32) string {
	ws := make([]string, len(labels))
	for i, l := range labels {
		if l >= 1 && int(l) <= len(Words) {
			ws[i] = Words[l-1]
		} else {
			ws[i] = "?"
		}
	}
	return strings.Join(ws, " ")
}

// Split names a part of the corpus.
type Split string

// The three splits. Their voice variants, speeds and pitches are pairwise disjoint, so dev and
// test both measure recognition of voices never heard in training, and choosing on dev says
// nothing about the test voices.
const (
	Train Split = "train"
	Dev   Split = "dev"
	Test  Split = "test"
)

// Splits lists the splits in the order Prepare returns their utterances.
var Splits = []Split{Train, Dev, Test}

// Accents are the espeak-ng English base voices used by both splits (variants differ by split).
var Accents = []string{"en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029", "en-us-nyc"}

// Settings holds the speaker settings a split draws from.
type Settings struct {
	Variants []string // espeak-ng voice variants (appended to the accent as "+variant")
	Speeds   []int    // words per minute (espeak-ng -s)
	Pitches  []int    // 0–99 (espeak-ng -p)
}

// SplitSettings returns the settings of split s. No variant, speed or pitch appears in two splits.
func SplitSettings(s Split) Settings {
	if s == Dev {
		return Settings{
			Variants: []string{"m8", "klatt4", "iven", "benjamin", "steph2", "aunty", "norbert", "victor"},
			Speeds:   []int{130, 155, 185},
			Pitches:  []int{30, 45, 65, 80},
		}
	}
	if s == Test {
		return Settings{
			Variants: []string{"m6", "m7", "f4", "f5", "klatt3", "belinda", "edward", "quincy"},
			Speeds:   []int{135, 165, 195},
			Pitches:  []int{35, 55, 70},
		}
	}
	return Settings{
		Variants: []string{"m1", "m2", "m3", "m4", "m5", "f1", "f2", "f3", "klatt", "klatt2",
			"adam", "Andy", "Annie", "linda", "john", "max", "Michael", "steph", "paul", "robert"},
		Speeds:  []int{120, 140, 150, 160, 175, 190, 210},
		Pitches: []int{25, 40, 50, 60, 75, 85},
	}
}

// Spec is one utterance to synthesise: its words and the espeak-ng settings.
type Spec struct {
	Split Split    `json:"split"`
	Index int      `json:"index"`
	Voice string   `json:"voice"` // accent+variant, as given to espeak-ng -v
	Speed int      `json:"speed"`
	Pitch int      `json:"pitch"`
	Words []string `json:"words"`
}

// Text is what espeak-ng is asked to say.
func (s Spec) Text() string { return strings.Join(s.Words, " ") }

// File is the name of the utterance's WAV file inside the cache directory.
func (s Spec) File() string { return fmt.Sprintf("%s-%05d.wav", s.Split, s.Index) }

// Labels returns the CTC labels of the words.
func (s Spec) Labels() ([]int32, error) {
	out := make([]int32, len(s.Words))
	for i, w := range s.Words {
		l, err := Label(w)
		if err != nil {
			return nil, err
		}
		out[i] = l
	}
	return out, nil
}

// splitStream separates the random streams of the splits.
func splitStream(s Split) uint64 {
	switch s {
	case Test:
		return 2
	case Dev:
		return 3
	}
	return 1
}

// MakeSpec returns utterance index of split s for corpus seed seed. It depends only on
// (seed, s, index), so a larger corpus extends a smaller one and the cache stays reusable.
func MakeSpec(seed uint64, s Split, index int) Spec {
	rng := rand.New(rand.NewPCG(seed^splitStream(s)<<56, uint64(index)))
	st := SplitSettings(s)
	n := 1 + rng.IntN(7)
	words := make([]string, n)
	for i := range words {
		words[i] = Words[rng.IntN(len(Words))]
	}
	return Spec{
		Split: s, Index: index,
		Voice: Accents[rng.IntN(len(Accents))] + "+" + st.Variants[rng.IntN(len(st.Variants))],
		Speed: st.Speeds[rng.IntN(len(st.Speeds))],
		Pitch: st.Pitches[rng.IntN(len(st.Pitches))],
		Words: words,
	}
}
