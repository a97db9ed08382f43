// Package vqvae is the image experiment of the FAdam paper (§3.3.1, §4.3, Fig. 1c) at laptop
// scale: a VQ-VAE on MNIST trained with a 256-way categorical cross-entropy or an L2 loss. Each
// loss is a harness.Task: the experiment harness trains it with every optimizer, learning rate
// and seed under identical hyperparameters, and this package supplies the model, the data and
// the metrics (an FID-style Fréchet distance in the feature space of a small MNIST classifier,
// MSE, PSNR, bits/dim, codebook perplexity) and writes the report.
//
// The data follow the tuned protocol: the VQ-VAE trains on the first 50,000 training images,
// its learning rate is chosen on the 10,000 held out (harness.Validation), and the reported
// numbers come from the 10,000 test images (harness.Test), all of them scored. Curves follow
// the training objective on the first validation images.
package vqvae

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/mnist"
	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/experiment/paramgroup"
	"github.com/fadam-go/fadam/models/mnistcls"
	"github.com/fadam-go/fadam/models/vqvae"
	"github.com/fadam-go/fadam/nn"
)

// OptimizerFactory builds an optimizer for the given hyperparameters.
type OptimizerFactory = paramgroup.Factory

// Config is everything about a task that decides a run's result besides the optimizer, the
// learning rate and the seed. A stored run is reused only when its Config is identical.
type Config struct {
	Model vqvae.Config `json:"model"`
	// RestartEvery > 0 moves the codes that no training batch chose since the previous restart
	// onto encoder outputs of the current batch every RestartEvery steps (dead-code restarts);
	// 0 never does.
	RestartEvery int `json:"restart_every"`
	CurveImages  int `json:"curve_images"` // validation images behind each curve point
	// Data and Classifier identify the images (Data.Fingerprint) and the feature classifier's
	// weights (ClassifierPath's file name).
	Data       string `json:"data"`
	Classifier string `json:"classifier"`
}

// Validate reports what is wrong with c, if anything.
func (c Config) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	switch {
	case c.RestartEvery < 0:
		return fmt.Errorf("vqvae: restart-every must be non-negative, got %d", c.RestartEvery)
	case c.CurveImages <= 0:
		return fmt.Errorf("vqvae: curve images must be positive, got %d", c.CurveImages)
	}
	return nil
}

// Metric names of Evaluate. Every one but PSNR and perplexity is lower-is-better; the tuned
// comparison selects on FID, the paper's metric.
const (
	MetricFID        = "fid"
	MetricMSE        = "mse"
	MetricPSNR       = "psnr"
	MetricMSEMode    = "mse_argmax"
	MetricPSNRMode   = "psnr_argmax"
	MetricBitsPerDim = "bits_per_dim" // CE only
	MetricPerplexity = "perplexity"
	MetricLoss       = "loss" // the training objective, Losses.Total (curve only)
)

// Data is the MNIST data of the experiment: the training images, the validation images held
// out of the training set, and the test images.
type Data struct {
	Train, Validation, Test *mnist.Set
}

// Task is the VQ-VAE with one reconstruction loss on one data set.
type Task struct {
	cfg      Config
	data     Data
	cls      *mnistcls.Model // read only: each run evaluates with its own clone
	val, tst *Scorer
	stop     context.Context // cancels evaluations mid-way (StopOn)
	curve    []byte          // the first CurveImages validation images
	samples  *SampleStore
}

var _ harness.Task = (*Task)(nil)

// NewTask returns the task of cfg on data, scored with cls (whose weights cfg.Classifier
// names). The first samples test reconstructions of each run are kept in store (nil: none).
func NewTask(cfg Config, data Data, cls *mnistcls.Model, store *SampleStore) (*Task, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if data.Train == nil || data.Validation == nil || data.Test == nil {
		return nil, errors.New("vqvae: training, validation and test images are all needed")
	}
	if data.Train.Rows != vqvae.Side || data.Train.Cols != vqvae.Side || data.Train.N < cfg.Model.Batch {
		return nil, fmt.Errorf("vqvae: training set of %d %d×%d images cannot fill batches of %d %d×%d images",
			data.Train.N, data.Train.Rows, data.Train.Cols, cfg.Model.Batch, vqvae.Side, vqvae.Side)
	}
	t := &Task{cfg: cfg, data: data, cls: cls, samples: store, stop: context.Background()}
	var err error
	if t.val, err = NewScorer(cls, data.Validation.Images); err != nil {
		return nil, err
	}
	if t.tst, err = NewScorer(cls, data.Test.Images); err != nil {
		return nil, err
	}
	t.curve = data.Validation.Images[:min(cfg.CurveImages, data.Validation.N)*vqvae.Pixels]
	return t, nil
}

// StopOn makes the task's evaluations stop with ctx's error when ctx is cancelled, so that a
// sweep stopped by Ctrl-C or SIGTERM does not wait for a run's final evaluation (tens of
// seconds for CE on 10,000 images); the run is then left unfinished, as one cut short in
// training is. Call it before the sweep starts.
func (t *Task) StopOn(ctx context.Context) { t.stop = ctx }

// Info describes the task: the final metric is the FID-style score, the curve metric the
// training objective.
func (t *Task) Info() harness.Info {
	return harness.Info{
		Name: "vqvae-" + t.cfg.Model.Loss.String(), Metric: MetricFID, CurveMetric: MetricLoss,
		Covers: map[harness.Split]string{
			harness.Curve:      fmt.Sprintf("the first %d validation images", len(t.curve)/vqvae.Pixels),
			harness.Validation: fmt.Sprintf("all %d validation images (held out of the training set)", t.data.Validation.N),
			harness.Test:       fmt.Sprintf("all %d test images", t.data.Test.N),
		},
	}
}

// Config returns the task's configuration.
func (t *Task) Config() any { return t.cfg }

// Decays is true for every tensor: the paper's VQ-VAE decays them all.
func (t *Task) Decays(*fadam.Param) bool { return true }

// NewModel returns a fresh VQ-VAE initialised from seed, its codebook set from the encodings of
// the first training batch, with its batches and dead-code restarts drawn from seed.
func (t *Task) NewModel(seed uint64) (harness.Model, error) {
	m, err := vqvae.New(t.cfg.Model, seed)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x6261746368))
	r := &run{task: t, seed: seed, m: m, rng: rng, perm: rng.Perm(t.data.Train.N), batch: make([]byte, t.cfg.Model.Batch*vqvae.Pixels)}
	r.next()
	if err := m.InitCodebook(r.batch, seed); err != nil {
		return nil, err
	}
	return r, nil
}

// run is one training run: the model, its batch stream and a twin the evaluations run on, so
// that evaluating never touches the training model's activations or code-usage counts.
type run struct {
	task  *Task
	seed  uint64
	m     *vqvae.Model
	eval  *vqvae.Model
	cls   *mnistcls.Model // the run's own copy of the classifier: its forward pass keeps activations
	rng   *rand.Rand
	perm  []int
	pos   int
	batch []byte
	steps int
}

// next fills r.batch with the next training images: a fresh permutation every epoch.
func (r *run) next() {
	set := r.task.data.Train
	for i := range len(r.batch) / vqvae.Pixels {
		if r.pos == len(r.perm) {
			r.rng.Shuffle(len(r.perm), func(i, j int) { r.perm[i], r.perm[j] = r.perm[j], r.perm[i] })
			r.pos = 0
		}
		copy(r.batch[i*vqvae.Pixels:(i+1)*vqvae.Pixels], set.Image(r.perm[r.pos]))
		r.pos++
	}
}

func (r *run) Params() []*fadam.Param { return r.m.Params() }

// TrainStep restarts dead codes when a restart is due after the previous step, then computes
// the objective of the next batch and its gradients.
func (r *run) TrainStep() (float64, error) {
	if every := r.task.cfg.RestartEvery; every > 0 && r.steps > 0 && r.steps%every == 0 {
		r.m.RestartDeadCodes(r.rng) // on the previous batch's encodings, still in the model
	}
	r.next()
	l, err := r.m.Forward(r.batch)
	if err != nil {
		return 0, err
	}
	r.steps++
	if !finite(l.Total) {
		return l.Total, nil // the harness records the divergence
	}
	nn.ZeroGrads(r.m.Params())
	r.m.Backward()
	return l.Total, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// twin returns the evaluation model holding the training model's current parameters.
func (r *run) twin() (*vqvae.Model, error) {
	if r.eval == nil {
		e, err := vqvae.New(r.m.Cfg, r.seed)
		if err != nil {
			return nil, err
		}
		r.eval = e
	}
	src, dst := r.m.Params(), r.eval.Params()
	for i := range src {
		copy(dst[i].Value, src[i].Value)
	}
	return r.eval, nil
}

// Evaluate returns the training objective on the curve images, or every metric on the
// validation or test images. The test evaluation keeps the first reconstructions in the
// task's sample store.
func (r *run) Evaluate(split harness.Split) (harness.Metrics, error) {
	m, err := r.twin()
	if err != nil {
		return nil, err
	}
	switch split {
	case harness.Curve:
		l, err := meanLoss(r.task.stop, m, r.task.curve)
		if err != nil {
			return nil, err
		}
		return harness.Metrics{MetricLoss: l}, nil
	}
	if r.cls == nil {
		if r.cls, err = r.task.cls.Clone(); err != nil {
			return nil, err
		}
	}
	if split == harness.Validation {
		mt, _, err := r.task.val.Evaluate(r.task.stop, m, r.cls, 0)
		return mt, err
	}
	keep := 0
	if r.task.samples != nil {
		keep = r.task.samples.N
	}
	mt, samples, err := r.task.tst.Evaluate(r.task.stop, m, r.cls, keep)
	if err != nil {
		return nil, err
	}
	if r.task.samples != nil {
		if err := r.task.samples.Put(r.task.Info().Name, r.seed, mt, samples); err != nil {
			return nil, err
		}
	}
	return mt, nil
}

// meanLoss is the mean training objective of m over images.
func meanLoss(ctx context.Context, m *vqvae.Model, images []byte) (float64, error) {
	n := len(images) / vqvae.Pixels
	var sum float64
	for lo := 0; lo < n; lo += m.Cfg.Batch {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		hi := min(lo+m.Cfg.Batch, n)
		l, err := m.Forward(images[lo*vqvae.Pixels : hi*vqvae.Pixels])
		if err != nil {
			return 0, err
		}
		sum += l.Total * float64(hi-lo)
	}
	return sum / float64(n), nil
}

// Scorer holds what an evaluation compares against: the images and the statistics of their
// features under the classifier whose features define the FID-style score. It is read only
// once made, so runs in parallel share it, each with its own copy of the classifier.
type Scorer struct {
	Images []byte // 784 bytes each
	real   Stats
}

// NewScorer prepares the evaluation of images (784 bytes each) with the classifier cls.
func NewScorer(cls *mnistcls.Model, images []byte) (*Scorer, error) {
	n := len(images) / vqvae.Pixels
	if n < 2 || len(images)%vqvae.Pixels != 0 {
		return nil, fmt.Errorf("vqvae: need at least two whole evaluation images, got %d bytes", len(images))
	}
	s := &Scorer{Images: images}
	x := make([]float32, len(images))
	mnistcls.Pixels01(x, images)
	var err error
	if s.real, err = featureStats(cls, x); err != nil {
		return nil, err
	}
	return s, nil
}

// N is the number of images.
func (s *Scorer) N() int { return len(s.Images) / vqvae.Pixels }

// featureStats returns the statistics of the features of x (images in [0, 1]) under cls.
func featureStats(cls *mnistcls.Model, x []float32) (Stats, error) {
	n := len(x) / vqvae.Pixels
	feats := make([]float32, n*mnistcls.Features)
	b := cls.Batch
	for lo := 0; lo < n; lo += b {
		hi := min(lo+b, n)
		if err := cls.Features(feats[lo*mnistcls.Features:hi*mnistcls.Features], x[lo*vqvae.Pixels:hi*vqvae.Pixels]); err != nil {
			return Stats{}, err
		}
	}
	return FeatureStats(feats, n, mnistcls.Features)
}

// psnr is the peak signal-to-noise ratio of pixel values in [0, 1], from the mean squared error.
func psnr(mse float64) float64 { return 10 * math.Log10(1/mse) }

// reconstructAll runs the model over images and returns the mean and mode reconstructions, the
// mean reconstruction loss, and the codes used.
func reconstructAll(ctx context.Context, m *vqvae.Model, images []byte) (mean, mode []float32, recon float64, codes []int32, err error) {
	n := len(images) / vqvae.Pixels
	mean, mode = make([]float32, len(images)), make([]float32, len(images))
	b := m.Cfg.Batch
	var sum float64
	for lo := 0; lo < n; lo += b {
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, nil, err
		}
		hi := min(lo+b, n)
		l, err := m.Forward(images[lo*vqvae.Pixels : hi*vqvae.Pixels])
		if err != nil {
			return nil, nil, 0, nil, err
		}
		sum += l.Recon * float64(hi-lo)
		m.Reconstruct(mean[lo*vqvae.Pixels:hi*vqvae.Pixels], mode[lo*vqvae.Pixels:hi*vqvae.Pixels])
		codes = append(codes, m.Codes()...)
	}
	return mean, mode, sum / float64(n), codes, nil
}

// mse is the mean squared difference between rec (values in [0, 1]) and images (bytes).
func mse(rec []float32, images []byte) float64 {
	var s float64
	for i, p := range images {
		d := float64(rec[i]) - float64(p)/255
		s += d * d
	}
	return s / float64(len(images))
}

// Evaluate scores m on all the scorer's images, with features from cls (the classifier the
// scorer was made with, or a clone), and returns the metrics with the mean reconstructions of
// the first keep images. It stops with ctx's error when ctx is cancelled.
func (s *Scorer) Evaluate(ctx context.Context, m *vqvae.Model, cls *mnistcls.Model, keep int) (harness.Metrics, [][]float32, error) {
	mean, mode, recon, codes, err := reconstructAll(ctx, m, s.Images)
	if err != nil {
		return nil, nil, err
	}
	mt := harness.Metrics{MetricMSE: mse(mean, s.Images), MetricMSEMode: mse(mode, s.Images)}
	mt[MetricPSNR], mt[MetricPSNRMode] = psnr(mt[MetricMSE]), psnr(mt[MetricMSEMode])
	if m.Cfg.Loss == vqvae.CE {
		mt[MetricBitsPerDim] = recon / math.Ln2
	}
	mt[MetricPerplexity] = nn.VQPerplexity(codes, m.Cfg.Codes)
	mt[MetricFID] = math.NaN() // a diverged model's: the harness reports the run as diverged
	if finite(mt[MetricMSE]) {
		st, err := featureStats(cls, mean)
		if err != nil {
			return nil, nil, err
		}
		if mt[MetricFID], err = FrechetDistance(s.real, st); err != nil {
			return nil, nil, err
		}
	}
	samples := make([][]float32, min(keep, s.N()))
	for i := range samples {
		samples[i] = mean[i*vqvae.Pixels : (i+1)*vqvae.Pixels]
	}
	return mt, samples, nil
}
