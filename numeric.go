package fadam

import "math"

// chunkSize is the number of elements of one work unit of an unfactored tensor. It is a constant
// (never derived from the worker count) so that reductions are the same on any machine.
const chunkSize = 1 << 15

// minDenominator is the smallest positive denominator a kernel divides by. A positive d below it
// is raised to it, so g/d and θ/d stay below about 1e139 and their squares sum without
// overflow; d that small only arises when both f^ρ and ε̂^{2ρ} are vanishingly small.
const minDenominator = 1e-100

// maxFloat32 as a float64.
const maxFloat32 = math.MaxFloat32

// flatChunks is the number of chunkSize chunks of an n-element tensor.
func flatChunks(n int) int { return (n + chunkSize - 1) / chunkSize }

// flatRange is the element range [lo, hi) of chunk k of an n-element tensor.
func flatRange(n, k int) (lo, hi int) {
	lo = k * chunkSize
	return lo, min(n, lo+chunkSize)
}

// sumSquares returns Σx² in float64: four accumulators (element i into i mod 4, in assembly
// where available), the tail added to the first, combined as (s0+s1)+(s2+s3).
func sumSquares(x []float32) float64 {
	n4 := len(x) &^ 3
	var l [4]float64
	sumSquaresLanes(x[:n4], &l)
	for _, v := range x[n4:] {
		a := float64(v)
		l[0] += a * a
	}
	return (l[0] + l[1]) + (l[2] + l[3])
}

// sumSquaresLanesGo is the portable sumSquaresLanes.
func sumSquaresLanesGo(x []float32, l *[4]float64) {
	*l = [4]float64{}
	for i := 0; i+4 <= len(x); i += 4 {
		a, b, c, d := float64(x[i]), float64(x[i+1]), float64(x[i+2]), float64(x[i+3])
		l[0] += a * a
		l[1] += b * b
		l[2] += c * c
		l[3] += d * d
	}
}

// rms is sqrt(sum/n), 0 for n = 0.
func rms(sum float64, n int) float64 {
	if n == 0 {
		return 0
	}
	return math.Sqrt(sum / float64(n))
}

// clipScale is the factor that clips a tensor whose RMS is rms to at most c: the paper's
// x ← x / max(1, RMS(x)/c) (Algorithm 1 lines 10 and 13; Algorithms 3 and 4). With
// pytorch set it is the PyTorch codes' x ← x / (max(1, RMS(x))/c) instead (Variants
// PyTorchReference and LaterEps).
// The result is finite and ≥ 0 for finite rms ≥ 0 and finite c > 0.
func clipScale(rms, c float64, pytorch bool) float64 {
	if pytorch {
		return c / max(1, rms)
	}
	return 1 / max(1, rms/c)
}

// sat32 rounds x to float32, saturating at ±MaxFloat32 instead of overflowing to ±Inf. State
// and parameters are stored through it so that finite inputs never leave an Inf behind.
func sat32(x float64) float32 {
	if x > maxFloat32 {
		return math.MaxFloat32
	}
	if x < -maxFloat32 {
		return -math.MaxFloat32
	}
	return float32(x)
}

// squares32 returns f from its stored square roots, element by element (square32): the
// Fisher estimate of an unfactored float32 state array.
func squares32(sqrtF []float32) []float32 {
	out := make([]float32, len(sqrtF))
	for i, s := range sqrtF {
		out[i] = square32(s)
	}
	return out
}

// square32 returns x² rounded to float32, saturating at MaxFloat32: f from its stored square
// root, for Fisher.
func square32(x float32) float32 {
	return sat32(float64(x) * float64(x))
}

// reciprocal returns 1/d, 0 for d = 0 (the zero-denominator rule of docs/optimizer.md: an element
// with no Fisher information yet contributes nothing), and 1/minDenominator for 0 < d <
// minDenominator.
func reciprocal(d float64) float64 {
	if d < minDenominator {
		if d == 0 {
			return 0
		}
		d = minDenominator
	}
	return 1 / d
}

// finite clamps x to ±MaxFloat64. Kernels multiply per-element values by step constants built
// from hyperparameters (such as λ·clip); a constant that overflowed to Inf would turn a 0
// element into NaN, a saturated one cannot.
func finite(x float64) float64 {
	if x > math.MaxFloat64 {
		return math.MaxFloat64
	}
	if x < -math.MaxFloat64 {
		return -math.MaxFloat64
	}
	return x
}
