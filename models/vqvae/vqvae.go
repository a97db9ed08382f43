// Package vqvae is a small convolutional VQ-VAE for 28×28 greyscale images whose decoder either
// regresses each pixel (L2 loss) or predicts it as a 256-way categorical distribution
// (cross-entropy), the comparison of the FAdam paper's §3.3.1 and §4.3.
//
// Architecture (NHWC activations, H = Config.Hidden):
//
//	encoder: conv 4×4/2 1→H, ReLU (14×14) · conv 4×4/2 H→H, ReLU (7×7) · conv 1×1 H→D
//	quantizer: K codes of D dimensions on the 7×7 grid, straight-through, β-commitment
//	decoder: conv 3×3 D→H, ReLU · convT 4×4/2 H→H, ReLU (14×14) · convT 4×4/2 H→H/2, ReLU (28×28)
//	         · conv 1×1 H/2→1 (L2) or H/2→256 (CE)
//
// Both losses share every layer but the width of the last one.
package vqvae

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/nn"
)

// Loss selects the reconstruction loss and the decoder's output.
type Loss int

const (
	// L2 regresses each pixel in [0, 1] with the mean squared error.
	L2 Loss = iota
	// CE predicts each pixel's byte value with a 256-way softmax and the cross-entropy.
	CE
)

// String returns "l2" or "ce".
func (l Loss) String() string {
	if l == CE {
		return "ce"
	}
	return "l2"
}

// ParseLoss parses "l2" or "ce".
func ParseLoss(s string) (Loss, error) {
	switch s {
	case "l2":
		return L2, nil
	case "ce":
		return CE, nil
	}
	return 0, fmt.Errorf("vqvae: unknown loss %q (want l2 or ce)", s)
}

// Side is the image width and height; Pixels the number of pixels per image.
const (
	Side   = 28
	Pixels = Side * Side
	grid   = Side / 4 // the latent grid is 7×7
	levels = 256      // pixel values of the CE decoder
)

// Config describes a model.
type Config struct {
	Loss    Loss
	Hidden  int     // channels of the hidden convolutions (even)
	Codes   int     // codebook size K
	CodeDim int     // code dimension D
	Beta    float64 // commitment weight β
	Batch   int     // largest batch Forward accepts
}

// DefaultConfig returns the model of `fadam vqvae`: 32 hidden channels, 128 codes × 16
// dimensions, β = 0.25.
func DefaultConfig(loss Loss, batch int) Config {
	return Config{Loss: loss, Hidden: 32, Codes: 128, CodeDim: 16, Beta: 0.25, Batch: batch}
}

// Validate reports what is wrong with c, if anything.
func (c Config) Validate() error {
	switch {
	case c.Loss != L2 && c.Loss != CE:
		return fmt.Errorf("vqvae: unknown loss %d", c.Loss)
	case c.Hidden < 2 || c.Hidden%2 != 0:
		return fmt.Errorf("vqvae: hidden channels must be even and ≥ 2, got %d", c.Hidden)
	case c.Codes <= 0 || c.CodeDim <= 0:
		return fmt.Errorf("vqvae: codebook must be positive, got %d×%d", c.Codes, c.CodeDim)
	case !(c.Beta >= 0) || math.IsInf(c.Beta, 0):
		return fmt.Errorf("vqvae: commitment weight must be finite and ≥ 0, got %v", c.Beta)
	case c.Batch <= 0:
		return fmt.Errorf("vqvae: batch must be positive, got %d", c.Batch)
	}
	return nil
}

// Losses is the outcome of one forward pass.
type Losses struct {
	Recon float64 // mean reconstruction loss per pixel: squared error, or nats for CE
	VQ    float64 // mean((z_e − z_q)²): the codebook loss (the commitment loss is β times it)
	Total float64 // Recon + (1+β)·VQ, the objective being minimised
}

// Model is a VQ-VAE with preallocated activations for up to Config.Batch images.
type Model struct {
	Cfg Config

	enc1, enc2, enc3 *nn.Conv2D
	VQ               *nn.VectorQuantizer
	dec1             *nn.Conv2D
	dec2, dec3       *nn.ConvTranspose2D
	head             *nn.Conv2D
	relu             nn.ReLU
	xent             *nn.SoftmaxCrossEntropy

	b                        int       // batch of the last Forward
	x                        []float32 // input in [0, 1]
	targets                  []int32   // pixel bytes, for CE
	h1, h2, ze, zq           []float32 // encoder activations (h1, h2 after ReLU)
	idx                      []int32   // code of each latent position
	d1, d2, d3, out, probs   []float32 // decoder activations (d1–d3 after ReLU); probs for CE
	dout, dd3, dd2, dd1, dzq []float32 // gradients of the decoder activations
	dze, dh2, dh1, dpre      []float32 // gradients of the encoder activations; dpre is scratch

	// identityVQ makes the quantizer pass z_e through unchanged (tests only: the straight-
	// through gradient is then the exact gradient, so the whole chain can be checked).
	identityVQ bool
}

// New returns a model with He-initialised weights drawn from seed and a zero codebook (call
// InitCodebook before training).
func New(cfg Config, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h, d, b := cfg.Hidden, cfg.CodeDim, cfg.Batch
	outC := 1
	if cfg.Loss == CE {
		outC = levels
	}
	m := &Model{Cfg: cfg}
	var err error
	mk := func(name string, in, out, k, s, p int) *nn.Conv2D {
		var c *nn.Conv2D
		if err == nil {
			c, err = nn.NewConv2D(name, in, out, k, s, p)
		}
		return c
	}
	mkT := func(name string, in, out, k, s, p int) *nn.ConvTranspose2D {
		var c *nn.ConvTranspose2D
		if err == nil {
			c, err = nn.NewConvTranspose2D(name, in, out, k, s, p)
		}
		return c
	}
	m.enc1 = mk("enc1", 1, h, 4, 2, 1)
	m.enc2 = mk("enc2", h, h, 4, 2, 1)
	m.enc3 = mk("enc3", h, d, 1, 1, 0)
	m.dec1 = mk("dec1", d, h, 3, 1, 1)
	m.dec2 = mkT("dec2", h, h, 4, 2, 1)
	m.dec3 = mkT("dec3", h, h/2, 4, 2, 1)
	m.head = mk("head", h/2, outC, 1, 1, 0)
	if err != nil {
		return nil, fmt.Errorf("vqvae: %w", err)
	}
	if m.VQ, err = nn.NewVectorQuantizer("vq", cfg.Codes, d, cfg.Beta); err != nil {
		return nil, fmt.Errorf("vqvae: %w", err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x7671766165))
	for _, c := range []*nn.Conv2D{m.enc1, m.enc2, m.enc3, m.dec1} {
		nn.InitNormal(c.W.Value, nn.HeStd(c.K*c.K*c.InC), rng)
	}
	for _, c := range []*nn.ConvTranspose2D{m.dec2, m.dec3} {
		// Each output pixel of a stride-2 4×4 transposed convolution sums 2×2 kernel taps.
		nn.InitNormal(c.W.Value, nn.HeStd(c.InC*c.K*c.K/(c.Stride*c.Stride)), rng)
	}
	nn.InitNormal(m.head.W.Value, 1/math.Sqrt(float64(h/2)), rng) // linear output: LeCun
	if cfg.Loss == L2 {
		nn.Fill(m.head.B.Value, 0.5)
	}

	px, lat := b*Pixels, b*grid*grid
	f := func(n int) []float32 { return make([]float32, n) }
	m.x, m.targets = f(px), make([]int32, px)
	m.h1, m.h2, m.ze, m.zq, m.idx = f(px/4*h), f(lat*h), f(lat*d), f(lat*d), make([]int32, lat)
	m.d1, m.d2, m.d3, m.out = f(lat*h), f(px/4*h), f(px*h/2), f(px*outC)
	m.dout, m.dd3, m.dd2, m.dd1, m.dzq = f(px*outC), f(px*h/2), f(px/4*h), f(lat*h), f(lat*d)
	m.dze, m.dh2, m.dh1, m.dpre = f(lat*d), f(lat*h), f(px/4*h), f(px*h/2)
	if cfg.Loss == CE {
		m.probs = f(px * outC)
		m.xent = nn.NewSoftmaxCrossEntropy(levels, px)
	}
	return m, nil
}

// Params returns every trainable tensor, encoder to decoder.
func (m *Model) Params() []*fadam.Param {
	var ps []*fadam.Param
	for _, l := range []interface{ Params() []*fadam.Param }{m.enc1, m.enc2, m.enc3, m.VQ, m.dec1, m.dec2, m.dec3, m.head} {
		ps = append(ps, l.Params()...)
	}
	return ps
}

func (m *Model) checkBatch(images []byte) (int, error) {
	if len(images) == 0 || len(images)%Pixels != 0 {
		return 0, fmt.Errorf("vqvae: %d bytes is not a whole number of %d×%d images", len(images), Side, Side)
	}
	b := len(images) / Pixels
	if b > m.Cfg.Batch {
		return 0, fmt.Errorf("vqvae: batch of %d images exceeds the model's %d", b, m.Cfg.Batch)
	}
	return b, nil
}

// encode runs the encoder on images (b·784 bytes) into m.ze.
func (m *Model) encode(images []byte, b int) {
	for i, p := range images {
		m.x[i] = float32(p) / 255
		m.targets[i] = int32(p)
	}
	m.enc1.Forward(m.h1, m.x, b, Side, Side)
	m.relu.Forward(m.h1[:b*Pixels/4*m.Cfg.Hidden], m.h1)
	m.enc2.Forward(m.h2, m.h1, b, Side/2, Side/2)
	m.relu.Forward(m.h2[:b*grid*grid*m.Cfg.Hidden], m.h2)
	m.enc3.Forward(m.ze, m.h2, b, grid, grid)
}

// InitCodebook sets the codebook to encoder outputs of images (a batch of up to Config.Batch
// images, 784 bytes each) chosen with seed.
func (m *Model) InitCodebook(images []byte, seed uint64) error {
	b, err := m.checkBatch(images)
	if err != nil {
		return err
	}
	m.encode(images, b)
	m.VQ.InitFromData(m.ze, b*grid*grid, rand.New(rand.NewPCG(seed, 0x636f6465)))
	return nil
}

// Forward runs the model on images (b·784 bytes, b ≤ Config.Batch, pixel values 0–255) and
// returns its losses. The activations stay in the model for Backward and the reconstructions.
func (m *Model) Forward(images []byte) (Losses, error) {
	b, err := m.checkBatch(images)
	if err != nil {
		return Losses{}, err
	}
	m.b = b
	h, lat, px := m.Cfg.Hidden, b*grid*grid, b*Pixels
	m.encode(images, b)
	var l Losses
	if m.identityVQ {
		copy(m.zq, m.ze[:lat*m.Cfg.CodeDim])
	} else {
		l.VQ = m.VQ.Forward(m.zq, m.idx, m.ze, lat)
	}
	m.dec1.Forward(m.d1, m.zq, b, grid, grid)
	m.relu.Forward(m.d1[:lat*h], m.d1)
	m.dec2.Forward(m.d2, m.d1, b, grid, grid)
	m.relu.Forward(m.d2[:px/4*h], m.d2)
	m.dec3.Forward(m.d3, m.d2, b, Side/2, Side/2)
	m.relu.Forward(m.d3[:px*h/2], m.d3)
	m.head.Forward(m.out, m.d3, b, Side, Side)
	if m.Cfg.Loss == CE {
		l.Recon = m.xent.Forward(m.probs, m.out, m.targets, px)
	} else {
		var s float64
		for i, y := range m.out[:px] {
			d := float64(y - m.x[i])
			s += d * d
		}
		l.Recon = s / float64(px)
	}
	l.Total = l.Recon + (1+m.Cfg.Beta)*l.VQ
	return l, nil
}

// reluBackward sets dpre to the gradient through a ReLU whose output is y.
func (m *Model) reluBackward(dpre, dpost, y []float32) {
	clear(dpre)
	m.relu.Backward(dpre, dpost, y)
}

// Backward accumulates into the parameter gradients the gradient of Losses.Total of the last
// Forward, the encoder receiving the decoder's gradient straight through the quantizer.
func (m *Model) Backward() {
	b := m.b
	h, d, lat, px := m.Cfg.Hidden, m.Cfg.CodeDim, b*grid*grid, b*Pixels
	outC := m.head.OutC
	dout := m.dout[:px*outC]
	if m.Cfg.Loss == CE {
		clear(dout)
		m.xent.Backward(dout, m.probs, m.targets, px)
	} else {
		scale := float32(2 / float64(px))
		for i, y := range m.out[:px] {
			dout[i] = scale * (y - m.x[i])
		}
	}
	dd3, dd2, dd1, dzq := m.dd3[:px*h/2], m.dd2[:px/4*h], m.dd1[:lat*h], m.dzq[:lat*d]
	clear(dd3)
	m.head.Backward(dd3, dout, m.d3, b, Side, Side)
	dpre := m.dpre[:px*h/2]
	m.reluBackward(dpre, dd3, m.d3)
	clear(dd2)
	m.dec3.Backward(dd2, dpre, m.d2, b, Side/2, Side/2)
	dpre = m.dpre[:px/4*h]
	m.reluBackward(dpre, dd2, m.d2)
	clear(dd1)
	m.dec2.Backward(dd1, dpre, m.d1, b, grid, grid)
	dpre = m.dpre[:lat*h]
	m.reluBackward(dpre, dd1, m.d1)
	clear(dzq)
	m.dec1.Backward(dzq, dpre, m.zq, b, grid, grid)

	dze := m.dze[:lat*d]
	if m.identityVQ {
		copy(dze, dzq)
	} else {
		clear(dze)
		m.VQ.Backward(dze, dzq, m.ze, m.zq, m.idx, lat, 1)
	}
	dh2, dh1 := m.dh2[:lat*h], m.dh1[:px/4*h]
	clear(dh2)
	m.enc3.Backward(dh2, dze, m.h2, b, grid, grid)
	dpre = m.dpre[:lat*h]
	m.reluBackward(dpre, dh2, m.h2)
	clear(dh1)
	m.enc2.Backward(dh1, dpre, m.h1, b, Side/2, Side/2)
	dpre = m.dpre[:px/4*h]
	m.reluBackward(dpre, dh1, m.h1)
	m.enc1.Backward(nil, dpre, m.x, b, Side, Side)
}

// RestartDeadCodes moves the codes no Forward has chosen since the previous call onto encoder
// outputs of the last Forward's images, drawn with rng, and returns how many moved.
func (m *Model) RestartDeadCodes(rng *rand.Rand) int {
	return m.VQ.RestartDead(m.ze, m.b*grid*grid, rng)
}

// Codes returns the code index of each latent position of the last Forward (b·49 values).
func (m *Model) Codes() []int32 { return m.idx[:m.b*grid*grid] }

// Reconstruct writes the reconstructions of the last Forward's images as pixel values in [0, 1].
// For L2, mean is the decoder output clamped to [0, 1] and mode, if not nil, gets the same. For
// CE, mean is the expected value Σ p(v)·v/255 and mode the most probable value /255.
func (m *Model) Reconstruct(mean, mode []float32) {
	px := m.b * Pixels
	if m.Cfg.Loss == L2 {
		for i, y := range m.out[:px] {
			mean[i] = min(max(y, 0), 1)
		}
		if mode != nil {
			copy(mode[:px], mean[:px])
		}
		return
	}
	for i := range px {
		p := m.probs[i*levels : (i+1)*levels]
		var e float64
		best := 0
		for v, pv := range p {
			e += float64(pv) * float64(v)
			if pv > p[best] {
				best = v
			}
		}
		mean[i] = float32(min(e/255, 1))
		if mode != nil {
			mode[i] = float32(best) / 255
		}
	}
}
