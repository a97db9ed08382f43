package nn

import (
	"fmt"

	"github.com/fadam-go/fadam"
)

// Image activations are NHWC: a batch of B images of H×W pixels with C channels is B·H·W rows
// of C contiguous floats, so a convolution is one matrix product over the whole batch (im2col),
// exactly like Linear over rows.

// convGeom describes a convolution window sliding over an input of inH×inW pixels with c
// channels, producing outH×outW positions; each column row holds k·k·c values ordered (ky, kx, c).
type convGeom struct {
	b, inH, inW, c int
	k, stride, pad int
	outH, outW     int
}

func (g convGeom) rows() int    { return g.b * g.outH * g.outW }
func (g convGeom) colLen() int  { return g.k * g.k * g.c }
func (g convGeom) inSize() int  { return g.b * g.inH * g.inW * g.c }
func (g convGeom) colSize() int { return g.rows() * g.colLen() }

// convOut is the number of positions of a window of size k with the given stride and padding
// along an input of length n.
func convOut(n, k, stride, pad int) int { return (n+2*pad-k)/stride + 1 }

// conv2DIm2col writes the k×k×c patch under every output position of x into the rows of col,
// with zeros where the window hangs over the padding.
func conv2DIm2col(col, x []float32, g convGeom) {
	kc := g.k * g.c
	r := 0
	for b := range g.b {
		img := x[b*g.inH*g.inW*g.c:]
		for oy := range g.outH {
			for ox := range g.outW {
				row := col[r*g.colLen() : (r+1)*g.colLen()]
				r++
				for ky := range g.k {
					iy := oy*g.stride - g.pad + ky
					dst := row[ky*kc : (ky+1)*kc]
					if iy < 0 || iy >= g.inH {
						clear(dst)
						continue
					}
					for kx := range g.k {
						ix := ox*g.stride - g.pad + kx
						d := dst[kx*g.c : (kx+1)*g.c]
						if ix < 0 || ix >= g.inW {
							clear(d)
							continue
						}
						copy(d, img[(iy*g.inW+ix)*g.c:(iy*g.inW+ix+1)*g.c])
					}
				}
			}
		}
	}
}

// conv2DCol2imAdd is the adjoint of conv2DIm2col: it adds every patch value of col back onto the
// input pixel it was read from (padding positions are dropped).
func conv2DCol2imAdd(x, col []float32, g convGeom) {
	kc := g.k * g.c
	r := 0
	for b := range g.b {
		img := x[b*g.inH*g.inW*g.c:]
		for oy := range g.outH {
			for ox := range g.outW {
				row := col[r*g.colLen() : (r+1)*g.colLen()]
				r++
				for ky := range g.k {
					iy := oy*g.stride - g.pad + ky
					if iy < 0 || iy >= g.inH {
						continue
					}
					for kx := range g.k {
						ix := ox*g.stride - g.pad + kx
						if ix < 0 || ix >= g.inW {
							continue
						}
						src := row[ky*kc+kx*g.c : ky*kc+(kx+1)*g.c]
						dst := img[(iy*g.inW+ix)*g.c : (iy*g.inW+ix+1)*g.c]
						for i, v := range src {
							dst[i] += v
						}
					}
				}
			}
		}
	}
}

// grow returns buf resliced to n, reallocating only when it is too short.
func conv2DGrow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// addChannelSums adds the sum over rows of dy[rows, c] to db[c].
func addChannelSums(db, dy []float32, rows, c int) {
	for r := range rows {
		for j, v := range dy[r*c : (r+1)*c] {
			db[j] += v
		}
	}
}

func checkConvGeometry(kind string, inC, outC, k, stride, pad int) error {
	switch {
	case inC <= 0 || outC <= 0:
		return fmt.Errorf("nn: %s channels must be positive, got %d→%d", kind, inC, outC)
	case k <= 0 || stride <= 0:
		return fmt.Errorf("nn: %s kernel size %d and stride %d must be positive", kind, k, stride)
	case pad < 0 || pad >= k:
		return fmt.Errorf("nn: %s padding %d must be in [0, kernel size %d)", kind, pad, k)
	}
	return nil
}

// Conv2D is a 2-D convolution (cross-correlation, as in PyTorch) over NHWC images with square
// kernels, stride and zero padding. W has shape [OutC, K, K, InC] and B shape [OutC].
type Conv2D struct {
	InC, OutC, K, Stride, Pad int
	W, B                      *fadam.Param

	col, dcol []float32 // im2col scratch, grown on demand
	mm        matmulJob
	mmSplit   chunkSplitter
}

// NewConv2D returns a convolution with zero parameters named name+".w" and name+".b", or an
// error for a non-positive size or a padding not smaller than the kernel.
func NewConv2D(name string, inC, outC, k, stride, pad int) (*Conv2D, error) {
	if err := checkConvGeometry("Conv2D", inC, outC, k, stride, pad); err != nil {
		return nil, err
	}
	return &Conv2D{InC: inC, OutC: outC, K: k, Stride: stride, Pad: pad,
		W: NewParam(name+".w", outC, k, k, inC), B: NewParam(name+".b", outC)}, nil
}

// Params returns W and B.
func (c *Conv2D) Params() []*fadam.Param { return []*fadam.Param{c.W, c.B} }

// OutSize returns the output height and width for an h×w input.
func (c *Conv2D) OutSize(h, w int) (int, int) {
	return convOut(h, c.K, c.Stride, c.Pad), convOut(w, c.K, c.Stride, c.Pad)
}

func (c *Conv2D) geom(b, h, w int) convGeom {
	oh, ow := c.OutSize(h, w)
	return convGeom{b: b, inH: h, inW: w, c: c.InC, k: c.K, stride: c.Stride, pad: c.Pad, outH: oh, outW: ow}
}

// pointwise reports whether the convolution is 1×1 without stride or padding, whose im2col is
// the input itself.
func (c *Conv2D) pointwise() bool { return c.K == 1 && c.Stride == 1 && c.Pad == 0 }

// Forward computes y[b, oh, ow, OutC] from x[b, h, w, InC], overwriting y.
func (c *Conv2D) Forward(y, x []float32, b, h, w int) {
	g := c.geom(b, h, w)
	col := x[:g.inSize()]
	if !c.pointwise() {
		c.col = conv2DGrow(c.col, g.colSize())
		col = c.col
		conv2DIm2col(col, x, g)
	}
	rows := g.rows()
	y = y[:rows*c.OutC]
	for r := range rows {
		copy(y[r*c.OutC:(r+1)*c.OutC], c.B.Value)
	}
	matmul(&c.mm, &c.mmSplit, false, true, rows, c.OutC, g.colLen(), 1, col, g.colLen(), c.W.Value, g.colLen(), 1, y, c.OutC)
}

// Backward accumulates the gradients of W and B from dy[b, oh, ow, OutC] and the forward input
// x[b, h, w, InC], and adds the input gradient to dx unless dx is nil.
func (c *Conv2D) Backward(dx, dy, x []float32, b, h, w int) {
	g := c.geom(b, h, w)
	rows, kkc := g.rows(), g.colLen()
	col := x[:g.inSize()]
	if !c.pointwise() {
		c.col = conv2DGrow(c.col, g.colSize())
		col = c.col
		conv2DIm2col(col, x, g)
	}
	// dW += dyᵀ·col
	matmul(&c.mm, &c.mmSplit, true, false, c.OutC, kkc, rows, 1, dy, c.OutC, col, kkc, 1, c.W.Grad, kkc)
	addChannelSums(c.B.Grad, dy, rows, c.OutC)
	if dx == nil {
		return
	}
	if c.pointwise() {
		matmul(&c.mm, &c.mmSplit, false, false, rows, kkc, c.OutC, 1, dy, c.OutC, c.W.Value, kkc, 1, dx, kkc)
		return
	}
	// dcol = dy·W, then scattered back onto the pixels it was gathered from.
	c.dcol = conv2DGrow(c.dcol, g.colSize())
	matmul(&c.mm, &c.mmSplit, false, false, rows, kkc, c.OutC, 1, dy, c.OutC, c.W.Value, kkc, 0, c.dcol, kkc)
	conv2DCol2imAdd(dx, c.dcol, g)
}
