// Package nn is the training substrate of the experiments: layers with an explicit Forward and
// Backward over flat, preallocated float32 buffers, in the manner of llm.c. There is no autograd:
// each layer's backward sits beside its forward and is checked against finite differences.
//
// Conventions shared by every layer:
//   - trainable tensors are *fadam.Param (Value and Grad of equal length, row-major Shape), so a
//     model hands them to any optimizer as they are;
//   - Backward accumulates (+=) into parameter gradients and into the input gradient buffer it is
//     given, so a caller zeroes gradients once per step (ZeroGrads);
//   - activations are batch-major: a [B, T, C] activation is B·T rows of C contiguous floats;
//   - matrix products go through gemm.Default;
//   - the element-wise loops (the exponential, GELU, the softmax rows, LayerNorm rows, adds)
//     and the attention kernels run in AVX-512 assembly where the CPU has it, each beside a Go
//     twin that performs the same operations in the same order, so both give the same bits
//     (tested); the one exception is attention's small matrix product, whose fused
//     multiply-adds the Go twin computes through math.FMA in float64, equal but for a rare
//     double-rounding tie (tested to 1 ulp per step); build with -tags purego, or on another
//     CPU, for the Go versions;
//   - work is split over goroutines so that every output element is computed by one
//     goroutine in a fixed order: results do not depend on GOMAXPROCS.
package nn

import (
	"math"
	"math/rand/v2"

	"github.com/fadam-go/fadam"
)

// NewParam returns a zero-initialised trainable tensor of the given shape.
func NewParam(name string, shape ...int) *fadam.Param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &fadam.Param{
		Name:  name,
		Shape: append([]int(nil), shape...),
		Value: make([]float32, n),
		Grad:  make([]float32, n),
	}
}

// ZeroGrads sets every gradient of ps to zero.
func ZeroGrads(ps []*fadam.Param) {
	for _, p := range ps {
		clear(p.Grad)
	}
}

// Values returns the parameters as the value slice an optimizer's Step takes. The returned
// Params share their Value and Grad buffers with ps.
func Values(ps []*fadam.Param) []fadam.Param {
	out := make([]fadam.Param, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}

// Count returns the total number of scalars in ps.
func Count(ps []*fadam.Param) int {
	n := 0
	for _, p := range ps {
		n += len(p.Value)
	}
	return n
}

// InitNormal fills x with samples of N(0, std²) drawn from rng.
func InitNormal(x []float32, std float64, rng *rand.Rand) {
	for i := range x {
		x[i] = float32(rng.NormFloat64() * std)
	}
}

// InitUniform fills x with samples of U(-limit, limit) drawn from rng.
func InitUniform(x []float32, limit float64, rng *rand.Rand) {
	for i := range x {
		x[i] = float32((2*rng.Float64() - 1) * limit)
	}
}

// Fill sets every element of x to v.
func Fill(x []float32, v float32) {
	for i := range x {
		x[i] = v
	}
}

// HeStd is the standard deviation of He initialisation for a layer with fanIn inputs.
func HeStd(fanIn int) float64 { return math.Sqrt(2 / float64(fanIn)) }
