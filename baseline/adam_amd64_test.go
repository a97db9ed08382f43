//go:build amd64 && !purego

package baseline

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
