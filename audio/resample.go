package audio

import (
	"fmt"
	"math"
)

// resampleHalfWidth is the half-length of the interpolation kernel in zero crossings: wide
// enough that the passband ripple stays below about 1e-3 for speech.
const resampleHalfWidth = 16

// maxPhases bounds the polyphase table: rate pairs whose reduced ratio needs more phases are
// interpolated directly (slower, same result).
const maxPhases = 4096

// Resample converts x from rate from to rate to (both in Hz) by band-limited interpolation: a
// Hann-windowed sinc whose cutoff is the lower of the two Nyquist frequencies, so downsampling
// does not alias. The output has round(len(x)·to/from) samples. For rational ratios with few
// phases (22050 → 16000 has 320) the kernel is tabulated once per phase.
func Resample(x []float32, from, to int) ([]float32, error) {
	if from <= 0 || to <= 0 {
		return nil, fmt.Errorf("audio: resample from %d Hz to %d Hz: rates must be positive", from, to)
	}
	if from == to {
		return append([]float32(nil), x...), nil
	}
	return resample(x, from, to, gcd(from, to)*maxPhases >= to), nil
}

// resample is Resample with the choice of the polyphase table (true) or direct evaluation.
func resample(x []float32, from, to int, polyphase bool) []float32 {
	g := gcd(from, to)
	up, down := to/g, from/g                     // output sample i sits at input time i·down/up
	fc := math.Min(1, float64(to)/float64(from)) // cutoff relative to the input Nyquist
	half := float64(resampleHalfWidth) / fc      // kernel half-width in input samples
	n := int(math.Round(float64(len(x)) * float64(up) / float64(down)))
	y := make([]float32, n)
	kernel := func(d float64) float64 { return fc * sinc(fc*d) * (0.5 + 0.5*math.Cos(math.Pi*d/half)) }
	if !polyphase {
		for i := range y {
			t := float64(i) * float64(down) / float64(up)
			var acc float64
			for k := max(0, int(math.Ceil(t-half))); k <= min(len(x)-1, int(math.Floor(t+half))); k++ {
				acc += float64(x[k]) * kernel(t-float64(k))
			}
			y[i] = float32(acc)
		}
		return y
	}
	// Phase p has fractional offset p/up; its taps cover input offsets lo[p]..lo[p]+len(w[p])−1
	// from floor(t).
	lo := make([]int, up)
	w := make([][]float64, up)
	for p := range up {
		frac := float64(p) / float64(up)
		lo[p] = int(math.Ceil(frac - half))
		hi := int(math.Floor(frac + half))
		for j := lo[p]; j <= hi; j++ {
			w[p] = append(w[p], kernel(frac-float64(j)))
		}
	}
	for i := range y {
		base, p := (i*down)/up, (i*down)%up
		start := base + lo[p]
		ws := w[p]
		if start < 0 {
			ws = ws[-start:]
			start = 0
		}
		if over := start + len(ws) - len(x); over > 0 {
			ws = ws[:max(len(ws)-over, 0)]
		}
		var acc float64
		for j, wv := range ws {
			acc += float64(x[start+j]) * wv
		}
		y[i] = float32(acc)
	}
	return y
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}
