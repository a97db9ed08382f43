package vqvae

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fadam-go/fadam/nn"
)

func vqvaeTestImages(b int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 3))
	px := make([]byte, b*Pixels)
	for i := range px {
		if rng.IntN(3) == 0 {
			px[i] = byte(rng.IntN(256))
		}
	}
	return px
}

func vqvaeTestModel(t *testing.T, loss Loss) *Model {
	t.Helper()
	m, err := New(Config{Loss: loss, Hidden: 4, Codes: 8, CodeDim: 3, Beta: 0.25, Batch: 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// vqvaeTestCheck compares, for 12 probed elements of each selected tensor, the analytic gradient
// of Losses.Total with central differences.
func vqvaeTestCheck(t *testing.T, m *Model, images []byte, names func(string) bool) {
	t.Helper()
	loss := func() float64 {
		l, err := m.Forward(images)
		if err != nil {
			t.Fatal(err)
		}
		return l.Total
	}
	loss()
	nn.ZeroGrads(m.Params())
	m.Backward()
	rng := rand.New(rand.NewPCG(5, 6))
	checked := 0
	for _, p := range m.Params() {
		if !names(p.Name) {
			continue
		}
		bad, worst := 0, ""
		const probes = 12
		for range probes {
			i := rng.IntN(len(p.Value))
			// Two step sizes: a large one is bent by ReLU inputs crossing zero, a small one by
			// float32 rounding; a correct gradient matches at least one of them.
			ana := float64(p.Grad[i])
			ok, num := false, 0.0
			for _, h := range []float32{1e-3, 1e-4} {
				if ok {
					break
				}
				orig := p.Value[i]
				p.Value[i] = orig + h
				up := float64(p.Value[i] - orig)
				lp := loss()
				p.Value[i] = orig - h
				down := float64(orig - p.Value[i])
				lm := loss()
				p.Value[i] = orig
				num = (lp - lm) / (up + down)
				ok = ok || math.Abs(ana-num) <= 0.02*math.Max(math.Abs(ana)+math.Abs(num), 1e-3)
			}
			if !ok {
				bad++
				worst = fmt.Sprintf("[%d] analytic %.6g numeric %.6g", i, ana, num)
			}
		}
		// Allow a quarter of the probes to be bent both ways; a wiring error fails nearly all.
		if bad > 3 {
			t.Errorf("%s: %d of %d probes disagree, e.g. %s", p.Name, bad, probes, worst)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no tensor checked")
	}
}

// With the quantizer as the identity the straight-through gradient is exact, so every tensor
// of the encoder and decoder can be checked end to end.
func TestGradientsThroughIdentityQuantizer(t *testing.T) {
	for _, loss := range []Loss{L2, CE} {
		t.Run(loss.String(), func(t *testing.T) {
			m := vqvaeTestModel(t, loss)
			m.identityVQ = true
			vqvaeTestCheck(t, m, vqvaeTestImages(2, 1), func(n string) bool { return !strings.HasPrefix(n, "vq.") })
		})
	}
}

// With the quantizer on, the decoder's gradients are exact (the codes do not move under small
// decoder perturbations); the quantizer's own gradients are checked in package nn.
func TestDecoderGradientsWithQuantizer(t *testing.T) {
	for _, loss := range []Loss{L2, CE} {
		t.Run(loss.String(), func(t *testing.T) {
			m := vqvaeTestModel(t, loss)
			images := vqvaeTestImages(2, 2)
			if err := m.InitCodebook(images, 3); err != nil {
				t.Fatal(err)
			}
			vqvaeTestCheck(t, m, images, func(n string) bool { return strings.HasPrefix(n, "dec") || strings.HasPrefix(n, "head") })
		})
	}
}

func TestForwardLossesAndErrors(t *testing.T) {
	m := vqvaeTestModel(t, CE)
	images := vqvaeTestImages(1, 4)
	if err := m.InitCodebook(images, 1); err != nil {
		t.Fatal(err)
	}
	l, err := m.Forward(images)
	if err != nil {
		t.Fatal(err)
	}
	// At initialisation the CE decoder is near uniform: about ln 256 nats per pixel.
	if l.Recon < 3 || l.Recon > 8 || l.VQ < 0 || l.Total != l.Recon+1.25*l.VQ {
		t.Fatalf("losses %+v", l)
	}
	if _, err := m.Forward(images[:100]); err == nil {
		t.Error("partial image accepted")
	}
	if _, err := m.Forward(vqvaeTestImages(3, 1)); err == nil {
		t.Error("batch larger than the model's accepted")
	}
	if _, err := New(Config{Loss: L2, Hidden: 3, Codes: 4, CodeDim: 2, Batch: 1}, 1); err == nil {
		t.Error("odd hidden width accepted")
	}
	if _, err := ParseLoss("l1"); err == nil {
		t.Error("unknown loss accepted")
	}
}

func TestReconstructCE(t *testing.T) {
	m := vqvaeTestModel(t, CE)
	m.b = 1
	clear(m.probs)
	for i := range Pixels {
		p := m.probs[i*levels : (i+1)*levels]
		p[10], p[200] = 0.25, 0.75 // mean 152.5, mode 200
	}
	mean, mode := make([]float32, Pixels), make([]float32, Pixels)
	m.Reconstruct(mean, mode)
	if d := mean[5] - 152.5/255; d > 1e-6 || d < -1e-6 || mode[5] != 200.0/255 {
		t.Fatalf("mean %v mode %v", mean[5]*255, mode[5]*255)
	}
}
