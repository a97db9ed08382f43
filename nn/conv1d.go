package nn

import (
	"github.com/fadam-go/fadam"
)

// Conv1D is a strided 1-D convolution over time: x[B, T, In] → y[B, Tout, Out] with
// y[b, o, :] = bias + Σ_k W[:, k, :]·x[b, o·Stride + k − Pad, :], zero outside [0, T). W has
// shape [Out, Kernel·In] (tap-major within a row). It runs as one matrix product over an
// im2col buffer cols[B·Tout, Kernel·In] that the caller keeps between Forward and Backward.
type Conv1D struct {
	In, Out, Kernel, Stride, Pad int
	W, B                         *fadam.Param

	mm      matmulJob
	mmSplit chunkSplitter
}

// NewConv1D returns a convolution with zero parameters named name+".w" and name+".b".
func NewConv1D(name string, in, out, kernel, stride, pad int) *Conv1D {
	return &Conv1D{
		In: in, Out: out, Kernel: kernel, Stride: stride, Pad: pad,
		W: NewParam(name+".w", out, kernel*in), B: NewParam(name+".b", out),
	}
}

// Params returns W and B.
func (c *Conv1D) Params() []*fadam.Param { return []*fadam.Param{c.W, c.B} }

// OutLen returns the number of output frames for t input frames (0 if the kernel does not fit).
func (c *Conv1D) OutLen(t int) int {
	n := t + 2*c.Pad - c.Kernel
	if n < 0 {
		return 0
	}
	return n/c.Stride + 1
}

// ColsLen is the length of the im2col buffer Forward needs for b sequences of t frames.
func (c *Conv1D) ColsLen(b, t int) int { return b * c.OutLen(t) * c.Kernel * c.In }

// Forward computes y[B, OutLen(t), Out] from x[B, t, In], overwriting y and cols (see ColsLen).
func (c *Conv1D) Forward(y, cols, x []float32, b, t int) {
	to := c.OutLen(t)
	kw := c.Kernel * c.In
	for bi := range b {
		for o := range to {
			row := cols[(bi*to+o)*kw : (bi*to+o+1)*kw]
			for k := range c.Kernel {
				src := o*c.Stride + k - c.Pad
				dst := row[k*c.In : (k+1)*c.In]
				if src < 0 || src >= t {
					clear(dst)
					continue
				}
				copy(dst, x[(bi*t+src)*c.In:(bi*t+src+1)*c.In])
			}
		}
	}
	rows := b * to
	for r := range rows {
		copy(y[r*c.Out:(r+1)*c.Out], c.B.Value)
	}
	matmul(&c.mm, &c.mmSplit, false, true, rows, c.Out, kw, 1, cols, kw, c.W.Value, kw, 1, y, c.Out)
}

// Backward accumulates the gradients of W and B from dy[B, OutLen(t), Out] and the forward's
// cols, and adds the input gradient to dx[B, t, In] unless dx is nil. dcols must hold ColsLen
// floats; it is overwritten.
func (c *Conv1D) Backward(dx, dcols, dy, cols []float32, b, t int) {
	to := c.OutLen(t)
	kw := c.Kernel * c.In
	rows := b * to
	matmul(&c.mm, &c.mmSplit, true, false, c.Out, kw, rows, 1, dy, c.Out, cols, kw, 1, c.W.Grad, kw)
	db := c.B.Grad
	for r := range rows {
		for j, v := range dy[r*c.Out : (r+1)*c.Out] {
			db[j] += v
		}
	}
	if dx == nil {
		return
	}
	matmul(&c.mm, &c.mmSplit, false, false, rows, kw, c.Out, 1, dy, c.Out, c.W.Value, kw, 0, dcols, kw)
	for bi := range b {
		for o := range to {
			row := dcols[(bi*to+o)*kw : (bi*to+o+1)*kw]
			for k := range c.Kernel {
				src := o*c.Stride + k - c.Pad
				if src < 0 || src >= t {
					continue
				}
				d := dx[(bi*t+src)*c.In : (bi*t+src+1)*c.In]
				for j, v := range row[k*c.In : (k+1)*c.In] {
					d[j] += v
				}
			}
		}
	}
}
