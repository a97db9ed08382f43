package nn

import (
	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/gemm"
)

// Linear is the affine map y = x·Wᵀ + b applied to each row of x. W has shape [Out, In] (the
// PyTorch layout) and B shape [Out]; B is nil for a layer without bias.
type Linear struct {
	In, Out int
	W, B    *fadam.Param
}

// NewLinear returns a Linear layer with zero parameters named name+".w" and name+".b".
func NewLinear(name string, in, out int, bias bool) *Linear {
	l := &Linear{In: in, Out: out, W: NewParam(name+".w", out, in)}
	if bias {
		l.B = NewParam(name+".b", out)
	}
	return l
}

// Params returns the layer's trainable tensors (W, then B if present).
func (l *Linear) Params() []*fadam.Param {
	if l.B == nil {
		return []*fadam.Param{l.W}
	}
	return []*fadam.Param{l.W, l.B}
}

// Forward computes y[rows, Out] = x[rows, In]·Wᵀ + b, overwriting y.
func (l *Linear) Forward(y, x []float32, rows int) {
	y = y[:rows*l.Out]
	beta := float32(0)
	if l.B != nil {
		for r := range rows {
			copy(y[r*l.Out:(r+1)*l.Out], l.B.Value)
		}
		beta = 1
	}
	gemm.Default.Sgemm(false, true, rows, l.Out, l.In, 1, x, l.In, l.W.Value, l.In, beta, y, l.Out)
}

// Backward accumulates the gradients of W and b from dy[rows, Out] and the forward input x, and
// adds dy·W to dx[rows, In] unless dx is nil.
func (l *Linear) Backward(dx, dy, x []float32, rows int) {
	// dW += dyᵀ·x
	gemm.Default.Sgemm(true, false, l.Out, l.In, rows, 1, dy, l.Out, x, l.In, 1, l.W.Grad, l.In)
	if l.B != nil {
		db := l.B.Grad[:l.Out]
		for r := range rows {
			row := dy[r*l.Out : (r+1)*l.Out]
			for j, v := range row {
				db[j] += v
			}
		}
	}
	if dx != nil {
		gemm.Default.Sgemm(false, false, rows, l.In, l.Out, 1, dy, l.Out, l.W.Value, l.In, 1, dx, l.In)
	}
}
