//go:build amd64 && !purego

package fadam

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSumSquaresLanesMatchPortable(t *testing.T) {
	if !useAVX {
		t.Skip("no AVX")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 1000)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(60)-30)))
	}
	var a, b [4]float64
	sumSquaresAVX(&x[0], 1000, &a)
	sumSquaresLanesGo(x, &b)
	if a != b {
		t.Errorf("lanes differ: %v vs %v", a, b)
	}
}

func TestStatsRowLanesMatchPortable(t *testing.T) {
	if !useAVX {
		t.Skip("no AVX")
	}
	rng := rand.New(rand.NewPCG(2, 2))
	x := make([]float32, 512)
	col := make([]float64, 512)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(60)-30)))
		col[i] = rng.Float64()
	}
	col2 := append([]float64(nil), col...)
	var a, b [4]float64
	statsRowLanesAVX(&x[0], &col[0], 512, &a)
	statsRowLanesGo(x, col2, &b)
	if a != b {
		t.Errorf("lanes differ: %v vs %v", a, b)
	}
	for i := range col {
		if col[i] != col2[i] {
			t.Fatalf("col[%d] differs", i)
		}
	}
}
