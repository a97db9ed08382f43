//go:build amd64 && !purego

package fadam

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestLanesMatchPortable checks that the assembly loops (when this build has them) produce the
// same bits as the portable Go loops, including the zero-denominator, tiny and huge cases.
func TestLanesMatchPortable(t *testing.T) {
	if !useAVX {
		t.Skip("no assembly in this build")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	specials := []float32{0, 1e-45, -1e-30, 1e-20, 1, -3, 1e15, 1e19, -3e38, math.MaxFloat32}
	const n = 4 * 64
	mk := func() []float32 {
		x := make([]float32, n)
		for i := range x {
			if rng.IntN(3) == 0 {
				x[i] = specials[rng.IntN(len(specials))]
			} else {
				x[i] = float32(rng.NormFloat64())
			}
		}
		return x
	}
	abs := func(x []float32) []float32 {
		for i := range x {
			x[i] = float32(math.Abs(float64(x[i])))
		}
		return x
	}
	for _, eps := range []float64{0, 1e-300, 1e-8, 3} {
		g, sf, theta, m := mk(), abs(mk()), mk(), mk()
		sfGo := slices.Clone(sf)
		var a, b [8]float64
		fisherLanesAVX(&g[0], &sf[0], &theta[0], n, 0.9, 0.1, eps, &a)
		fisherLanesGo(g, sfGo, theta, 0.9, 0.1, eps, &b)
		if a != b || !slices.Equal(sf, sfGo) {
			t.Errorf("eps=%g: fisher lanes differ: %v vs %v", eps, a, b)
		}
		colF := make([]float64, n)
		for i := range colF {
			colF[i] = float64(abs(mk())[i])
		}
		var fa, fb [8]float64
		fisherFactoredLanesAVX(&g[0], &theta[0], &colF[0], n, 0.7, eps, &fa)
		fisherFactoredLanesGo(g, theta, colF, 0.7, eps, &fb)
		if fa != fb {
			t.Errorf("eps=%g: factored fisher lanes differ: %v vs %v", eps, fa, fb)
		}
		m2, th2 := slices.Clone(m), slices.Clone(theta)
		m2Go, th2Go := slices.Clone(m), slices.Clone(theta)
		updateFactoredLanesAVX(&g[0], &m2[0], &th2[0], &colF[0], n, 0.7, 0.9, -0.1, 1e300, 0.1, eps)
		updateFactoredLanesGo(g, m2Go, th2Go, colF, 0.7, 0.9, -0.1, 1e300, 0.1, eps)
		if !slices.Equal(m2, m2Go) || !slices.Equal(th2, th2Go) {
			t.Errorf("eps=%g: factored update lanes differ", eps)
		}
		mGo, thGo := slices.Clone(m), slices.Clone(theta)
		for _, lr := range []float64{0.1, 1e300} {
			updateLanesAVX(&g[0], &sf[0], &m[0], &theta[0], n, 0.9, -0.1, 1e300, lr, eps)
			updateLanesGo(g, sf, mGo, thGo, 0.9, -0.1, 1e300, lr, eps)
			if !slices.Equal(m, mGo) || !slices.Equal(theta, thGo) {
				t.Errorf("eps=%g lr=%g: update lanes differ", eps, lr)
			}
		}
	}
}
