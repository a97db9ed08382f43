package optimizers_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/optimizers"
)

func TestNew(t *testing.T) {
	for _, name := range optimizers.Names {
		o, err := optimizers.New(name, fadam.Defaults())
		if err != nil {
			t.Fatal(err)
		}
		if o.Name() != name {
			t.Errorf("New(%q).Name() = %q", name, o.Name())
		}
		bad := fadam.Defaults()
		bad.Beta1 = 2
		if o, err := optimizers.New(name, bad); !errors.Is(err, fadam.ErrInvalidConfig) || o != nil {
			t.Errorf("New(%q, bad) = %v, %v", name, o, err)
		}
	}
	if _, err := optimizers.New("sgd", fadam.Defaults()); err == nil {
		t.Error("New(sgd) succeeded")
	}
}

type spec struct {
	name  string
	shape []int
}

var specs = []spec{{"w", []int{7, 5}}, {"b", []int{5}}, {"s", nil}, {"big", []int{3, 20000}}, {"t3", []int{2, 3, 4}}, {"empty", []int{0, 3}}}

func makeParams(seed uint64) []fadam.Param {
	rng := rand.New(rand.NewPCG(seed, 1))
	ps := make([]fadam.Param, len(specs))
	for i, s := range specs {
		n := 1
		for _, d := range s.shape {
			n *= d
		}
		ps[i] = fadam.Param{Name: s.name, Shape: s.shape, Value: make([]float32, n), Grad: make([]float32, n)}
		for j := range ps[i].Value {
			ps[i].Value[j] = float32(rng.NormFloat64())
		}
	}
	return ps
}

// gradsAt sets deterministic gradients for step s.
func gradsAt(ps []fadam.Param, s int) {
	rng := rand.New(rand.NewPCG(uint64(s), 99))
	for _, p := range ps {
		for j := range p.Grad {
			p.Grad[j] = float32(rng.NormFloat64())
		}
	}
}

func cloneParams(ps []fadam.Param) []fadam.Param {
	out := make([]fadam.Param, len(ps))
	for i, p := range ps {
		out[i] = fadam.Param{Name: p.Name, Shape: slices.Clone(p.Shape), Value: slices.Clone(p.Value), Grad: slices.Clone(p.Grad)}
	}
	return out
}

func newOpt(t testing.TB, name string) optimizers.Optimizer {
	t.Helper()
	cfg := fadam.Defaults()
	cfg.LR = 0.01
	o, err := optimizers.New(name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func stateBytes(t testing.TB, o optimizers.Optimizer) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := o.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestResumeIsBitIdentical: 3 steps, save, 4 more; against load into a fresh optimizer and
// the same 4 steps.
func TestResumeIsBitIdentical(t *testing.T) {
	dir := t.TempDir()
	for _, name := range optimizers.Names {
		t.Run(name, func(t *testing.T) {
			ps := makeParams(1)
			a := newOpt(t, name)
			if err := a.SetParamOptions("b", fadam.ParamOptions{NoWeightDecay: true, LRScale: 2}); err != nil {
				t.Fatal(err)
			}
			for s := range 3 {
				gradsAt(ps, s)
				if err := a.Step(ps); err != nil {
					t.Fatal(err)
				}
			}
			a.SetLR(0.005)
			path := filepath.Join(dir, name+".safetensors")
			if err := a.Save(path); err != nil {
				t.Fatal(err)
			}
			saved := cloneParams(ps)
			for s := 3; s < 7; s++ {
				gradsAt(ps, s)
				if err := a.Step(ps); err != nil {
					t.Fatal(err)
				}
			}
			b, err := optimizers.New(name, fadam.Defaults()) // config comes from the checkpoint
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Load(path); err != nil {
				t.Fatal(err)
			}
			if b.Steps() != 3 || b.LR() != 0.005 {
				t.Fatalf("loaded Steps = %d, LR = %v", b.Steps(), b.LR())
			}
			for s := 3; s < 7; s++ {
				gradsAt(saved, s)
				if err := b.Step(saved); err != nil {
					t.Fatal(err)
				}
			}
			for i := range ps {
				if !slices.Equal(ps[i].Value, saved[i].Value) {
					t.Errorf("%s: resumed run differs", ps[i].Name)
				}
			}
			if !bytes.Equal(stateBytes(t, a), stateBytes(t, b)) {
				t.Error("resumed state differs")
			}
		})
	}
}

func TestLoadErrorsChangeNothing(t *testing.T) {
	dir := t.TempDir()
	for _, name := range optimizers.Names {
		t.Run(name, func(t *testing.T) {
			ps := makeParams(2)
			o := newOpt(t, name)
			gradsAt(ps, 0)
			if err := o.Step(ps); err != nil {
				t.Fatal(err)
			}
			good := stateBytes(t, o)

			other := makeParams(2)
			other[1].Shape, other[1].Value, other[1].Grad = []int{6}, make([]float32, 6), make([]float32, 6)
			mismatched := newOpt(t, name)
			if err := mismatched.Step(other); err != nil {
				t.Fatal(err)
			}
			otherAlg := newOpt(t, optimizers.Names[(slices.Index(optimizers.Names, name)+1)%4])
			if err := otherAlg.Step(ps); err != nil {
				t.Fatal(err)
			}
			flip := func(at int) []byte {
				b := slices.Clone(good)
				b[at] ^= 0x40
				return b
			}
			cases := map[string][]byte{
				"truncated":       good[:len(good)-3],
				"header-only":     good[:20],
				"empty":           nil,
				"data-bit-flip":   flip(len(good) - 10),
				"header-bit-flip": flip(12),
				"shape-mismatch":  stateBytes(t, mismatched),
				"other-algorithm": stateBytes(t, otherAlg),
			}
			for cname, data := range cases {
				path := filepath.Join(dir, name+cname)
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				err := o.Load(path)
				if !errors.Is(err, fadam.ErrCheckpoint) {
					t.Errorf("%s: Load = %v, want ErrCheckpoint", cname, err)
				}
				if !bytes.Equal(stateBytes(t, o), good) {
					t.Errorf("%s: state changed by a failed Load", cname)
				}
			}
			if err := o.Load(filepath.Join(dir, "missing")); !errors.Is(err, fadam.ErrCheckpoint) {
				t.Errorf("missing file: %v", err)
			}
		})
	}
}

func TestLoadRegistersParams(t *testing.T) {
	for _, name := range optimizers.Names {
		ps := makeParams(3)
		a := newOpt(t, name)
		gradsAt(ps, 0)
		if err := a.Step(ps); err != nil {
			t.Fatal(err)
		}
		b := newOpt(t, name)
		if err := b.Unmarshal(stateBytes(t, a)); err != nil {
			t.Fatal(err)
		}
		fa, _ := a.Fisher("w")
		fb, err := b.Fisher("w")
		if err != nil || !slices.Equal(fa, fb) {
			t.Errorf("%s: Fisher after load = %v, %v", name, fb, err)
		}
		ps[0].Name = "renamed"
		if err := b.Step(ps); !errors.Is(err, fadam.ErrParamSetChanged) {
			t.Errorf("%s: Step with other params after Load = %v", name, err)
		}
	}
}

// TestConvergence: softmax regression (convex) on a fixed noisy data set; every optimizer must
// reach the optimum's loss (found by long full-batch gradient descent in float64) within 1e-4.
func TestConvergence(t *testing.T) {
	const n, d, k = 240, 4, 3
	rng := rand.New(rand.NewPCG(7, 7))
	x := make([]float64, n*d)
	y := make([]int, n)
	for i := range n {
		y[i] = rng.IntN(k)
		for j := range d {
			x[i*d+j] = rng.NormFloat64()
			if (y[i]+j)%k == 0 {
				x[i*d+j] += 0.8
			}
		}
	}
	// loss and gradient of W (k×d) and b (k), mean cross-entropy.
	lossGrad := func(w, b, gw, gb []float64) float64 {
		clear(gw)
		clear(gb)
		loss := 0.0
		z := make([]float64, k)
		for i := range n {
			mx := math.Inf(-1)
			for c := range k {
				z[c] = b[c]
				for j := range d {
					z[c] += w[c*d+j] * x[i*d+j]
				}
				mx = math.Max(mx, z[c])
			}
			sum := 0.0
			for c := range k {
				z[c] = math.Exp(z[c] - mx)
				sum += z[c]
			}
			loss -= math.Log(z[y[i]] / sum)
			for c := range k {
				p := z[c] / sum
				if c == y[i] {
					p--
				}
				gb[c] += p / n
				for j := range d {
					gw[c*d+j] += p * x[i*d+j] / n
				}
			}
		}
		return loss / n
	}
	w, b := make([]float64, k*d), make([]float64, k)
	gw, gb := make([]float64, k*d), make([]float64, k)
	opt := 0.0
	for range 4000 {
		opt = lossGrad(w, b, gw, gb)
		for i := range w {
			w[i] -= 1.0 * gw[i]
		}
		for i := range b {
			b[i] -= 1.0 * gb[i]
		}
	}
	for _, name := range optimizers.Names {
		cfg := fadam.Defaults()
		cfg.WeightDecay = 0
		o, err := optimizers.New(name, cfg)
		if err != nil {
			t.Fatal(err)
		}
		ps := []fadam.Param{
			{Name: "W", Shape: []int{k, d}, Value: make([]float32, k*d), Grad: make([]float32, k*d)},
			{Name: "b", Shape: []int{k}, Value: make([]float32, k), Grad: make([]float32, k)},
		}
		w64, b64 := make([]float64, k*d), make([]float64, k)
		const steps = 1500
		var loss float64
		for s := range steps {
			for i, v := range ps[0].Value {
				w64[i] = float64(v)
			}
			for i, v := range ps[1].Value {
				b64[i] = float64(v)
			}
			loss = lossGrad(w64, b64, gw, gb)
			for i, g := range gw {
				ps[0].Grad[i] = float32(g)
			}
			for i, g := range gb {
				ps[1].Grad[i] = float32(g)
			}
			o.SetLR(0.05 * (1 - float64(s)/steps)) // linear decay to 0
			if err := o.Step(ps); err != nil {
				t.Fatal(err)
			}
		}
		if loss-opt > 1e-4 {
			t.Errorf("%s: loss %.6f, optimum %.6f", name, loss, opt)
		} else {
			t.Logf("%s: loss %.6f, optimum %.6f", name, loss, opt)
		}
	}
}
