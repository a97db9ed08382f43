package audio

import (
	"fmt"
	"math"
)

// resampleHalfWidth is the half-length of the interpolation kernel in zero crossings: wide
// enough that the passband ripple stays below about 1e-3 for speech.
const resampleHalfWidth = 16

// Resample converts x from rate from to rate to (both in Hz) by band-limited interpolation: a
// Hann-windowed sinc whose cutoff is the lower of the two Nyquist frequencies, so downsampling
// does not alias. The output has round(len(x)·to/from) samples.
func Resample(x []float32, from, to int) ([]float32, error) {
	if from <= 0 || to <= 0 {
		return nil, fmt.Errorf("audio: resample from %d Hz to %d Hz: rates must be positive", from, to)
	}
	if from == to {
		return append([]float32(nil), x...), nil
	}
	step := float64(from) / float64(to)          // input samples per output sample
	fc := math.Min(1, float64(to)/float64(from)) // cutoff relative to the input Nyquist
	half := float64(resampleHalfWidth) / fc      // kernel half-width in input samples
	n := int(math.Round(float64(len(x)) / step))
	y := make([]float32, n)
	for i := range y {
		t := float64(i) * step
		lo := max(0, int(math.Ceil(t-half)))
		hi := min(len(x)-1, int(math.Floor(t+half)))
		var acc float64
		for k := lo; k <= hi; k++ {
			d := t - float64(k)
			w := 0.5 + 0.5*math.Cos(math.Pi*d/half)
			acc += float64(x[k]) * fc * sinc(fc*d) * w
		}
		y[i] = float32(acc)
	}
	return y, nil
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}
