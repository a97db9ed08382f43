//go:build amd64 && !purego

package fadam

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBF16LanesMatchPortable checks that the bfloat16 assembly loops (AVX, and AVX-512 with an
// AVX tail where the CPU has it) store the same bits and return the same sums as the portable
// Go loops, over values that exercise the stochastic rounding's carry and saturation,
// subnormals, zeros and the zero-denominator rule.
func TestBF16LanesMatchPortable(t *testing.T) {
	if !useAVX {
		t.Skip("no assembly in this build")
	}
	saved := useAVX512
	defer func() { useAVX512 = saved }()
	for _, wide := range []bool{false, true} {
		if wide && !saved {
			t.Log("no AVX-512: only the AVX loops are checked")
			continue
		}
		useAVX512 = wide
		for _, n := range []int{400, 404, 4} {
			checkBF16Lanes(t, n)
		}
	}
}

func checkBF16Lanes(t *testing.T, n int) {
	rng := rand.New(rand.NewPCG(3, uint64(n)))
	specials := []float32{0, float32(math.Copysign(0, -1)), 1e-45, -1e-40, 1e-30, 1, -3, 1e19, -3e38, math.MaxFloat32, 3.3e38}
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
	bf := func(nonNegative bool) []uint16 {
		h := make([]uint16, n)
		for i, x := range mk() {
			if nonNegative {
				x = float32(math.Abs(float64(x)))
			}
			h[i] = roundBF16(x, 0)
		}
		return h
	}
	for _, idx := range []int{0, 12, 1<<32 - 8} {
		for _, eps := range []float64{0, 1e-300, 1e-8, 3} {
			key := newRoundKey(uint64(idx), 7, 2, streamM)
			keyV := newRoundKey(uint64(idx), 7, 2, streamFirst)
			g, theta := mk(), mk()
			sf := bf(true)
			sfGo := slices.Clone(sf)
			var a, b [8]float64
			fisherLanesBF16(g, sf, theta, 0.9, 0.1, eps, key, idx, &a)
			fisherLanesBF16Go(g, sfGo, theta, 0.9, 0.1, eps, key, idx, &b)
			if a != b || !slices.Equal(sf, sfGo) {
				t.Errorf("n=%d AVX-512=%v idx=%d eps=%g: fisher lanes differ: %v vs %v", n, useAVX512, idx, eps, a, b)
			}
			for _, lr := range []float64{0.1, 1e300} {
				m, th := bf(false), mk()
				mGo, thGo := slices.Clone(m), slices.Clone(th)
				updateLanesBF16(g, sf, m, th, 0.9, -0.1, 1e300, lr, eps, key, idx)
				updateLanesBF16Go(g, sf, mGo, thGo, 0.9, -0.1, 1e300, lr, eps, key, idx)
				if !slices.Equal(m, mGo) || !slices.Equal(th, thGo) {
					t.Errorf("n=%d AVX-512=%v idx=%d eps=%g lr=%g: update lanes differ", n, useAVX512, idx, eps, lr)
				}
				colF := make([]float64, n)
				for i := range colF {
					colF[i] = math.Abs(float64(mk()[i]))
				}
				colF[1], colF[n-1] = 1e200, 1e-200 // beyond float32: reach Adafactor's cap on 1/√f
				m, th = bf(false), mk()
				mGo, thGo = slices.Clone(m), slices.Clone(th)
				c := adamConsts{b1: 0.9, c1: 0.1, b2: 0.99, c2: 0.01, sign: -1, invBC1: 3, invSqrtBC2: 1.5, eps: eps, scale: 0.7, lr: lr, wd: 1e300}
				m, sv := bf(false), bf(true)
				mGo, svGo := slices.Clone(m), slices.Clone(sv)
				var la, lb [4]float64
				adamMomentLanesBF16(g, m, sv, &c, key, keyV, idx, &la)
				adamMomentLanesBF16Go(g, mGo, svGo, &c, key, keyV, idx, &lb)
				if la != lb || !slices.Equal(m, mGo) || !slices.Equal(sv, svGo) {
					t.Errorf("n=%d AVX-512=%v idx=%d eps=%g lr=%g: Adam moment lanes differ: %v vs %v", n, useAVX512, idx, eps, lr, la, lb)
				}
				th = mk()
				thGo = slices.Clone(th)
				adamUpdateLanesBF16(m, sv, th, &c)
				adamUpdateLanesBF16Go(m, sv, thGo, &c)
				if !slices.Equal(th, thGo) {
					t.Errorf("n=%d AVX-512=%v idx=%d eps=%g lr=%g: Adam update lanes differ", n, useAVX512, idx, eps, lr)
				}
				m, th = bf(false), mk()
				mGo, thGo = slices.Clone(m), slices.Clone(th)
				adafactorUpdateLanesBF16(g, m, th, colF, 0.7, 0.9, -0.1, lr, key, idx)
				adafactorUpdateLanesBF16Go(g, mGo, thGo, colF, 0.7, 0.9, -0.1, lr, key, idx)
				if !slices.Equal(m, mGo) || !slices.Equal(th, thGo) {
					t.Errorf("n=%d AVX-512=%v idx=%d eps=%g lr=%g: Adafactor update lanes differ", n, useAVX512, idx, eps, lr)
				}
				m, th = bf(false), mk()
				mGo, thGo = slices.Clone(m), slices.Clone(th)
				updateFactoredLanesBF16(g, m, th, colF, 0.7, 0.9, -0.1, 1e300, lr, eps, key, idx)
				updateFactoredLanesBF16Go(g, mGo, thGo, colF, 0.7, 0.9, -0.1, 1e300, lr, eps, key, idx)
				if !slices.Equal(m, mGo) || !slices.Equal(th, thGo) {
					t.Errorf("n=%d AVX-512=%v idx=%d eps=%g lr=%g: factored update lanes differ", n, useAVX512, idx, eps, lr)
				}
			}
		}
	}
}
