//go:build amd64 && !purego

package fadam

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAdamLanesMatchPortable checks the assembly loops against the portable Go loops, bit for
// bit, including zero, tiny and huge values.
func TestAdamLanesMatchPortable(t *testing.T) {
	if !useAVX {
		t.Skip("no AVX")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	specials := []float32{0, 1e-45, -1e-30, 1, -3, 1e15, 1e19, -3e38, math.MaxFloat32}
	const n = 256
	mk := func(nonNeg bool) []float32 {
		x := make([]float32, n)
		for i := range x {
			if rng.IntN(3) == 0 {
				x[i] = specials[rng.IntN(len(specials))]
			} else {
				x[i] = float32(rng.NormFloat64())
			}
			if nonNeg {
				x[i] = float32(math.Abs(float64(x[i])))
			}
		}
		return x
	}
	for _, eps := range []float64{0, 1e-8} {
		c := adamConsts{b1: 0.9, c1: 0.1, b2: 0.999, c2: 1 - 0.999, sign: -1, invBC1: 1 / 0.19, invSqrtBC2: 1 / math.Sqrt(1-0.999*0.999),
			eps: eps, scale: 0.7, lr: 0.01, wd: 1e300}
		g, m, sv, th := mk(false), mk(false), mk(true), mk(false)
		m2, sv2, th2 := slices.Clone(m), slices.Clone(sv), slices.Clone(th)
		var a, b [4]float64
		adamMomentLanesAVX(&g[0], &m[0], &sv[0], n, c.b1, c.c1, c.b2, c.c2, c.sign, c.invBC1, c.invSqrtBC2, c.eps, &a)
		adamMomentLanesGo(g, m2, sv2, &c, &b)
		if a != b || !slices.Equal(m, m2) || !slices.Equal(sv, sv2) {
			t.Errorf("eps=%g: moment lanes differ: %v vs %v", eps, a, b)
		}
		adamUpdateLanesAVX(&m[0], &sv[0], &th[0], n, c.invBC1, c.invSqrtBC2, c.eps, c.scale, c.lr, c.wd)
		adamUpdateLanesGo(m2, sv2, th2, &c)
		if !slices.Equal(th, th2) {
			t.Errorf("eps=%g: update lanes differ", eps)
		}
	}
}

func TestAdafactorLanesMatchPortable(t *testing.T) {
	if !useAVX {
		t.Skip("no AVX")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 256
	g, m, th := make([]float32, n), make([]float32, n), make([]float32, n)
	invCol := make([]float64, n)
	specials := []float32{0, 1e-45, 1e-30, -1e15, 3e38}
	for i := range g {
		g[i], m[i], th[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
		if i%5 == 0 {
			g[i] = specials[rng.IntN(len(specials))]
		}
		invCol[i] = []float64{0, 1e-3, 1, 1e60, 1e100}[rng.IntN(5)]
	}
	for _, invRow := range []float64{0, 0.5, 1e60} {
		var a, b [4]float64
		adafactorSumLanesAVX(&g[0], &invCol[0], n, invRow, &a)
		adafactorSumLanesGo(g, invCol, invRow, &b)
		if a != b {
			t.Errorf("invRow=%g: sum lanes differ: %v vs %v", invRow, a, b)
		}
		m2, th2 := slices.Clone(m), slices.Clone(th)
		adafactorUpdateLanesAVX(&g[0], &m[0], &th[0], &invCol[0], n, invRow, 0.9, 1e-3, 1e300)
		adafactorUpdateLanesGo(g, m2, th2, invCol, invRow, 0.9, 1e-3, 1e300)
		if !slices.Equal(m, m2) || !slices.Equal(th, th2) {
			t.Errorf("invRow=%g: update lanes differ", invRow)
		}
	}
}
