package nn

import (
	"math"
	"testing"
)

func TestExpApprox32(t *testing.T) {
	worst := 0.0
	for x := -87.0; x <= 87; x += 0.001 {
		got := float64(expApprox32(float32(x)))
		want := math.Exp(float64(float32(x)))
		worst = math.Max(worst, math.Abs(got-want)/want)
	}
	if worst > 4e-7 {
		t.Fatalf("worst relative error %g > 4e-7", worst)
	}
	for _, x := range []float32{-1e30, -200, 200, 1e30} {
		if y := expApprox32(x); y <= 0 || math.IsInf(float64(y), 0) {
			t.Fatalf("expApprox32(%g) = %g, want finite positive", x, y)
		}
	}
	if y := expApprox32(float32(math.NaN())); !math.IsNaN(float64(y)) && y <= 0 {
		t.Fatalf("NaN gave %g", y)
	}
}
