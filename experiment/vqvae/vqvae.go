// Package vqvae runs the image experiment of the FAdam paper (§3.3.1, §4.3, Fig. 1c) at laptop
// scale: a VQ-VAE on MNIST trained with a 256-way categorical cross-entropy or an L2 loss, by
// FAdam or AdamW with the same hyperparameters, and scored on test images by MSE, PSNR,
// bits/dim and an FID-style Fréchet distance in the feature space of a small MNIST classifier.
// It is the engine of `fadam vqvae`.
package vqvae

import (
	"context"
	"fmt"
	"github.com/fadam-go/fadam/experiment/paramgroup"
	"math"
	"math/rand/v2"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/mnist"
	"github.com/fadam-go/fadam/models/mnistcls"
	"github.com/fadam-go/fadam/models/vqvae"
	"github.com/fadam-go/fadam/nn"
	"github.com/fadam-go/fadam/schedule"
)

// OptimizerFactory builds an optimizer for the given hyperparameters.
type OptimizerFactory func(fadam.Config) (fadam.Stepper, error)

// LRSetter is implemented by optimizers whose learning rate can change between steps; Train
// needs it to follow its warmup-cosine schedule.
type LRSetter = paramgroup.LRSetter

// ErrNoLRSetter is wrapped by Train's error for an optimizer without SetLR.
var ErrNoLRSetter = paramgroup.ErrNoLRSetter

// Config describes one training run.
type Config struct {
	Model     vqvae.Config
	Steps     int          // optimizer steps
	Warmup    int          // linear warmup steps (capped at Steps−1)
	MinLRFrac float64      // the cosine decay ends at MinLRFrac·Opt.LR
	Opt       fadam.Config // hyperparameters; Opt.LR is the peak learning rate
	EvalEvery int          // measure the curve's test MSE every EvalEvery steps, and after the last
	// RestartEvery > 0 moves the codes unused by training batches since the previous restart or
	// curve point onto encoder outputs of the current batch every RestartEvery steps (dead-code
	// restarts); 0 never does.
	RestartEvery int
	Seed         uint64 // model initialisation, codebook initialisation and batch order
}

// Validate reports what is wrong with c, if anything.
func (c Config) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	switch {
	case c.Steps <= 0:
		return fmt.Errorf("vqvae: steps must be positive, got %d", c.Steps)
	case c.Warmup < 0:
		return fmt.Errorf("vqvae: warmup must be non-negative, got %d", c.Warmup)
	case c.RestartEvery < 0:
		return fmt.Errorf("vqvae: restart-every must be non-negative, got %d", c.RestartEvery)
	case c.EvalEvery <= 0:
		return fmt.Errorf("vqvae: eval-every must be positive, got %d", c.EvalEvery)
	case !(c.Opt.LR > 0) || math.IsInf(c.Opt.LR, 0):
		return fmt.Errorf("vqvae: learning rate must be positive and finite, got %v", c.Opt.LR)
	case c.MinLRFrac < 0 || c.MinLRFrac > 1:
		return fmt.Errorf("vqvae: min-lr fraction must be in [0, 1], got %v", c.MinLRFrac)
	}
	return nil
}

// Point is one point of the training curves.
type Point struct {
	Step      int
	TrainLoss float64 // mean training objective (Losses.Total) since the previous point
	TestMSE   float64 // MSE of the mean reconstruction on the curve images
}

// Metrics are the scores of a trained model on the evaluation images.
type Metrics struct {
	MSE, PSNR         float64 // mean decoding: L2 output clamped to [0, 1], or CE expected value
	MSEMode, PSNRMode float64 // CE decoded by its most probable value (equal to MSE, PSNR for L2)
	BitsPerDim        float64 // CE only: cross-entropy in bits per pixel (NaN for L2)
	FID               float64 // Fréchet distance of classifier features, real vs mean reconstructions
	Perplexity        float64 // exp entropy of the codebook usage over the evaluation images
}

// Result is what a run produced, complete or not.
type Result struct {
	Points     []Point
	Steps      int // optimizer steps completed
	DivergedAt int // step whose loss was NaN or Inf; 0 if none
	TrainTime  time.Duration
	Params     int
	Restarts   int     // codes moved by dead-code restarts
	Metrics    Metrics // zero unless the run finished
	Finished   bool    // Steps reached Config.Steps and the evaluation ran
	// Samples holds the mean reconstructions of the first Scorer.Samples evaluation images,
	// 784 values in [0, 1] each.
	Samples [][]float32
}

// Diverged reports whether the run stopped on a NaN or Inf loss.
func (r Result) Diverged() bool { return r.DivergedAt > 0 }

// Scorer holds what the evaluation compares against: the evaluation images, the classifier
// whose features define the FID-style score, and the statistics of the real images' features.
type Scorer struct {
	Images  []byte // evaluation images, 784 bytes each
	Curve   int    // the first Curve images are also measured during training
	Samples int    // reconstructions of the first Samples images kept for the image grid
	cls     *mnistcls.Model
	real    Stats
}

// NewScorer prepares the evaluation of images (784 bytes each) with the classifier cls.
func NewScorer(cls *mnistcls.Model, images []byte, curve, samples int) (*Scorer, error) {
	n := len(images) / vqvae.Pixels
	if n < 2 || len(images)%vqvae.Pixels != 0 {
		return nil, fmt.Errorf("vqvae: need at least two whole evaluation images, got %d bytes", len(images))
	}
	s := &Scorer{Images: images, Curve: min(max(curve, 1), n), Samples: min(samples, n), cls: cls}
	x := make([]float32, len(images))
	mnistcls.Pixels01(x, images)
	var err error
	if s.real, err = s.featureStats(x); err != nil {
		return nil, err
	}
	return s, nil
}

// featureStats returns the statistics of the classifier features of x (images in [0, 1]).
func (s *Scorer) featureStats(x []float32) (Stats, error) {
	n := len(x) / vqvae.Pixels
	feats := make([]float32, n*mnistcls.Features)
	b := s.cls.Batch
	for lo := 0; lo < n; lo += b {
		hi := min(lo+b, n)
		if err := s.cls.Features(feats[lo*mnistcls.Features:hi*mnistcls.Features], x[lo*vqvae.Pixels:hi*vqvae.Pixels]); err != nil {
			return Stats{}, err
		}
	}
	return FeatureStats(feats, n, mnistcls.Features)
}

// psnr is the peak signal-to-noise ratio of pixel values in [0, 1], from the mean squared error.
func psnr(mse float64) float64 { return 10 * math.Log10(1/mse) }

// reconstructAll runs the model over the first n evaluation images and returns the mean and
// mode reconstructions, the mean reconstruction loss, and the codes used.
func reconstructAll(m *vqvae.Model, images []byte, n int) (mean, mode []float32, recon float64, codes []int32, err error) {
	mean, mode = make([]float32, n*vqvae.Pixels), make([]float32, n*vqvae.Pixels)
	b := m.Cfg.Batch
	var sum float64
	for lo := 0; lo < n; lo += b {
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

// Evaluate scores m on all evaluation images.
func (s *Scorer) Evaluate(m *vqvae.Model) (Metrics, [][]float32, error) {
	n := len(s.Images) / vqvae.Pixels
	mean, mode, recon, codes, err := reconstructAll(m, s.Images, n)
	if err != nil {
		return Metrics{}, nil, err
	}
	var mt Metrics
	mt.MSE, mt.MSEMode = mse(mean, s.Images), mse(mode, s.Images)
	mt.PSNR, mt.PSNRMode = psnr(mt.MSE), psnr(mt.MSEMode)
	mt.BitsPerDim = math.NaN()
	if m.Cfg.Loss == vqvae.CE {
		mt.BitsPerDim = recon / math.Ln2
	}
	mt.Perplexity = nn.VQPerplexity(codes, m.Cfg.Codes)
	st, err := s.featureStats(mean)
	if err != nil {
		return Metrics{}, nil, err
	}
	if mt.FID, err = FrechetDistance(s.real, st); err != nil {
		return Metrics{}, nil, err
	}
	samples := make([][]float32, s.Samples)
	for i := range samples {
		samples[i] = mean[i*vqvae.Pixels : (i+1)*vqvae.Pixels]
	}
	return mt, samples, nil
}

// curveMSE is the MSE of the mean reconstruction of the first Curve evaluation images.
func (s *Scorer) curveMSE(m *vqvae.Model) (float64, error) {
	mean, _, _, _, err := reconstructAll(m, s.Images, s.Curve)
	if err != nil {
		return 0, err
	}
	return mse(mean, s.Images[:s.Curve*vqvae.Pixels]), nil
}

// batcher draws training batches: a fresh permutation of the set every epoch.
type batcher struct {
	set  *mnist.Set
	rng  *rand.Rand
	perm []int
	pos  int
}

func (b *batcher) next(dst []byte) {
	for i := range len(dst) / vqvae.Pixels {
		if b.pos == len(b.perm) {
			b.rng.Shuffle(len(b.perm), func(i, j int) { b.perm[i], b.perm[j] = b.perm[j], b.perm[i] })
			b.pos = 0
		}
		copy(dst[i*vqvae.Pixels:(i+1)*vqvae.Pixels], b.set.Image(b.perm[b.pos]))
		b.pos++
	}
}

// Train trains a fresh model (initialised from cfg.Seed) on train with the optimizer newOpt
// builds from cfg.Opt, following a linear-warmup cosine schedule, and scores it with scorer.
// Every tensor takes the same weight decay. onStep, if not nil, is called after every step.
//
// A NaN or Inf loss ends the run early with Result.DivergedAt set and a nil error. When ctx is
// cancelled, Train returns what it finished and ctx's error.
func Train(ctx context.Context, train *mnist.Set, scorer *Scorer, cfg Config, newOpt OptimizerFactory, onStep func(step int, l vqvae.Losses)) (Result, error) {
	var res Result
	if err := cfg.Validate(); err != nil {
		return res, err
	}
	if train.Rows != vqvae.Side || train.Cols != vqvae.Side || train.N < cfg.Model.Batch {
		return res, fmt.Errorf("vqvae: training set of %d %d×%d images cannot fill batches of %d %d×%d images", train.N, train.Rows, train.Cols, cfg.Model.Batch, vqvae.Side, vqvae.Side)
	}
	m, err := vqvae.New(cfg.Model, cfg.Seed)
	if err != nil {
		return res, err
	}
	ps := m.Params()
	res.Params = nn.Count(ps)
	sched, err := schedule.WarmupCosine(cfg.Opt.LR, cfg.Opt.LR*cfg.MinLRFrac, min(cfg.Warmup, cfg.Steps-1), cfg.Steps)
	if err != nil {
		return res, fmt.Errorf("vqvae: %w", err)
	}
	// Weight decay applies to every tensor here, so the optimizer steps one group.
	opt, err := paramgroup.New(ps, func(*fadam.Param) bool { return true }, cfg.Opt, newOpt)
	if err != nil {
		return res, fmt.Errorf("vqvae: %w", err)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6261746368))
	bt := &batcher{set: train, rng: rng, perm: rng.Perm(train.N)}
	batch := make([]byte, cfg.Model.Batch*vqvae.Pixels)
	bt.next(batch)
	if err := m.InitCodebook(batch, cfg.Seed); err != nil {
		return res, err
	}
	var sinceEval float64
	var nSince int
	for step := 1; step <= cfg.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		t0 := time.Now()
		bt.next(batch)
		l, err := m.Forward(batch)
		if err != nil {
			return res, err
		}
		if math.IsNaN(l.Total) || math.IsInf(l.Total, 0) {
			res.DivergedAt = step
			return res, nil
		}
		nn.ZeroGrads(ps)
		m.Backward()
		if err := opt.Step(sched.LR(step)); err != nil {
			return res, fmt.Errorf("vqvae: step %d: %w", step, err)
		}
		res.TrainTime += time.Since(t0)
		res.Steps = step
		sinceEval += l.Total
		nSince++
		if onStep != nil {
			onStep(step, l)
		}
		if cfg.RestartEvery > 0 && step%cfg.RestartEvery == 0 && step < cfg.Steps {
			res.Restarts += m.RestartDeadCodes(rng)
		}
		if step%cfg.EvalEvery == 0 || step == cfg.Steps {
			e, err := scorer.curveMSE(m)
			if err != nil {
				return res, err
			}
			m.VQ.ResetUsage() // test images do not keep codes alive
			res.Points = append(res.Points, Point{Step: step, TrainLoss: sinceEval / float64(nSince), TestMSE: e})
			sinceEval, nSince = 0, 0
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if res.Metrics, res.Samples, err = scorer.Evaluate(m); err != nil {
		return res, err
	}
	res.Finished = true
	return res, nil
}
