package vqvae

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/mnist"
	"github.com/fadam-go/fadam/models/vqvae"
	"github.com/fadam-go/fadam/optimizers"
)

// expTestSet is n synthetic digits: class c is a bright bar at rows 2c+2…2c+3 on faint noise.
func expTestSet(n int, seed uint64) *mnist.Set {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &mnist.Set{N: n, Rows: mnist.Side, Cols: mnist.Side, Images: make([]byte, n*vqvae.Pixels), Labels: make([]byte, n)}
	for i := range n {
		c := rng.IntN(10)
		s.Labels[i] = byte(c)
		img := s.Image(i)
		for p := range img {
			img[p] = byte(rng.IntN(30))
			if y := p / mnist.Side; y >= 2+2*c && y < 4+2*c {
				img[p] = 200 + byte(rng.IntN(56))
			}
		}
	}
	return s
}

func expTestFactory(name string) OptimizerFactory {
	return func(c fadam.Config) (fadam.Stepper, error) { return optimizers.New(name, c) }
}

func expTestOpt() fadam.Config {
	c := fadam.Defaults()
	c.LR, c.Beta2, c.WeightDecay = 3e-3, 0.99, 1e-4
	return c
}

// TestEndToEnd trains the classifier briefly (caching it), then both losses with both
// optimizers for a few steps on a tiny synthetic set, through the real code paths.
func TestEndToEnd(t *testing.T) {
	train, test := expTestSet(64, 1), expTestSet(24, 2)
	path := filepath.Join(t.TempDir(), "cls.safetensors")
	cc := ClassifierConfig{Steps: 30, Batch: 8, Seed: 1, Opt: expTestOpt()}
	cls, info, err := Classifier(context.Background(), path, train, test, cc, expTestFactory("adam"))
	if err != nil {
		t.Fatal(err)
	}
	if !info.Trained || info.Note != "no cached weights" {
		t.Fatalf("first call: %+v", info)
	}
	if _, info2, err := Classifier(context.Background(), path, train, test, cc, expTestFactory("adam")); err != nil || info2.Trained || info2.Accuracy != math.Round(info.Accuracy*1e6)/1e6 {
		t.Fatalf("second call did not load the cache: %+v, %v", info2, err)
	}
	cc.MinAccuracy = 1.01
	if _, _, err := Classifier(context.Background(), filepath.Join(t.TempDir(), "x"), train, test, cc, expTestFactory("adam")); err == nil {
		t.Error("accuracy below the minimum accepted")
	}

	scorer, err := NewScorer(cls, test.Images, 8, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, loss := range []vqvae.Loss{vqvae.L2, vqvae.CE} {
		for _, opt := range []string{"fadam", "adam"} {
			cfg := Config{
				Model: vqvae.Config{Loss: loss, Hidden: 4, Codes: 8, CodeDim: 3, Beta: 0.25, Batch: 4},
				Steps: 3, Warmup: 1, MinLRFrac: 0.1, Opt: expTestOpt(), EvalEvery: 2, RestartEvery: 1, Seed: 7,
			}
			steps := 0
			res, err := Train(context.Background(), train, scorer, cfg, expTestFactory(opt), func(int, vqvae.Losses) { steps++ })
			if err != nil {
				t.Fatalf("%v/%s: %v", loss, opt, err)
			}
			mt := res.Metrics
			if !res.Finished || res.Steps != 3 || steps != 3 || len(res.Points) != 2 || res.Points[1].Step != 3 || len(res.Samples) != 3 {
				t.Fatalf("%v/%s: result %+v", loss, opt, res)
			}
			for _, v := range []float64{mt.MSE, mt.PSNR, mt.MSEMode, mt.FID, mt.Perplexity, res.Points[0].TestMSE} {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("%v/%s: metrics %+v", loss, opt, mt)
				}
			}
			if (loss == vqvae.CE) == math.IsNaN(mt.BitsPerDim) {
				t.Fatalf("%v: bits/dim %v", loss, mt.BitsPerDim)
			}
			if loss == vqvae.L2 && mt.MSE != mt.MSEMode {
				t.Fatalf("L2 mode MSE %v differs from mean MSE %v", mt.MSEMode, mt.MSE)
			}
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg := Config{Model: vqvae.Config{Loss: vqvae.L2, Hidden: 4, Codes: 8, CodeDim: 3, Batch: 4}, Steps: 3, Opt: expTestOpt(), EvalEvery: 1}
	if res, err := Train(ctx, train, scorer, cfg, expTestFactory("fadam"), nil); !errors.Is(err, context.Canceled) || res.Finished {
		t.Fatalf("cancelled run: %v, %+v", err, res)
	}
	cfg.Steps = 0
	if _, err := Train(context.Background(), train, scorer, cfg, expTestFactory("fadam"), nil); err == nil {
		t.Error("zero steps accepted")
	}
}
