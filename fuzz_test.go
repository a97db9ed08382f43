package fadam_test

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/fadam-go/fadam"
)

// FuzzStep feeds arbitrary values, gradients, hyperparameters and per-step options (global-norm
// clipping, a per-parameter λ and LR scale, every Variant) to all four optimizers. With valid
// hyperparameters and finite inputs every output must be finite and the reported gradient norm
// finite; a non-finite gradient must give ErrNonFinite and change nothing (gradients included);
// invalid options must give ErrInvalidConfig and change nothing.
//
// mode: bits 0–1 the algorithm, bits 2–3 the Variant (mod 3), bit 4 Maximize, bit 5 a
// per-parameter λ (paramWD), bit 6 per-parameter options set by rule rather than by name.
func FuzzStep(f *testing.F) {
	le := func(xs ...float32) []byte {
		b := make([]byte, 4*len(xs))
		for i, x := range xs {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
		return b
	}
	d := fadam.Defaults()
	f.Add(le(1, -2, 0.5, 3, 0.1, -0.2, 0.3, 0.4), d.LR, d.Beta1, d.Beta2, d.Eps, d.Eps2, d.Clip, d.WeightDecay, d.Rho, 0.0, 0.0, 0.0, uint8(0))
	f.Add(le(0, 0, 0, 0, 0, 0, 0, 0), 0.1, 0.0, 0.0, 0.0, 0.0, 1e-300, 1e300, 4.0, 1.0, 2.0, 0.5, uint8(0x25))
	f.Add(le(3e38, -3e38, 1e-45, 0, 1e15, 1e-30, 2, float32(math.NaN())), 1e300, 0.5, 0.5, 1e300, 1e300, 1e300, 1e300, 0.01, 1e-3, 0.0, 0.0, uint8(0x16))
	f.Add(le(1e-30, 1e-30, -1e-30, 1e-30, 5, 5, 5, 5, 1, 2, 3, 4), 1.0, 0.9, 0.999, 1e-8, 0.01, 1.0, 0.0, 0.5, 0.0, 3.0, 0.2, uint8(0x6b))
	f.Add(le(3e38, 3e38, 3e38, 3e38, 3e38, 3e38, 3e38, 3e38), 1e300, 0.9, 0.999, 1e-8, 0.01, 1.0, 0.1, 0.5, 1e-300, 1e300, 1e300, uint8(0x28))
	f.Add(le(1, 2, 3, 4, 0, 0, 0, 0), 1e-3, 0.9, 0.999, 1e-8, 0.01, 1.0, 0.1, 0.5, 5.0, 1.0, -1.0, uint8(0x3a))
	f.Fuzz(func(t *testing.T, raw []byte, lr, b1, b2, eps, eps2, clip, wd, rho, maxNorm, lrScale, paramWD float64, mode uint8) {
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
			Variant: fadam.Variant((mode >> 2 & 3) % 3), Maximize: mode&16 != 0, MaxGradNorm: maxNorm}
		opts := fadam.ParamOptions{LRScale: lrScale}
		if mode&32 != 0 {
			opts = opts.WithWeightDecay(paramWD)
		}
		opt, err := fadam.Algorithms[mode&3].New(cfg)
		if err != nil {
			if !errors.Is(err, fadam.ErrInvalidConfig) {
				t.Fatalf("constructor error %v is not ErrInvalidConfig", err)
			}
			return
		}
		validOpts := true
		if mode&64 != 0 {
			opt.SetParamOptionsFunc(func(string, []int) fadam.ParamOptions { return opts })
		} else if err := opt.SetParamOptions("p", opts); err != nil {
			if !errors.Is(err, fadam.ErrInvalidConfig) {
				t.Fatalf("SetParamOptions error %v is not ErrInvalidConfig", err)
			}
			validOpts = false
		}
		shape := []int{n}
		if n%2 == 0 {
			shape = []int{2, n / 2}
		}
		ps := []fadam.Param{{Name: "p", Shape: shape, Value: vals, Grad: grads}}
		for range 2 {
			before, beforeGrads := slices.Clone(vals), slices.Clone(grads)
			err := opt.Step(ps)
			unchanged := slices.Equal(before, vals) && sameBits(beforeGrads, grads) // grads may hold NaN
			if errors.Is(err, fadam.ErrInvalidConfig) && mode&64 != 0 {
				if !unchanged {
					t.Fatal("Step rejecting the rule's options changed the values or gradients")
				}
				return // the rule's options were invalid
			}
			if !finite {
				if !errors.Is(err, fadam.ErrNonFinite) || !unchanged {
					t.Fatalf("non-finite gradient: err = %v, values or gradients changed: %v", err, !unchanged)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fish, _ := opt.Fisher("p")
			for i := range vals {
				if isBad(vals[i]) || isBad(fish[i]) || isBad(grads[i]) {
					t.Fatalf("cfg %+v options %+v (valid %v) mode %#x: value %d = %v, f = %v, g = %v",
						cfg, opts, validOpts, mode, i, vals[i], fish[i], grads[i])
				}
			}
			if n := opt.LastGradNorm(); math.IsNaN(n) || math.IsInf(n, 0) || n < 0 {
				t.Fatalf("LastGradNorm = %v", n)
			}
		}
	})
}

// sameBits reports whether a and b hold the same float32 bit patterns (NaN included).
func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

func isBad(x float32) bool { return math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) }
