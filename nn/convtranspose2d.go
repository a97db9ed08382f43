package nn

import (
	"github.com/fadam-go/fadam"
)

// ConvTranspose2D is the transposed 2-D convolution over NHWC images (PyTorch's ConvTranspose2d
// with output_padding 0): the adjoint of a Conv2D with the same kernel, stride and padding, so
// an h×w input becomes ((h−1)·Stride − 2·Pad + K) × ((w−1)·Stride − 2·Pad + K). W has shape
// [InC, K, K, OutC] and B shape [OutC].
type ConvTranspose2D struct {
	InC, OutC, K, Stride, Pad int
	W, B                      *fadam.Param

	col     []float32 // scratch, grown on demand
	mm      matmulJob
	mmSplit chunkSplitter
}

// NewConvTranspose2D returns a transposed convolution with zero parameters named name+".w" and
// name+".b", or an error for a non-positive size or a padding not smaller than the kernel.
func NewConvTranspose2D(name string, inC, outC, k, stride, pad int) (*ConvTranspose2D, error) {
	if err := checkConvGeometry("ConvTranspose2D", inC, outC, k, stride, pad); err != nil {
		return nil, err
	}
	return &ConvTranspose2D{InC: inC, OutC: outC, K: k, Stride: stride, Pad: pad,
		W: NewParam(name+".w", inC, k, k, outC), B: NewParam(name+".b", outC)}, nil
}

// Params returns W and B.
func (c *ConvTranspose2D) Params() []*fadam.Param { return []*fadam.Param{c.W, c.B} }

// OutSize returns the output height and width for an h×w input.
func (c *ConvTranspose2D) OutSize(h, w int) (int, int) {
	return (h-1)*c.Stride - 2*c.Pad + c.K, (w-1)*c.Stride - 2*c.Pad + c.K
}

// geom is the geometry of the forward convolution this layer is the adjoint of: it reads the
// output image (OutC channels) and produces the h×w input grid.
func (c *ConvTranspose2D) geom(b, h, w int) convGeom {
	oh, ow := c.OutSize(h, w)
	return convGeom{b: b, inH: oh, inW: ow, c: c.OutC, k: c.K, stride: c.Stride, pad: c.Pad, outH: h, outW: w}
}

// Forward computes y[b, oh, ow, OutC] from x[b, h, w, InC], overwriting y: each input pixel
// spreads x·W over a K×K patch of the output, overlapping patches adding up.
func (c *ConvTranspose2D) Forward(y, x []float32, b, h, w int) {
	g := c.geom(b, h, w)
	rows, kko := g.rows(), g.colLen()
	c.col = conv2DGrow(c.col, g.colSize())
	matmul(&c.mm, &c.mmSplit, false, false, rows, kko, c.InC, 1, x, c.InC, c.W.Value, kko, 0, c.col, kko)
	y = y[:g.inSize()]
	for p := range len(y) / c.OutC {
		copy(y[p*c.OutC:(p+1)*c.OutC], c.B.Value)
	}
	conv2DCol2imAdd(y, c.col, g)
}

// Backward accumulates the gradients of W and B from dy[b, oh, ow, OutC] and the forward input
// x[b, h, w, InC], and adds the input gradient to dx unless dx is nil.
func (c *ConvTranspose2D) Backward(dx, dy, x []float32, b, h, w int) {
	g := c.geom(b, h, w)
	rows, kko := g.rows(), g.colLen()
	dy = dy[:g.inSize()]
	addChannelSums(c.B.Grad, dy, len(dy)/c.OutC, c.OutC)
	// The gradient of a scatter is a gather: dcol = im2col(dy).
	c.col = conv2DGrow(c.col, g.colSize())
	conv2DIm2col(c.col, dy, g)
	// dW += xᵀ·dcol
	matmul(&c.mm, &c.mmSplit, true, false, c.InC, kko, rows, 1, x, c.InC, c.col, kko, 1, c.W.Grad, kko)
	if dx != nil {
		// dx += dcol·Wᵀ
		matmul(&c.mm, &c.mmSplit, false, true, rows, c.InC, kko, 1, c.col, kko, c.W.Value, kko, 1, dx, c.InC)
	}
}
