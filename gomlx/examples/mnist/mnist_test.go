package main

import (
	"fmt"
	"testing"

	"github.com/gomlx/gomlx/backends/simplego"
)

// TestTrainMLPSmall trains a small MLP for a few FAdam steps on 512 MNIST images, on GoMLX's pure
// Go backend, and checks that the test loss went down and the accuracy is well above chance.
func TestTrainMLPSmall(t *testing.T) {
	dir, err := defaultDataDir()
	if err != nil {
		t.Fatal(err)
	}
	trainSet, err := loadSet(dir, "train", 512)
	if err != nil {
		t.Fatal(err)
	}
	testSet, err := loadSet(dir, "t10k", 500)
	if err != nil {
		t.Fatal(err)
	}
	// ops_sequential: see goBackend in the fadamgomlx tests (a data race in GoMLX's parallel scheduler).
	backend, err := simplego.New("ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []options{
		{optimizer: "fadam"},
		{optimizer: "fadafactor"},
		{optimizer: "fadam", clipNorm: 1, stateDType: "bfloat16"},
	} {
		o.learningRate, o.weightDecay, o.hidden, o.batchSize, o.steps, o.seed = 3e-3, 1e-3, 32, 32, 40, 1
		res, err := trainMLP(backend, trainSet, testSet, o)
		opt := fmt.Sprintf("%s (clip-norm %g, state %q)", o.optimizer, o.clipNorm, o.stateDType)
		if err != nil {
			t.Fatalf("%s: %v", opt, err)
		}
		t.Logf("%s: test loss %.4f -> %.4f, accuracy %.3f, last gradient norm %.4g", opt, res.initialLoss, res.finalLoss,
			res.accuracy, res.gradientNorm)
		if o.clipNorm > 0 && !(res.gradientNorm > 0) {
			t.Errorf("%s: gradient norm %v", opt, res.gradientNorm)
		}
		if !(res.finalLoss < 0.7*res.initialLoss) || res.accuracy < 0.5 {
			t.Errorf("%s did not learn: test loss %.4f -> %.4f, accuracy %.3f", opt, res.initialLoss, res.finalLoss, res.accuracy)
		}
	}
}
