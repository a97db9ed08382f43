package mnistcls

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/mnist"
	"github.com/fadam-go/fadam/nn"
)

// clsTestSet is n synthetic "digits": class c lights up row band c of the image, plus noise.
func clsTestSet(n int, seed uint64) *mnist.Set {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &mnist.Set{N: n, Rows: Side, Cols: Side, Images: make([]byte, n*Pixels), Labels: make([]byte, n)}
	for i := range n {
		c := rng.IntN(Classes)
		s.Labels[i] = byte(c)
		img := s.Image(i)
		for p := range img {
			img[p] = byte(rng.IntN(40))
			if y := p / Side; y >= 2+c*2 && y < 4+c*2 {
				img[p] = 200 + byte(rng.IntN(56))
			}
		}
	}
	return s
}

// clsTestSGD is plain gradient descent, enough to exercise the training loop.
type clsTestSGD struct{ lr float32 }

func (o clsTestSGD) Step(ps []fadam.Param) error {
	for _, p := range ps {
		for i, g := range p.Grad {
			p.Value[i] -= o.lr * g
		}
	}
	return nil
}

func TestGradients(t *testing.T) {
	m, err := New(3, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Nonzero biases, as after training: with zero biases every all-zero input window sits
	// exactly on the ReLU kink.
	brng := rand.New(rand.NewPCG(8, 9))
	for _, p := range m.Params() {
		if len(p.Shape) == 1 {
			nn.InitNormal(p.Value, 0.1, brng)
		}
	}
	set := clsTestSet(3, 2)
	x := make([]float32, 3*Pixels)
	Pixels01(x, set.Images)
	loss := func() float64 {
		l, err := m.Loss(x, set.Labels)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	loss()
	nn.ZeroGrads(m.Params())
	m.Backward()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range m.Params() {
		bad, worst := 0, ""
		const probes = 20
		for range probes {
			i := rng.IntN(len(p.Value))
			// Three step sizes: a large one is bent by ReLU inputs crossing zero, a small one by
			// float32 rounding; a correct gradient matches at least one of them.
			ana := float64(p.Grad[i])
			ok, num := false, 0.0
			for _, h := range []float32{1e-3, 1e-4, 3e-5} {
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
		// Allow a quarter of the probes to be bent every way (thousands of ReLU kinks lie within
		// 1e-3 of these weights); a wiring error fails nearly all of them.
		if bad > 5 {
			t.Errorf("%s: %d of %d probes disagree, e.g. %s", p.Name, bad, probes, worst)
		}
	}
}

func TestTrainSaveLoad(t *testing.T) {
	train, test := clsTestSet(256, 5), clsTestSet(64, 6)
	m, _ := New(16, 1)
	if _, err := m.Train(context.Background(), train, TrainConfig{Steps: 120, Seed: 1}, clsTestSGD{lr: 0.05}); err != nil {
		t.Fatal(err)
	}
	acc, err := m.Accuracy(test)
	if err != nil {
		t.Fatal(err)
	}
	if acc < 0.9 {
		t.Fatalf("accuracy %.3f on an easy synthetic task", acc)
	}
	path := filepath.Join(t.TempDir(), "cls.safetensors")
	if err := m.Save(path, acc); err != nil {
		t.Fatal(err)
	}
	m2, _ := New(16, 99)
	got, err := m2.Load(path)
	if err != nil || got != math.Round(acc*1e6)/1e6 {
		t.Fatalf("Load: %v, accuracy %v want %v", err, got, acc)
	}
	if acc2, _ := m2.Accuracy(test); acc2 != acc {
		t.Fatalf("loaded model's accuracy %v, saved %v", acc2, acc)
	}

	// Another architecture's file and a corrupt file are refused.
	small, _ := New(1, 1)
	small.fc2 = nn.NewLinear("fc2", Features, 3, true)
	other := filepath.Join(t.TempDir(), "other.safetensors")
	if err := small.Save(other, 0.5); err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Load(other); !errors.Is(err, ErrIncompatible) {
		t.Errorf("other shape: err = %v", err)
	}
	data, _ := os.ReadFile(path)
	data[len(data)-3] ^= 0xff
	bad := filepath.Join(t.TempDir(), "bad.safetensors")
	os.WriteFile(bad, data, 0o644)
	if _, err := m2.Load(bad); err == nil {
		t.Error("corrupt file loaded")
	}
}

func TestTrainCancelledAndErrors(t *testing.T) {
	m, _ := New(4, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Train(ctx, clsTestSet(8, 1), TrainConfig{Steps: 5}, clsTestSGD{lr: 0.1}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	if _, err := m.Train(context.Background(), clsTestSet(2, 1), TrainConfig{Steps: 5}, clsTestSGD{lr: 0.1}); err == nil {
		t.Error("set smaller than a batch accepted")
	}
	if _, err := m.Loss(make([]float32, 5*Pixels), make([]byte, 5)); err == nil {
		t.Error("batch larger than the model's accepted")
	}
	if _, err := New(0, 1); err == nil {
		t.Error("zero batch accepted")
	}
}

func TestClone(t *testing.T) {
	m, err := New(4, 3)
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.Clone()
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 4*Pixels)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	a, b := make([]float32, 4*Features), make([]float32, 4*Features)
	if err := m.Features(a, x); err != nil {
		t.Fatal(err)
	}
	if err := c.Features(b, x); err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("feature %d: %v vs the clone's %v", i, a[i], b[i])
		}
	}
	c.Params()[0].Value[0]++ // the weights are copies
	if m.Params()[0].Value[0] == c.Params()[0].Value[0] {
		t.Fatal("the clone shares its weights")
	}
}
