package fadam_test

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/baseline"
)

// FuzzStep feeds arbitrary values, gradients and hyperparameters to all four optimizers. With
// valid hyperparameters and finite inputs every output must be finite; a non-finite gradient
// must give ErrNonFinite and change nothing.
func FuzzStep(f *testing.F) {
	le := func(xs ...float32) []byte {
		b := make([]byte, 4*len(xs))
		for i, x := range xs {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
		return b
	}
	d := fadam.Defaults()
	f.Add(le(1, -2, 0.5, 3, 0.1, -0.2, 0.3, 0.4), d.LR, d.Beta1, d.Beta2, d.Eps, d.Eps2, d.Clip, d.WeightDecay, d.Rho, uint8(0))
	f.Add(le(0, 0, 0, 0, 0, 0, 0, 0), 0.1, 0.0, 0.0, 0.0, 0.0, 1e-300, 1e300, 4.0, uint8(5))
	f.Add(le(3e38, -3e38, 1e-45, 0, 1e15, 1e-30, 2, float32(math.NaN())), 1e300, 0.5, 0.5, 1e300, 1e300, 1e300, 1e300, 0.01, uint8(6))
	f.Add(le(1e-30, 1e-30, -1e-30, 1e-30, 5, 5, 5, 5, 1, 2, 3, 4), 1.0, 0.9, 0.999, 1e-8, 0.01, 1.0, 0.0, 0.5, uint8(3))
	f.Fuzz(func(t *testing.T, raw []byte, lr, b1, b2, eps, eps2, clip, wd, rho float64, mode uint8) {
		n := len(raw) / 8
		if n == 0 || n > 64 {
			return
		}
		vals, grads := make([]float32, n), make([]float32, n)
		finite := true
		for i := range n {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			grads[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*(n+i):]))
			if isBad(vals[i]) {
				vals[i] = 0 // non-finite parameters are the caller's problem, not tested here
			}
			finite = finite && !isBad(grads[i])
		}
		cfg := fadam.Config{LR: lr, Beta1: b1, Beta2: b2, Eps: eps, Eps2: eps2, Clip: clip, WeightDecay: wd, Rho: rho,
			Variant: fadam.Variant(mode >> 2 & 1), Maximize: mode&8 != 0}
		var opt interface {
			Step([]fadam.Param) error
			Fisher(string) ([]float32, error)
		}
		var err error
		switch mode & 3 {
		case 0:
			opt, err = fadam.New(cfg)
		case 1:
			opt, err = fadam.NewFactored(cfg)
		case 2:
			opt, err = baseline.NewAdam(cfg)
		case 3:
			opt, err = baseline.NewAdafactor(cfg)
		}
		if err != nil {
			if !errors.Is(err, fadam.ErrInvalidConfig) {
				t.Fatalf("constructor error %v is not ErrInvalidConfig", err)
			}
			return
		}
		shape := []int{n}
		if n%2 == 0 {
			shape = []int{2, n / 2}
		}
		ps := []fadam.Param{{Name: "p", Shape: shape, Value: vals, Grad: grads}}
		for range 2 {
			before := slices.Clone(vals)
			err := opt.Step(ps)
			if !finite {
				if !errors.Is(err, fadam.ErrNonFinite) || !slices.Equal(before, vals) {
					t.Fatalf("non-finite gradient: err = %v, values changed: %v", err, !slices.Equal(before, vals))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fish, _ := opt.Fisher("p")
			for i := range vals {
				if isBad(vals[i]) || isBad(fish[i]) {
					t.Fatalf("cfg %+v mode %d: value %d = %v, f = %v", cfg, mode, i, vals[i], fish[i])
				}
			}
		}
	})
}

func isBad(x float32) bool { return math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) }
