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

// Corpus is the loaded spoken-digit data: training utterances, dev utterances for choosing
// hyperparameters and test utterances for the reported numbers, each split with voices of its
// own.
type Corpus struct {
	Train, Dev, Test []digits.Example
	Stats            digits.PrepareStats
	Dropped          int // utterances too short for CTC after subsampling (left out)
	Generator        string
	Dir              string
}

// LoadCorpus synthesises (or reuses from dir's cache) n's utterances and computes their
// features with two workers.
func LoadCorpus(ctx context.Context, dir string, n digits.Counts) (*Corpus, error) {
	specs, st, err := digits.Prepare(ctx, dir, CorpusSeed, n, 2)
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
	c.Train = Usable(ex[:n.Train])
	c.Dev = Usable(ex[n.Train : n.Train+n.Dev])
	c.Test = Usable(ex[n.Train+n.Dev:])
	c.Dropped = len(ex) - len(c.Train) - len(c.Dev) - len(c.Test)
	if len(c.Train) == 0 || len(c.Dev) == 0 || len(c.Test) == 0 {
		return nil, fmt.Errorf("asr: no usable utterances in a split (%d train, %d dev, %d test)", len(c.Train), len(c.Dev), len(c.Test))
	}
	return c, nil
}

// Words is the number of words in ex: the denominator of its word error rate.
func Words(ex []digits.Example) int {
	n := 0
	for _, e := range ex {
		n += len(e.Labels)
	}
	return n
}

// Describe returns a Markdown paragraph describing the corpus.
func (c *Corpus) Describe() string {
	tr, dv, te := digits.SplitSettings(digits.Train), digits.SplitSettings(digits.Dev), digits.SplitSettings(digits.Test)
	frames := 0
	for _, e := range c.Train {
		frames += e.Frames
	}
	lo := digits.DefaultLoadOptions()
	return fmt.Sprintf("Data: %d training, %d dev (%d words) and %d test (%d words) utterances of 1–7 digit words (zero–nine, oh) synthesised by %s "+
		"(cached as `%s` in the cache directory, with a manifest of settings and SHA-256 hashes; %d reused, %d synthesised this run; %d too short for CTC dropped). "+
		"Accents %s. Training variants %s, speeds %v wpm, pitches %v; dev variants %s, speeds %v, pitches %v; test variants %s, speeds %v, pitches %v (pairwise disjoint). "+
		"White noise at %g–%g dB SNR (seeded). Features: 16 kHz (windowed-sinc resampling from the synthesiser's rate), "+
		"25 ms Hann frames, 10 ms hop, 512-point FFT, 40 log-mel bands on the HTK mel scale (20 Hz–8 kHz), "+
		"per-utterance mean/variance normalisation; %.1f s of training audio.",
		len(c.Train), len(c.Dev), Words(c.Dev), len(c.Test), Words(c.Test), c.Generator, filepath.Base(c.Dir), c.Stats.Reused, c.Stats.Synthesized, c.Dropped,
		strings.Join(digits.Accents, ", "), strings.Join(tr.Variants, ", "), tr.Speeds, tr.Pitches,
		strings.Join(dv.Variants, ", "), dv.Speeds, dv.Pitches, strings.Join(te.Variants, ", "), te.Speeds, te.Pitches, lo.NoiseSNR[0], lo.NoiseSNR[1], float64(frames)/100)
}
