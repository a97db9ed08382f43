package vqvae

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func frechetTestStats(mean []float64, cov []float64) Stats {
	return Stats{Mean: mean, Cov: mat.NewSymDense(len(mean), cov)}
}

// frechetTestRotated returns R·diag(d)·Rᵀ for the rotation R by angle θ.
func frechetTestRotated(d [2]float64, theta float64) []float64 {
	c, s := math.Cos(theta), math.Sin(theta)
	return []float64{
		c*c*d[0] + s*s*d[1], c * s * (d[0] - d[1]),
		c * s * (d[0] - d[1]), s*s*d[0] + c*c*d[1],
	}
}

func TestFrechetDistance(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b Stats
		want float64
	}{
		{"identical", frechetTestStats([]float64{1, 2}, []float64{2, 0.5, 0.5, 1}), frechetTestStats([]float64{1, 2}, []float64{2, 0.5, 0.5, 1}), 0},
		// Same covariance: only the means differ.
		{"shifted", frechetTestStats([]float64{0, 0}, []float64{2, 0.5, 0.5, 1}), frechetTestStats([]float64{3, 4}, []float64{2, 0.5, 0.5, 1}), 25},
		// Diagonal covariances: Σ (√a − √b)² = (2−1)² + (3−1)² = 5, plus the means' 1.
		{"diagonal", frechetTestStats([]float64{1, 0}, []float64{4, 0, 0, 9}), frechetTestStats([]float64{0, 0}, []float64{1, 0, 0, 1}), 6},
		// Commuting covariances with the same eigenvectors rotated by 0.7 rad: still Σ (√a − √b)².
		{"rotated", frechetTestStats([]float64{0, 0}, frechetTestRotated([2]float64{4, 1}, 0.7)), frechetTestStats([]float64{0, 0}, frechetTestRotated([2]float64{1, 9}, 0.7)), 1 + 4},
		// A singular covariance against zero: tr Σ.
		{"singular", frechetTestStats([]float64{0, 0}, []float64{1, 1, 1, 1}), frechetTestStats([]float64{0, 0}, []float64{0, 0, 0, 0}), 2},
	} {
		got, err := FrechetDistance(tc.a, tc.b)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if math.Abs(got-tc.want) > 1e-9*(1+tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, err := FrechetDistance(frechetTestStats([]float64{0}, []float64{1}), frechetTestStats([]float64{0, 0}, []float64{1, 0, 0, 1})); err == nil {
		t.Error("dimension mismatch accepted")
	}
}

// TestFrechetNonCommuting checks a case where Σ₁ and Σ₂ do not commute against the closed form
// for 2×2 matrices: tr √M = √(tr M + 2√det M) for M = Σ₁^½ Σ₂ Σ₁^½, with det M = det Σ₁ det Σ₂
// and tr M = tr Σ₁Σ₂.
func TestFrechetNonCommuting(t *testing.T) {
	s1 := []float64{2, 0.3, 0.3, 1}
	s2 := []float64{1, -0.4, -0.4, 3}
	tr12 := s1[0]*s2[0] + s1[1]*s2[2] + s1[2]*s2[1] + s1[3]*s2[3]
	det := (s1[0]*s1[3] - s1[1]*s1[2]) * (s2[0]*s2[3] - s2[1]*s2[2])
	want := (s1[0] + s1[3]) + (s2[0] + s2[3]) - 2*math.Sqrt(tr12+2*math.Sqrt(det))
	got, err := FrechetDistance(frechetTestStats([]float64{0, 0}, s1), frechetTestStats([]float64{0, 0}, s2))
	if err != nil || math.Abs(got-want) > 1e-9 {
		t.Fatalf("got %v (%v), want %v", got, err, want)
	}
}

func TestFeatureStats(t *testing.T) {
	feats := []float32{1, 2, 3, 6, 5, 10} // rows (1,2), (3,6), (5,10)
	s, err := FeatureStats(feats, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	// mean (3, 6); deviations (−2,−4), (0,0), (2,4); covariance /2: [[4, 8], [8, 16]]
	if s.Mean[0] != 3 || s.Mean[1] != 6 || s.Cov.At(0, 0) != 4 || s.Cov.At(0, 1) != 8 || s.Cov.At(1, 1) != 16 {
		t.Fatalf("mean %v cov %v", s.Mean, mat.Formatted(s.Cov))
	}
	if _, err := FeatureStats(feats, 1, 2); err == nil {
		t.Error("one row accepted")
	}
}
