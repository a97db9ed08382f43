package optimizers_test

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/optimizers"
)

// FuzzLoad feeds arbitrary bytes to Unmarshal on every optimizer: it must never panic, a
// failure must leave the state unchanged, and a success must give an optimizer that steps to
// finite values.
func FuzzLoad(f *testing.F) {
	small := []spec{{"w", []int{3, 2}}, {"b", []int{2}}}
	mk := func() []fadam.Param {
		ps := make([]fadam.Param, len(small))
		for i, s := range small {
			n := 1
			for _, d := range s.shape {
				n *= d
			}
			ps[i] = fadam.Param{Name: s.name, Shape: s.shape, Value: make([]float32, n), Grad: make([]float32, n)}
			for j := range ps[i].Grad {
				ps[i].Value[j], ps[i].Grad[j] = float32(j)/3, float32(j+i)-2
			}
		}
		return ps
	}
	for _, name := range optimizers.Names {
		o := newOpt(f, name)
		if err := o.Step(mk()); err != nil {
			f.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := o.WriteTo(&b); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes(), uint8(slicesIndex(name)))
		f.Add(b.Bytes()[:b.Len()/2], uint8(slicesIndex(name)))
		// With every option on: global-norm clipping, LaterEps, per-parameter λ and LR scale.
		cfg := fadam.Defaults()
		cfg.LR, cfg.MaxGradNorm, cfg.Variant = 0.01, 1, fadam.LaterEps
		o, err := optimizers.New(name, cfg)
		if err != nil {
			f.Fatal(err)
		}
		if err := o.SetParamOptions("b", fadam.ParamOptions{LRScale: 2}.WithWeightDecay(0.3)); err != nil {
			f.Fatal(err)
		}
		if err := o.Step(mk()); err != nil {
			f.Fatal(err)
		}
		b.Reset()
		if _, err := o.WriteTo(&b); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes(), uint8(slicesIndex(name)))
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		name := optimizers.Names[int(which)%len(optimizers.Names)]
		o := newOpt(t, name)
		ps := mk()
		if err := o.Step(ps); err != nil {
			t.Fatal(err)
		}
		before := stateBytes(t, o)
		if err := o.Unmarshal(data); err != nil {
			if !errors.Is(err, fadam.ErrCheckpoint) {
				t.Fatalf("error %v is not ErrCheckpoint", err)
			}
			if !bytes.Equal(before, stateBytes(t, o)) {
				t.Fatal("failed Unmarshal changed the state")
			}
			return
		}
		if err := o.Step(ps); err != nil {
			t.Fatalf("Step after a successful load: %v", err)
		}
		for _, p := range ps {
			for _, v := range p.Value {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("%s: non-finite value after load and step", p.Name)
				}
			}
		}
	})
}

func slicesIndex(name string) int {
	for i, n := range optimizers.Names {
		if n == name {
			return i
		}
	}
	return -1
}
