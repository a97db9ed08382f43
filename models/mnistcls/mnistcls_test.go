package mnistcls

import (
	"context"
	"errors"
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
		var diff2, num2 float64
		for range 10 {
			i := rng.IntN(len(p.Value))
			orig := p.Value[i]
			const h = 3e-4
			p.Value[i] = orig + h
			up := float64(p.Value[i] - orig)
			lp := loss()
			p.Value[i] = orig - h
			down := float64(orig - p.Value[i])
			lm := loss()
			p.Value[i] = orig
			num := (lp - lm) / (up + down)
			d := float64(p.Grad[i]) - num
			diff2, num2 = diff2+d*d, num2+num*num
		}
		if math.Sqrt(diff2) > 0.03*math.Sqrt(num2)+1e-6 {
			t.Errorf("%s: ‖analytic − numeric‖ = %.3g, ‖numeric‖ = %.3g", p.Name, math.Sqrt(diff2), math.Sqrt(num2))
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
