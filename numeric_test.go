package fadam

import (
	"math"
	"testing"
)

func TestNumericHelpers(t *testing.T) {
	for _, c := range []struct {
		x    []float32
		want float64
	}{{nil, 0}, {[]float32{3}, 9}, {[]float32{1, 2, 3, 4, 5}, 55}, {[]float32{3e38, 3e38}, 2 * float64(float32(3e38)) * float64(float32(3e38))}} {
		if got := sumSquares(c.x); math.Abs(got-c.want) > 1e-12*c.want {
			t.Errorf("sumSquares(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	for _, c := range []struct{ rms, c, want float64 }{{0.5, 1, 1}, {2, 1, 0.5}, {4, 2, 0.5}, {math.Inf(1), 1, 0}} {
		if got := clipScale(c.rms, c.c, false); got != c.want {
			t.Errorf("clipScale(%v, %v) = %v, want %v", c.rms, c.c, got, c.want)
		}
	}
	if got := clipScale(0.5, 2, true); got != 2 { // PyTorch: c/max(1, RMS)
		t.Errorf("PyTorch clipScale = %v, want 2", got)
	}
	if reciprocal(0) != 0 || reciprocal(1e-200) != 1/minDenominator || reciprocal(4) != 0.25 {
		t.Error("reciprocal")
	}
	if sat32(1e39) != math.MaxFloat32 || sat32(-math.Inf(1)) != -math.MaxFloat32 || sat32(1.5) != 1.5 {
		t.Error("sat32")
	}
	if beta2Hat(0.999, 1) != 0 || math.Abs(beta2Hat(0.999, 2)-0.999*0.001/(1-0.999*0.999)) > 1e-12 {
		t.Error("beta2Hat")
	}
}
