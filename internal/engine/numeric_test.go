package engine

import (
	"math"
	"testing"
)

func TestNumericHelpers(t *testing.T) {
	for _, c := range []struct {
		x    []float32
		want float64
	}{{nil, 0}, {[]float32{3}, 9}, {[]float32{1, 2, 3, 4, 5}, 55}, {[]float32{3e38, 3e38}, 2 * float64(float32(3e38)) * float64(float32(3e38))}} {
		if got := SumSquares(c.x); math.Abs(got-c.want) > 1e-12*c.want {
			t.Errorf("SumSquares(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	for _, c := range []struct{ rms, c, want float64 }{{0.5, 1, 1}, {2, 1, 0.5}, {4, 2, 0.5}, {math.Inf(1), 1, 0}} {
		if got := ClipScale(c.rms, c.c, false); got != c.want {
			t.Errorf("ClipScale(%v, %v) = %v, want %v", c.rms, c.c, got, c.want)
		}
	}
	if got := ClipScale(0.5, 2, true); got != 2 { // PyTorch: c/max(1, rms)
		t.Errorf("PyTorch ClipScale = %v, want 2", got)
	}
	if Reciprocal(0) != 0 || Reciprocal(1e-200) != 1/MinDenominator || Reciprocal(4) != 0.25 {
		t.Error("Reciprocal")
	}
	if Sat32(1e39) != math.MaxFloat32 || Sat32(-math.Inf(1)) != -math.MaxFloat32 || Sat32(1.5) != 1.5 {
		t.Error("Sat32")
	}
	if Beta2Hat(0.999, 1) != 0 || math.Abs(Beta2Hat(0.999, 2)-0.999*0.001/(1-0.999*0.999)) > 1e-12 {
		t.Error("Beta2Hat")
	}
}
