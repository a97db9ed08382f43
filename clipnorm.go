package fadam

import (
	"fmt"
	"math"
)

// Global-norm gradient clipping (Config.MaxGradNorm), with the semantics of PyTorch's
// torch.nn.utils.clip_grad_norm_: before the algorithm sees the gradients,
//
//	n = sqrt(Σ over all parameters of Σ g²)
//	if n > MaxGradNorm: g ← g · MaxGradNorm/(n + 1e-6) for every gradient element.
//
// n comes from the Σg² that passRead computes anyway (for RMS(g)), so a step that does not clip
// costs nothing extra. A step that clips scales the gradients in place, as PyTorch does, each
// element becoming float32(float64(g)·s), and reruns passRead on them: the step is then
// exactly the step on the scaled gradients, bit for bit.

// gradNormEps is PyTorch's 1e-6 in the clip coefficient max/(n + 1e-6).
const gradNormEps = 1e-6

// LastGradNorm is the L2 norm of all the gradients of the last successful Step, taken together
// and before any clipping: sqrt(Σ over all parameters of Σ g²), accumulated in float64 in a
// fixed order (so it, too, is the same for any GOMAXPROCS). It is computed at every step,
// whether or not Config.MaxGradNorm is set, for logging; 0 before the first Step. It is not
// part of checkpoints.
func (o *Optimizer) LastGradNorm() float64 { return o.gradNorm }

// globalGradNorm is sqrt(sumSq), or an error (wrapping ErrNonFinite) if it is not finite. The
// sum of squares of finite float32 values cannot overflow float64 for any slice that fits in
// memory, so the error is a guard that no input can reach.
func globalGradNorm(sumSq float64) (float64, error) {
	n := math.Sqrt(sumSq)
	if !isFinite(n) {
		return 0, fmt.Errorf("%w: the global gradient norm is %v", ErrNonFinite, n)
	}
	return n, nil
}

// clipGradNorm applies Config.MaxGradNorm given the global norm of this step's gradients: if
// clipping is on and norm exceeds it, every gradient is scaled in place and passRead is run
// again, so that the kernels' sums are those of the scaled gradients.
func (o *Optimizer) clipGradNorm(tensors []*tensor, params []Param, norm float64) {
	maxNorm := o.cfg.MaxGradNorm
	if maxNorm == 0 || norm <= maxNorm {
		return
	}
	o.gradScale = maxNorm / (norm + gradNormEps)
	o.gradChunks = o.gradChunks[:0]
	work := 0
	for _, p := range params {
		work += len(p.Grad)
		for lo := 0; lo < len(p.Grad); lo += chunkSize {
			o.gradChunks = append(o.gradChunks, p.Grad[lo:min(len(p.Grad), lo+chunkSize)])
		}
	}
	if o.scaleJobFunc == nil {
		o.scaleJobFunc = o.scaleJob
	}
	o.runner.run(len(o.gradChunks), work, o.scaleJobFunc) // runPass(passRead) has set up o.runner
	o.runPass(tensors, passRead)
}

// scaleJob scales gradient chunk j by the clipping factor.
func (o *Optimizer) scaleJob(j int) { scaleInPlace(o.gradChunks[j], o.gradScale) }

// scaleInPlace sets x[i] = float32(float64(x[i])·s). With 0 ≤ s < 1 the result is finite.
func scaleInPlace(x []float32, s float64) {
	for i, v := range x {
		x[i] = float32(float64(v) * s)
	}
}
