package gpt

import (
	"math"

	"github.com/fadam-go/fadam/nn"
)

// ParamCount is the number of trainable parameters of a model of shape c (Batch does not
// matter): embeddings V·C + T·C, per block 12C² + 13C, the final LayerNorm 2C and the untied
// head V·C.
func (c Config) ParamCount() int {
	d := c.D
	return Vocab*d + c.Ctx*d + c.Layers*(12*d*d+13*d) + 2*d + Vocab*d
}

// MemoryBytes estimates the memory New allocates for a model of shape c: parameters and their
// gradients, and the activation and gradient buffers of a Batch×Ctx batch, all float32.
// Attention keeps two floats per batch, head and query row (not the Ctx×Ctx probabilities,
// which its backward pass recomputes), plus a small per-goroutine scratch not counted here; the
// MLP keeps partial sums of its bias gradient (4·D floats per 32 rows) and each LayerNorm those
// of its parameter gradients (2·D per 32 rows); the linear layers' weights are kept packed for
// the row chains, twice (forward and backward), when nn.PacksWeights. It
// is computed in float64 so that absurd shapes give a huge number rather than an overflow;
// optimizer state is not included.
func (c Config) MemoryBytes() float64 {
	bt, d, v := float64(c.Batch)*float64(c.Ctx), float64(c.D), float64(Vocab)
	att := 2 * float64(c.Batch) * float64(c.Heads) * float64(c.Ctx)
	geluBias := math.Ceil(bt/nn.GELUBiasRowBlock) * 4 * d // the MLP bias gradient's partial sums
	lnSums := math.Ceil(bt/nn.LayerNormRowBlock) * 2 * d  // a LayerNorm's parameter gradients' partial sums
	perBlock := 16*bt*d + 4*bt + att + geluBias + 2*lnSums
	global := 14*bt*d + 4*bt + 3*bt*v + lnSums
	params := 2 * float64(Vocab*c.D+c.Ctx*c.D+2*c.D+Vocab*c.D)
	params += 2 * float64(c.Layers) * (12*d*d + 13*d)
	// Each Linear's weight packed twice (for the forward and for the input gradient), its
	// columns rounded up to gemm's widest panel of 32.
	packed := 0.0
	for _, w := range [][2]float64{{d, 3 * d}, {d, d}, {d, 4 * d}, {4 * d, d}} {
		packed += w[0]*roundUp32(w[1]) + w[1]*roundUp32(w[0])
	}
	if nn.PacksWeights() {
		params += float64(c.Layers)*packed + d*roundUp32(v) + v*roundUp32(d)
	}
	return 4 * (float64(c.Layers)*perBlock + global + params)
}

// roundUp32 rounds x up to a multiple of 32.
func roundUp32(x float64) float64 { return math.Ceil(x/32) * 32 }
