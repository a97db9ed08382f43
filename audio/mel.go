package audio

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
)

// MelConfig describes the log-mel front end.
type MelConfig struct {
	SampleRate int     // Hz of the input samples
	FrameLen   int     // samples per analysis frame
	Hop        int     // samples between frame starts
	FFTSize    int     // FFT length (≥ FrameLen; frames are zero-padded)
	Mels       int     // number of mel bands
	FMin, FMax float64 // frequency range covered by the filters, Hz
}

// DefaultMelConfig is the usual speech front end at 16 kHz: 25 ms frames (400 samples), 10 ms
// hop (160), a 512-point FFT and 40 mel bands from 20 Hz to 8 kHz.
func DefaultMelConfig() MelConfig {
	return MelConfig{SampleRate: 16000, FrameLen: 400, Hop: 160, FFTSize: 512, Mels: 40, FMin: 20, FMax: 8000}
}

// HTKMel converts a frequency in Hz to the HTK mel scale, 2595·log10(1 + f/700).
func HTKMel(f float64) float64 { return 2595 * math.Log10(1+f/700) }

// HTKMelToHz is the inverse of HTKMel.
func HTKMelToHz(m float64) float64 { return 700 * (math.Pow(10, m/2595) - 1) }

func (c MelConfig) validate() error {
	switch {
	case c.SampleRate <= 0:
		return fmt.Errorf("audio: mel config: sample rate %d", c.SampleRate)
	case c.FrameLen <= 0 || c.Hop <= 0:
		return fmt.Errorf("audio: mel config: frame length %d, hop %d must be positive", c.FrameLen, c.Hop)
	case c.FFTSize < c.FrameLen:
		return fmt.Errorf("audio: mel config: FFT size %d below frame length %d", c.FFTSize, c.FrameLen)
	case c.Mels <= 0:
		return fmt.Errorf("audio: mel config: %d mel bands", c.Mels)
	case c.FMin < 0 || c.FMax <= c.FMin || c.FMax > float64(c.SampleRate)/2:
		return fmt.Errorf("audio: mel config: frequency range [%g, %g] Hz invalid at %d Hz", c.FMin, c.FMax, c.SampleRate)
	}
	return nil
}

// MelFilterbank returns the Mels×(FFTSize/2+1) weights of triangular filters with centres
// equally spaced on the HTK mel scale between FMin and FMax. Filter m rises linearly in mel from
// centre m−1 to a peak of 1 at centre m and falls to 0 at centre m+1 (HTK style, unnormalised),
// so between the first and last centre the weights of each FFT bin sum to 1.
func MelFilterbank(c MelConfig) ([][]float64, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	bins := c.FFTSize/2 + 1
	lo, hi := HTKMel(c.FMin), HTKMel(c.FMax)
	centres := make([]float64, c.Mels+2) // in mel, including the two edges
	for i := range centres {
		centres[i] = lo + (hi-lo)*float64(i)/float64(c.Mels+1)
	}
	fb := make([][]float64, c.Mels)
	for m := range fb {
		fb[m] = make([]float64, bins)
		left, mid, right := centres[m], centres[m+1], centres[m+2]
		for k := range bins {
			mel := HTKMel(float64(k) * float64(c.SampleRate) / float64(c.FFTSize))
			switch {
			case mel > left && mel <= mid:
				fb[m][k] = (mel - left) / (mid - left)
			case mel > mid && mel < right:
				fb[m][k] = (right - mel) / (right - mid)
			}
		}
	}
	return fb, nil
}

// LogMel computes log-mel spectrograms. It keeps the FFT plan, window and filterbank, so one
// LogMel serves many utterances; it is not safe for concurrent use.
type LogMel struct {
	Config MelConfig
	fft    *fourier.FFT
	window []float64
	fb     [][]float64
	fbLo   []int // first nonzero bin of each filter
	frame  []float64
	coeffs []complex128
	power  []float64
}

// NewLogMel returns a front end for c.
func NewLogMel(c MelConfig) (*LogMel, error) {
	fb, err := MelFilterbank(c)
	if err != nil {
		return nil, err
	}
	w := make([]float64, c.FrameLen)
	for i := range w { // periodic Hann window
		w[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(c.FrameLen))
	}
	lo := make([]int, len(fb))
	for m, f := range fb { // keep only each filter's nonzero span: the weights are sparse
		a, b := 0, len(f)
		for a < b && f[a] == 0 {
			a++
		}
		for b > a && f[b-1] == 0 {
			b--
		}
		lo[m], fb[m] = a, f[a:b]
	}
	return &LogMel{
		Config: c, fft: fourier.NewFFT(c.FFTSize), window: w, fb: fb, fbLo: lo,
		frame: make([]float64, c.FFTSize), coeffs: make([]complex128, c.FFTSize/2+1),
		power: make([]float64, c.FFTSize/2+1),
	}, nil
}

// Frames returns how many whole frames fit in n samples.
func (l *LogMel) Frames(n int) int {
	if n < l.Config.FrameLen {
		return 0
	}
	return 1 + (n-l.Config.FrameLen)/l.Config.Hop
}

// PowerSpectrum sets l's internal power spectrum to |FFT(window·frame)|² for one frame of
// FrameLen samples and returns it (FFTSize/2+1 values; valid until the next call).
func (l *LogMel) PowerSpectrum(frame []float32) []float64 {
	clear(l.frame)
	for i, w := range l.window {
		l.frame[i] = float64(frame[i]) * w
	}
	l.coeffs = l.fft.Coefficients(l.coeffs, l.frame)
	for k, z := range l.coeffs {
		l.power[k] = real(z)*real(z) + imag(z)*imag(z)
	}
	return l.power
}

// logFloor keeps silent frames (digital zeros from the synthesiser) finite.
const logFloor = 1e-10

// Compute returns the log-mel spectrogram of samples as Frames(len(samples)) rows of Mels
// values, row-major, each log(max(mel energy, 1e-10)).
func (l *LogMel) Compute(samples []float32) []float32 {
	c := l.Config
	n := l.Frames(len(samples))
	out := make([]float32, n*c.Mels)
	for f := range n {
		p := l.PowerSpectrum(samples[f*c.Hop : f*c.Hop+c.FrameLen])
		for m, filt := range l.fb {
			var e float64
			for k, w := range filt {
				e += w * p[l.fbLo[m]+k]
			}
			out[f*c.Mels+m] = float32(math.Log(math.Max(e, logFloor)))
		}
	}
	return out
}

// NormalizeUtterance standardises each of the dims columns of feat (frames×dims, row-major) to
// zero mean and unit variance over the utterance, in place. A constant column becomes 0.
func NormalizeUtterance(feat []float32, frames, dims int) {
	if frames == 0 {
		return
	}
	for d := range dims {
		var s, s2 float64
		for f := range frames {
			v := float64(feat[f*dims+d])
			s += v
			s2 += v * v
		}
		mean := s / float64(frames)
		variance := math.Max(s2/float64(frames)-mean*mean, 0)
		inv := 0.0
		if variance > 1e-12 {
			inv = 1 / math.Sqrt(variance)
		}
		for f := range frames {
			feat[f*dims+d] = float32((float64(feat[f*dims+d]) - mean) * inv)
		}
	}
}
