package asr

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/fadam-go/fadam/data/digits"
)

// CorpusSeed fixes the utterances (words, voices, speeds, pitches) of the corpus; it is not a
// training seed, so every run and optimizer sees the same data.
const CorpusSeed = 2024

// Corpus is the loaded spoken-digit data.
type Corpus struct {
	Train, Test []digits.Example
	Stats       digits.PrepareStats
	Dropped     int // utterances too short for CTC after subsampling (left out)
	Generator   string
	Dir         string
}

// LoadCorpus synthesises (or reuses from dir's cache) train and test utterances and computes
// their features with two workers.
func LoadCorpus(ctx context.Context, dir string, train, test int) (*Corpus, error) {
	specs, st, err := digits.Prepare(ctx, dir, CorpusSeed, train, test, 2)
	if err != nil {
		return nil, err
	}
	ex, err := digits.Load(ctx, dir, specs, digits.DefaultLoadOptions())
	if err != nil {
		return nil, err
	}
	m, err := digits.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	c := &Corpus{Stats: st, Generator: m.Generator, Dir: dir}
	tr, te := Usable(ex[:train]), Usable(ex[train:])
	c.Dropped = len(ex) - len(tr) - len(te)
	c.Train, c.Test = tr, te
	if len(tr) == 0 || len(te) == 0 {
		return nil, fmt.Errorf("asr: no usable utterances (%d train, %d test)", len(tr), len(te))
	}
	return c, nil
}

// Describe returns a Markdown paragraph describing the corpus.
func (c *Corpus) Describe() string {
	tr, te := digits.SplitSettings(digits.Train), digits.SplitSettings(digits.Test)
	frames := 0
	for _, e := range c.Train {
		frames += e.Frames
	}
	lo := digits.DefaultLoadOptions()
	return fmt.Sprintf("Data: %d training and %d test utterances of 1–7 digit words (zero–nine, oh) synthesised by %s "+
		"(cached in `%s` with a manifest of settings and SHA-256 hashes; %d reused, %d synthesised this run; %d too short for CTC dropped). "+
		"Accents %s. Training variants %s, speeds %v wpm, pitches %v; test variants %s, speeds %v, pitches %v (disjoint). "+
		"White noise at %g–%g dB SNR (seeded). Features: 16 kHz (windowed-sinc resampling from the synthesiser's rate), "+
		"25 ms Hann frames, 10 ms hop, 512-point FFT, 40 log-mel bands on the HTK mel scale (20 Hz–8 kHz), "+
		"per-utterance mean/variance normalisation; %.1f s of training audio.",
		len(c.Train), len(c.Test), c.Generator, filepath.Base(c.Dir), c.Stats.Reused, c.Stats.Synthesized, c.Dropped,
		strings.Join(digits.Accents, ", "), strings.Join(tr.Variants, ", "), tr.Speeds, tr.Pitches,
		strings.Join(te.Variants, ", "), te.Speeds, te.Pitches, lo.NoiseSNR[0], lo.NoiseSNR[1], float64(frames)/100)
}
