// Package asr is the speech recogniser of the ASR experiment: two strided 1-D convolutions that
// subsample log-mel frames 4×, sinusoidal positions, pre-LayerNorm transformer blocks with
// bidirectional (key-masked) self-attention, and a linear CTC head over the digit words. Forward
// and Backward are explicit, on the substrate's layers, over padded variable-length batches.
package asr

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/nn"
)

// Config is the model's shape.
type Config struct {
	Mels    int // input features per frame
	Dim     int // width of the convolutions and transformer
	Heads   int // attention heads (Dim must be a multiple)
	Layers  int // transformer blocks
	FF      int // hidden width of each block's MLP
	Classes int // CTC classes including the blank (0)
}

// DefaultConfig is the experiment's model for 40 log-mel bands and the 11 digit words.
func DefaultConfig() Config {
	return Config{Mels: 40, Dim: 96, Heads: 4, Layers: 3, FF: 384, Classes: 12}
}

// Validate reports the first inconsistency in c.
func (c Config) Validate() error {
	switch {
	case c.Mels <= 0 || c.Dim <= 0 || c.Heads <= 0 || c.Layers < 0 || c.FF <= 0:
		return fmt.Errorf("asr: config %+v: sizes must be positive", c)
	case c.Dim%c.Heads != 0:
		return fmt.Errorf("asr: config: dim %d is not a multiple of %d heads", c.Dim, c.Heads)
	case c.Classes < 2:
		return fmt.Errorf("asr: config: %d classes, need the blank and at least one label", c.Classes)
	}
	return nil
}

// SubsampledLen is the number of output frames for an input of n frames.
func SubsampledLen(n int) int {
	for range 2 {
		n = (n+2-3)/2 + 1 // kernel 3, stride 2, padding 1
		if n < 1 {
			return 0
		}
	}
	return n
}

type block struct {
	ln1, ln2           *nn.LayerNorm
	qkv, proj, fc, out *nn.Linear
	att                *nn.MaskedSelfAttention
	gelu               nn.GELU
}

// acts holds one block's saved activations (all [rows, ·] over the padded batch).
type acts struct {
	x, ln1, ln1Mean, ln1Rstd, qkv, attStats, attOut, x1, ln2, ln2Mean, ln2Rstd, fc, gelu, geluSig, y []float32
}

// Model is the recogniser. Forward keeps the activations of its last call for Backward; a Model
// is not safe for concurrent use.
type Model struct {
	Cfg          Config
	conv1, conv2 *nn.Conv1D
	blocks       []*block
	lnF          *nn.LayerNorm
	head         *nn.Linear
	params       []*fadam.Param

	// Shapes of the last Forward.
	b, t0, t1, t2 int
	lens1, lens2  []int
	feats         []float32

	cols1, h1, cols2, h2, x0             []float32
	layer                                []acts
	xf, lnFOut, lnFMean, lnFRstd, logits []float32

	// Gradient scratch.
	dx, dxf, dln, dqkv, dattOut, dfc, dgelu, dlogits, dcols2, dh1 []float32
}

// New returns a model with weights drawn from seed: convolutions He-uniform, linear maps
// N(0, 1/fan-in) scaled down on the residual outputs, LayerNorm gains 1.
func New(c Config, seed uint64) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Cfg: c}
	m.conv1 = nn.NewConv1D("conv1", c.Mels, c.Dim, 3, 2, 1)
	m.conv2 = nn.NewConv1D("conv2", c.Dim, c.Dim, 3, 2, 1)
	m.params = append(m.params, m.conv1.Params()...)
	m.params = append(m.params, m.conv2.Params()...)
	for i := range c.Layers {
		n := fmt.Sprintf("block%d.", i)
		bl := &block{
			ln1: nn.NewLayerNorm(n+"ln1", c.Dim), ln2: nn.NewLayerNorm(n+"ln2", c.Dim),
			qkv: nn.NewLinear(n+"qkv", c.Dim, 3*c.Dim, true), proj: nn.NewLinear(n+"proj", c.Dim, c.Dim, true),
			fc: nn.NewLinear(n+"fc", c.Dim, c.FF, true), out: nn.NewLinear(n+"out", c.FF, c.Dim, true),
			att: nn.NewMaskedSelfAttention(c.Dim, c.Heads),
		}
		m.blocks = append(m.blocks, bl)
		for _, ps := range [][]*fadam.Param{bl.ln1.Params(), bl.qkv.Params(), bl.proj.Params(), bl.ln2.Params(), bl.fc.Params(), bl.out.Params()} {
			m.params = append(m.params, ps...)
		}
	}
	m.lnF = nn.NewLayerNorm("lnF", c.Dim)
	m.head = nn.NewLinear("head", c.Dim, c.Classes, true)
	m.params = append(m.params, m.lnF.Params()...)
	m.params = append(m.params, m.head.Params()...)

	rng := rand.New(rand.NewPCG(seed, 0x6173722d696e6974)) // stream "asr-init"
	nn.InitUniform(m.conv1.W.Value, math.Sqrt(6/float64(3*c.Mels)), rng)
	nn.InitUniform(m.conv2.W.Value, math.Sqrt(6/float64(3*c.Dim)), rng)
	resid := 1 / math.Sqrt(2*float64(max(c.Layers, 1)))
	for _, bl := range m.blocks {
		nn.InitNormal(bl.qkv.W.Value, 1/math.Sqrt(float64(c.Dim)), rng)
		nn.InitNormal(bl.proj.W.Value, resid/math.Sqrt(float64(c.Dim)), rng)
		nn.InitNormal(bl.fc.W.Value, 1/math.Sqrt(float64(c.Dim)), rng)
		nn.InitNormal(bl.out.W.Value, resid/math.Sqrt(float64(c.FF)), rng)
	}
	nn.InitNormal(m.head.W.Value, 1/math.Sqrt(float64(c.Dim)), rng)
	return m, nil
}

// Params returns every trainable tensor.
func (m *Model) Params() []*fadam.Param { return m.params }

// Decays reports whether weight decay applies to p: matrices and convolution kernels, not
// biases or LayerNorm parameters.
func Decays(p *fadam.Param) bool { return len(p.Shape) >= 2 }

// ErrBadBatch is wrapped by the errors Forward returns for inconsistent batch shapes.
var ErrBadBatch = errors.New("asr: bad batch")

func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// OutputLens returns the number of valid output frames of each sequence of the last Forward.
func (m *Model) OutputLens() []int { return m.lens2 }

// Forward runs the model on feats[B, T, Mels] (sequence b valid in its first lens[b] frames,
// the rest zero padding, so that a sequence's outputs do not depend on what it is batched with) and returns logits[B, T2, Classes] with T2 = SubsampledLen(T); frame f of
// sequence b is valid when f < OutputLens()[b]. The slice is reused by the next call.
func (m *Model) Forward(feats []float32, lens []int, b, t int) ([]float32, error) {
	c := m.Cfg
	if b <= 0 || len(lens) != b || len(feats) != b*t*c.Mels {
		return nil, fmt.Errorf("%w: %d sequences, %d lengths, %d features for %d frames of %d", ErrBadBatch, b, len(lens), len(feats), t, c.Mels)
	}
	t1 := m.conv1.OutLen(t)
	t2 := m.conv2.OutLen(t1)
	if t2 < 1 {
		return nil, fmt.Errorf("%w: %d frames is too short to subsample", ErrBadBatch, t)
	}
	m.b, m.t0, m.t1, m.t2, m.feats = b, t, t1, t2, feats
	m.lens1, m.lens2 = m.lens1[:0], m.lens2[:0]
	for i, n := range lens {
		if n < 1 || n > t {
			return nil, fmt.Errorf("%w: sequence %d has length %d, padded length %d", ErrBadBatch, i, n, t)
		}
		m.lens1 = append(m.lens1, m.conv1.OutLen(n))
		m.lens2 = append(m.lens2, m.conv2.OutLen(m.conv1.OutLen(n)))
	}
	d := c.Dim
	r := b * t2

	// Subsampling: conv → ReLU → zero the padding, twice, so that valid frames never see padding.
	m.cols1 = grow(m.cols1, m.conv1.ColsLen(b, t))
	m.h1 = grow(m.h1, b*t1*d)
	m.conv1.Forward(m.h1, m.cols1, feats, b, t)
	asrReLUMask(m.h1, m.lens1, b, t1, d)
	m.cols2 = grow(m.cols2, m.conv2.ColsLen(b, t1))
	m.h2 = grow(m.h2, r*d)
	m.conv2.Forward(m.h2, m.cols2, m.h1, b, t1)
	asrReLUMask(m.h2, m.lens2, b, t2, d)
	m.x0 = grow(m.x0, r*d)
	copy(m.x0, m.h2)
	addPositions(m.x0, b, t2, d)

	if len(m.layer) != len(m.blocks) {
		m.layer = make([]acts, len(m.blocks))
	}
	x := m.x0
	for i, bl := range m.blocks {
		a := &m.layer[i]
		a.x = x
		a.ln1, a.ln1Mean, a.ln1Rstd = grow(a.ln1, r*d), grow(a.ln1Mean, r), grow(a.ln1Rstd, r)
		a.qkv, a.attStats, a.attOut = grow(a.qkv, r*3*d), grow(a.attStats, bl.att.StatsLen(b, t2)), grow(a.attOut, r*d)
		a.x1, a.ln2, a.ln2Mean, a.ln2Rstd = grow(a.x1, r*d), grow(a.ln2, r*d), grow(a.ln2Mean, r), grow(a.ln2Rstd, r)
		a.fc, a.gelu, a.geluSig = grow(a.fc, r*c.FF), grow(a.gelu, r*c.FF), grow(a.geluSig, r*c.FF)
		bl.ln1.Forward(a.ln1, a.ln1Mean, a.ln1Rstd, x, r)
		bl.qkv.Forward(a.qkv, a.ln1, r)
		bl.att.ForwardStats(a.attOut, a.attStats, a.qkv, m.lens2, b, t2)
		bl.proj.Forward(a.x1, a.attOut, r)
		nn.ResidualAdd(a.x1, a.x1, x)
		bl.ln2.Forward(a.ln2, a.ln2Mean, a.ln2Rstd, a.x1, r)
		bl.fc.Forward(a.fc, a.ln2, r)
		bl.gelu.Forward(a.gelu, a.geluSig, a.fc)
		next := grow(a.y, r*d)
		a.y = next
		bl.out.Forward(next, a.gelu, r)
		nn.ResidualAdd(next, next, a.x1)
		x = next
	}
	m.xf = x
	m.lnFOut, m.lnFMean, m.lnFRstd = grow(m.lnFOut, r*d), grow(m.lnFMean, r), grow(m.lnFRstd, r)
	m.lnF.Forward(m.lnFOut, m.lnFMean, m.lnFRstd, x, r)
	m.logits = grow(m.logits, r*c.Classes)
	m.head.Forward(m.logits, m.lnFOut, r)
	return m.logits, nil
}

// Loss returns the mean CTC loss of the last Forward's logits against labels[b] and keeps its
// gradient for Backward.
func (m *Model) Loss(labels [][]int32) (float64, error) {
	m.dlogits = grow(m.dlogits, len(m.logits))
	clear(m.dlogits)
	return nn.CTCBatchLoss(m.dlogits, m.logits, m.b, m.t2, m.Cfg.Classes, m.lens2, labels)
}

// Backward accumulates the gradients of the last Loss into the parameters' Grad.
func (m *Model) Backward() {
	c := m.Cfg
	b, t2, d := m.b, m.t2, c.Dim
	r := b * t2
	m.dx = grow(m.dx, r*d)
	clear(m.dx)
	m.dln = grow(m.dln, r*d)
	clear(m.dln)
	m.head.Backward(m.dln, m.dlogits, m.lnFOut, r)
	m.lnF.Backward(m.dx, m.dln, m.xf, m.lnFMean, m.lnFRstd, r)
	// m.dx is the gradient of the residual stream; each block adds into a fresh copy's sources.
	m.dqkv = grow(m.dqkv, r*3*d)
	m.dattOut = grow(m.dattOut, r*d)
	m.dfc, m.dgelu = grow(m.dfc, r*c.FF), grow(m.dgelu, r*c.FF)
	for i := len(m.blocks) - 1; i >= 0; i-- {
		bl, a := m.blocks[i], &m.layer[i]
		// x2 = x1 + out(gelu(fc(ln2(x1)))): dx1 = dx + ln2ᵀ(…).
		clear(m.dgelu)
		bl.out.Backward(m.dgelu, m.dx, a.gelu, r)
		clear(m.dfc)
		bl.gelu.Backward(m.dfc, m.dgelu, a.fc, a.geluSig)
		clear(m.dln)
		bl.fc.Backward(m.dln, m.dfc, a.ln2, r)
		bl.ln2.Backward(m.dx, m.dln, a.x1, a.ln2Mean, a.ln2Rstd, r)
		// x1 = x + proj(att(qkv(ln1(x)))).
		clear(m.dattOut)
		bl.proj.Backward(m.dattOut, m.dx, a.attOut, r)
		bl.att.BackwardStatsOut(m.dqkv, m.dattOut, a.qkv, a.attOut, a.attStats, m.lens2, b, t2)
		clear(m.dln)
		bl.qkv.Backward(m.dln, m.dqkv, a.ln1, r)
		bl.ln1.Backward(m.dx, m.dln, a.x, a.ln1Mean, a.ln1Rstd, r)
	}
	// Positions are constants; then back through the masked ReLUs and the convolutions.
	asrReLUMaskBackward(m.dx, m.h2)
	m.dcols2 = grow(m.dcols2, len(m.cols2))
	m.dh1 = grow(m.dh1, len(m.h1))
	clear(m.dh1)
	m.conv2.Backward(m.dh1, m.dcols2, m.dx, m.cols2, b, m.t1)
	asrReLUMaskBackward(m.dh1, m.h1)
	m.conv1.Backward(nil, nil, m.dh1, m.cols1, b, m.t0)
}

// asrReLUMask applies ReLU to x[B, T, D] and zeroes frames at or beyond lens[b].
func asrReLUMask(x []float32, lens []int, b, t, d int) {
	for bi := range b {
		seq := x[bi*t*d : (bi+1)*t*d]
		valid := lens[bi] * d
		for i, v := range seq[:valid] {
			if v < 0 {
				seq[i] = 0
			}
		}
		clear(seq[valid:])
	}
}

// asrReLUMaskBackward zeroes dy where the masked ReLU's output y was 0 (negative input or padding).
func asrReLUMaskBackward(dy, y []float32) {
	for i, v := range y {
		if v <= 0 {
			dy[i] = 0
		}
	}
}

// addPositions adds the sinusoidal position encoding of Vaswani et al. (2017) to x[B, T, D].
func addPositions(x []float32, b, t, d int) {
	for f := range t {
		for i := 0; i < d; i += 2 {
			angle := float64(f) / math.Pow(10000, float64(i)/float64(d))
			s, co := float32(math.Sin(angle)), float32(math.Cos(angle))
			for bi := range b {
				row := x[(bi*t+f)*d:]
				row[i] += s
				if i+1 < d {
					row[i+1] += co
				}
			}
		}
	}
}
