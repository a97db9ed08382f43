// Package mnistcls is a small convolutional MNIST classifier whose penultimate-layer features
// serve as the feature space of the VQ-VAE experiment's FID-style score (the Fréchet distance
// between feature statistics of real and reconstructed digits), in the role Inception plays for
// FID.
//
// Architecture (NHWC): conv 4×4/2 1→16, ReLU (14×14) · conv 4×4/2 16→32, ReLU (7×7) ·
// linear 1568→128, ReLU (the features) · linear 128→10 · softmax cross-entropy.
package mnistcls

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/mnist"
	"github.com/fadam-go/fadam/internal/safetensors"
	"github.com/fadam-go/fadam/nn"
)

// Sizes of the network.
const (
	Side     = mnist.Side
	Pixels   = Side * Side
	Features = 128 // width of the penultimate layer
	Classes  = 10
	c1, c2   = 16, 32
	flat     = 7 * 7 * c2
)

// Arch names the architecture in saved files, so weights of another shape are never loaded.
const Arch = "mnistcls-v1: conv4x4s2(1,16) relu conv4x4s2(16,32) relu linear(1568,128) relu linear(128,10)"

// Model is the classifier with activations preallocated for up to Batch images.
type Model struct {
	Batch int

	conv1, conv2 *nn.Conv2D
	fc1, fc2     *nn.Linear
	relu         nn.ReLU
	xent         *nn.SoftmaxCrossEntropy

	b                        int
	x, h1, h2, feat, logits  []float32
	probs                    []float32
	labels                   []int32
	dlogits, dfeat, dh2, dh1 []float32
	dpre                     []float32
}

// New returns a classifier for batches of up to batch images, He-initialised from seed.
func New(batch int, seed uint64) (*Model, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("mnistcls: batch must be positive, got %d", batch)
	}
	m := &Model{Batch: batch}
	var err error
	if m.conv1, err = nn.NewConv2D("conv1", 1, c1, 4, 2, 1); err != nil {
		return nil, err
	}
	if m.conv2, err = nn.NewConv2D("conv2", c1, c2, 4, 2, 1); err != nil {
		return nil, err
	}
	m.fc1 = nn.NewLinear("fc1", flat, Features, true)
	m.fc2 = nn.NewLinear("fc2", Features, Classes, true)
	m.xent = nn.NewSoftmaxCrossEntropy(Classes, batch)
	rng := rand.New(rand.NewPCG(seed, 0x636c73))
	nn.InitNormal(m.conv1.W.Value, nn.HeStd(16), rng)
	nn.InitNormal(m.conv2.W.Value, nn.HeStd(16*c1), rng)
	nn.InitNormal(m.fc1.W.Value, nn.HeStd(flat), rng)
	nn.InitNormal(m.fc2.W.Value, 1/math.Sqrt(Features), rng)
	f := func(n int) []float32 { return make([]float32, n) }
	m.x, m.h1, m.h2, m.feat, m.logits = f(batch*Pixels), f(batch*196*c1), f(batch*flat), f(batch*Features), f(batch*Classes)
	m.probs, m.labels = f(batch*Classes), make([]int32, batch)
	m.dlogits, m.dfeat, m.dh2, m.dh1, m.dpre = f(batch*Classes), f(batch*Features), f(batch*flat), f(batch*196*c1), f(batch*196*c1)
	return m, nil
}

// Params returns every trainable tensor.
func (m *Model) Params() []*fadam.Param {
	var ps []*fadam.Param
	ps = append(ps, m.conv1.Params()...)
	ps = append(ps, m.conv2.Params()...)
	ps = append(ps, m.fc1.Params()...)
	return append(ps, m.fc2.Params()...)
}

// forward runs the network on x (b·784 pixels in [0, 1]) up to the logits.
func (m *Model) forward(x []float32) (int, error) {
	if len(x) == 0 || len(x)%Pixels != 0 || len(x)/Pixels > m.Batch {
		return 0, fmt.Errorf("mnistcls: %d values is not a batch of 1–%d images of %d pixels", len(x), m.Batch, Pixels)
	}
	b := len(x) / Pixels
	m.b = b
	copy(m.x, x)
	m.conv1.Forward(m.h1, m.x, b, Side, Side)
	m.relu.Forward(m.h1[:b*196*c1], m.h1)
	m.conv2.Forward(m.h2, m.h1, b, Side/2, Side/2)
	m.relu.Forward(m.h2[:b*flat], m.h2)
	m.fc1.Forward(m.feat, m.h2, b)
	m.relu.Forward(m.feat[:b*Features], m.feat)
	m.fc2.Forward(m.logits, m.feat, b)
	return b, nil
}

// Features writes the penultimate-layer features of x (b·784 pixels in [0, 1]) to
// feat[b·Features].
func (m *Model) Features(feat, x []float32) error {
	b, err := m.forward(x)
	if err != nil {
		return err
	}
	copy(feat, m.feat[:b*Features])
	return nil
}

// Predict writes the most probable class of each image of x to classes.
func (m *Model) Predict(classes []int, x []float32) error {
	b, err := m.forward(x)
	if err != nil {
		return err
	}
	for i := range b {
		row := m.logits[i*Classes : (i+1)*Classes]
		best := 0
		for c, v := range row {
			if v > row[best] {
				best = c
			}
		}
		classes[i] = best
	}
	return nil
}

// Loss runs the network on x with the given labels and returns the mean cross-entropy,
// keeping the activations for Backward.
func (m *Model) Loss(x []float32, labels []byte) (float64, error) {
	b, err := m.forward(x)
	if err != nil {
		return 0, err
	}
	if len(labels) != b {
		return 0, fmt.Errorf("mnistcls: %d labels for %d images", len(labels), b)
	}
	for i, l := range labels {
		if l >= Classes {
			return 0, fmt.Errorf("mnistcls: label %d of image %d is not a digit", l, i)
		}
		m.labels[i] = int32(l)
	}
	return m.xent.Forward(m.probs, m.logits, m.labels, b), nil
}

// Backward accumulates into the parameter gradients the gradient of the last Loss.
func (m *Model) Backward() {
	b := m.b
	dl := m.dlogits[:b*Classes]
	clear(dl)
	m.xent.Backward(dl, m.probs, m.labels, b)
	df, dh2, dh1 := m.dfeat[:b*Features], m.dh2[:b*flat], m.dh1[:b*196*c1]
	clear(df)
	m.fc2.Backward(df, dl, m.feat, b)
	dpre := m.dpre[:b*Features]
	clear(dpre)
	m.relu.Backward(dpre, df, m.feat)
	clear(dh2)
	m.fc1.Backward(dh2, dpre, m.h2, b)
	dpre = m.dpre[:b*flat]
	clear(dpre)
	m.relu.Backward(dpre, dh2, m.h2)
	clear(dh1)
	m.conv2.Backward(dh1, dpre, m.h1, b, Side/2, Side/2)
	dpre = m.dpre[:b*196*c1]
	clear(dpre)
	m.relu.Backward(dpre, dh1, m.h1)
	m.conv1.Backward(nil, dpre, m.x, b, Side, Side)
}

// Pixels01 converts image bytes to values in [0, 1], the classifier's input scale.
func Pixels01(dst []float32, images []byte) {
	for i, p := range images {
		dst[i] = float32(p) / 255
	}
}

// TrainConfig describes a training run of the classifier.
type TrainConfig struct {
	Steps int    // optimizer steps
	Seed  uint64 // order of the training examples
}

// Train runs cfg.Steps steps of opt on batches of m.Batch images drawn from set (reshuffled
// every epoch), and returns the mean loss of the last 100 steps. It stops with ctx's error when
// ctx is cancelled.
func (m *Model) Train(ctx context.Context, set *mnist.Set, cfg TrainConfig, opt fadam.Stepper) (float64, error) {
	if set.N < m.Batch {
		return 0, fmt.Errorf("mnistcls: %d training images is fewer than a batch of %d", set.N, m.Batch)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x74726e))
	perm := rng.Perm(set.N)
	pos := 0
	x := make([]float32, m.Batch*Pixels)
	images, labels := make([]byte, m.Batch*Pixels), make([]byte, m.Batch)
	ps := m.Params()
	vals := nn.Values(ps)
	var recent []float64
	for step := range cfg.Steps {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		for i := range m.Batch {
			if pos == set.N {
				rng.Shuffle(len(perm), func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
				pos = 0
			}
			copy(images[i*Pixels:(i+1)*Pixels], set.Image(perm[pos]))
			labels[i] = set.Labels[perm[pos]]
			pos++
		}
		Pixels01(x, images)
		loss, err := m.Loss(x, labels)
		if err != nil {
			return 0, err
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return 0, fmt.Errorf("mnistcls: training diverged at step %d (loss %v)", step+1, loss)
		}
		nn.ZeroGrads(ps)
		m.Backward()
		if err := opt.Step(vals); err != nil {
			return 0, fmt.Errorf("mnistcls: step %d: %w", step+1, err)
		}
		if cfg.Steps-step <= 100 {
			recent = append(recent, loss)
		}
	}
	var s float64
	for _, l := range recent {
		s += l
	}
	return s / float64(max(len(recent), 1)), nil
}

// Accuracy returns the fraction of set classified correctly.
func (m *Model) Accuracy(set *mnist.Set) (float64, error) {
	x := make([]float32, m.Batch*Pixels)
	classes := make([]int, m.Batch)
	correct := 0
	for lo := 0; lo < set.N; lo += m.Batch {
		hi := min(lo+m.Batch, set.N)
		Pixels01(x, set.Images[lo*Pixels:hi*Pixels])
		if err := m.Predict(classes, x[:(hi-lo)*Pixels]); err != nil {
			return 0, err
		}
		for i := range hi - lo {
			if classes[i] == int(set.Labels[lo+i]) {
				correct++
			}
		}
	}
	return float64(correct) / float64(set.N), nil
}

// Metadata keys of saved weights.
const (
	archKey     = "arch"
	accuracyKey = "test_accuracy"
)

// ErrIncompatible is wrapped by Load's error when a file holds weights of another architecture.
var ErrIncompatible = errors.New("mnistcls: weights of another architecture")

// Save writes the weights to path as safetensors, recording the test accuracy in the metadata.
func (m *Model) Save(path string, testAccuracy float64) error {
	var ts []safetensors.Tensor
	for _, p := range m.Params() {
		ts = append(ts, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Value})
	}
	meta := map[string]string{archKey: Arch, accuracyKey: strconv.FormatFloat(testAccuracy, 'f', 6, 64)}
	if err := safetensors.WriteFile(path, ts, meta); err != nil {
		return fmt.Errorf("mnistcls: %w", err)
	}
	return nil
}

// Load reads weights written by Save into m and returns the test accuracy recorded with them.
// It fails, wrapping ErrIncompatible, when the file is of another architecture, and with the
// reader's error when it is unreadable or corrupt.
func (m *Model) Load(path string) (float64, error) {
	ts, meta, err := safetensors.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("mnistcls: %w", err)
	}
	if meta[archKey] != Arch {
		return 0, fmt.Errorf("%w: %s has arch %q", ErrIncompatible, path, meta[archKey])
	}
	acc, err := strconv.ParseFloat(meta[accuracyKey], 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: bad %s: %w", ErrIncompatible, path, accuracyKey, err)
	}
	byName := map[string]safetensors.Tensor{}
	for _, t := range ts {
		byName[t.Name] = t
	}
	ps := m.Params()
	if len(ts) != len(ps) {
		return 0, fmt.Errorf("%w: %s holds %d tensors, want %d", ErrIncompatible, path, len(ts), len(ps))
	}
	for _, p := range ps {
		t, ok := byName[p.Name]
		if !ok || len(t.Data) != len(p.Value) {
			return 0, fmt.Errorf("%w: %s: tensor %s missing or of the wrong size", ErrIncompatible, path, p.Name)
		}
		for _, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return 0, fmt.Errorf("%w: %s: tensor %s holds a non-finite value", ErrIncompatible, path, p.Name)
			}
		}
	}
	for _, p := range ps {
		copy(p.Value, byName[p.Name].Data)
	}
	return acc, nil
}

// Clone returns a model with m's batch size and a copy of its weights. A forward pass keeps
// its activations in the model, so goroutines that evaluate in parallel each need their own.
func (m *Model) Clone() (*Model, error) {
	c, err := New(m.Batch, 0)
	if err != nil {
		return nil, err
	}
	src, dst := m.Params(), c.Params()
	for i := range src {
		copy(dst[i].Value, src[i].Value)
	}
	return c, nil
}
