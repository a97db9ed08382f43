package digits

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sync"

	"github.com/fadam-go/fadam/audio"
)

// Example is one utterance ready for training: normalised log-mel features and CTC labels.
type Example struct {
	Spec   Spec
	Feats  []float32 // Frames × Mels, row-major
	Frames int
	Labels []int32
}

// LoadOptions controls feature extraction.
type LoadOptions struct {
	Mel audio.MelConfig
	// NoiseSNR is the range of the signal-to-noise ratio, in dB, of the white noise added to each
	// utterance; the SNR and the noise are drawn from a generator seeded by NoiseSeed and the
	// utterance's split and index, so loading is deterministic. A zero range adds no noise.
	NoiseSNR  [2]float64
	NoiseSeed uint64
	Workers   int
}

// DefaultLoadOptions uses audio.DefaultMelConfig and noise at 20–35 dB SNR.
func DefaultLoadOptions() LoadOptions {
	return LoadOptions{Mel: audio.DefaultMelConfig(), NoiseSNR: [2]float64{20, 35}, NoiseSeed: 1, Workers: 2}
}

// Load reads the WAV files of specs from dir and returns their examples in the same order.
func Load(ctx context.Context, dir string, specs []Spec, o LoadOptions) ([]Example, error) {
	out := make([]Example, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	workers := max(o.Workers, 1)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lm, err := audio.NewLogMel(o.Mel)
			for i := w; i < len(specs); i += workers {
				if err != nil {
					errs[i] = err
					continue
				}
				if ctx.Err() != nil {
					errs[i] = ctx.Err()
					continue
				}
				out[i], errs[i] = loadOne(lm, dir, specs[i], o)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func loadOne(lm *audio.LogMel, dir string, s Spec, o LoadOptions) (Example, error) {
	clip, err := audio.ReadWAVFile(filepath.Join(dir, s.File()))
	if err != nil {
		return Example{}, fmt.Errorf("digits: %w", err)
	}
	x, err := audio.Resample(clip.Samples, clip.SampleRate, o.Mel.SampleRate)
	if err != nil {
		return Example{}, fmt.Errorf("digits: %s: %w", s.File(), err)
	}
	if o.NoiseSNR[1] > 0 {
		addNoise(x, s, o)
	}
	labels, err := s.Labels()
	if err != nil {
		return Example{}, err
	}
	frames := lm.Frames(len(x))
	if frames == 0 {
		return Example{}, fmt.Errorf("digits: %s: %d samples is shorter than one frame", s.File(), len(x))
	}
	feats := lm.Compute(x)
	audio.NormalizeUtterance(feats, frames, o.Mel.Mels)
	return Example{Spec: s, Feats: feats, Frames: frames, Labels: labels}, nil
}

// addNoise adds white Gaussian noise at an SNR drawn from o.NoiseSNR relative to the RMS of x.
func addNoise(x []float32, s Spec, o LoadOptions) {
	rng := rand.New(rand.NewPCG(o.NoiseSeed^splitStream(s.Split)<<56, uint64(s.Index)))
	snr := o.NoiseSNR[0] + (o.NoiseSNR[1]-o.NoiseSNR[0])*rng.Float64()
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	if len(x) == 0 || e == 0 {
		return
	}
	std := math.Sqrt(e/float64(len(x))) * math.Pow(10, -snr/20)
	for i := range x {
		x[i] += float32(rng.NormFloat64() * std)
	}
}
