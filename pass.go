package fadam

// A step runs in passes over all tensors at once; each algorithm supplies, per tensor, a kernel
// that holds the tensor's state and computes its share of every pass.
//
// passRead only reads the gradients (Σg², plus the factored row and column sums) and so doubles
// as the NaN/Inf check: nothing is modified until every gradient is known to be finite. Each
// tensor is cut into chunks whose boundaries depend only on its shape; each chunk's partial sums
// are accumulated in float64 in a fixed order and combined in chunk order, so results are
// bit-identical for any GOMAXPROCS.

// pass names one sweep over every tensor of a step.
type pass int

const (
	// passRead reads g: Σg² for RMS(g) (FAdam line 8) and, for factored tensors, the row and
	// column sums of g² (FAdafactor lines 7–8). It must not write anything.
	passRead pass = iota
	// passFisher updates the second-moment estimate where it is per element (FAdam line 7, Adam's
	// v) and sums what the clips need: Σḡ² and Σḡ_w² (FAdam lines 9 and 12), or Σ of the
	// squared update (Adam with clipping, Adafactor).
	passFisher
	// passUpdate applies the clips and updates m and θ (FAdam lines 10–11 and 13–14).
	passUpdate

	numPasses = 3
)

// String names the pass in messages.
func (p pass) String() string {
	switch p {
	case passRead:
		return "read"
	case passFisher:
		return "fisher"
	case passUpdate:
		return "update"
	}
	return "pass?"
}

// sums are the float64 partial sums of one chunk of a pass.
type sums struct {
	// grad is Σx² of the gradient-side quantity of the pass: g in passRead, ḡ (FAdam,
	// FAdafactor) or the update (Adam, Adafactor) in passFisher.
	grad float64
	// decay is Σḡ_w², the Fisher-weighted decay of FAdam and FAdafactor (passFisher).
	decay float64
}

// add accumulates s into t.
func (t *sums) add(s sums) {
	t.grad += s.grad
	t.decay += s.decay
}

// total adds the chunk sums in chunk order.
func total(chunks []sums) sums {
	var t sums
	for _, s := range chunks {
		t.add(s)
	}
	return t
}

// stepConsts are the per-tensor constants of one step, fixed before passRead.
type stepConsts struct {
	t        int64   // step number, 1 for the first step
	beta2Hat float64 // β̂₂ = β₂(1−β₂^{t−1})/(1−β₂^t), FAdam line 6
	lr       float64 // η × the tensor's LRScale
	wd       float64 // the tensor's λ: its ParamOptions' own, else Config.WeightDecay
	sign     float64 // −1 when maximizing (g ← −g), else 1
	cfg      *Config
}

// kernel is one tensor's optimizer state and its passes. run may be called concurrently for
// different chunks of the same pass; everything else is called from one goroutine.
type kernel interface {
	// chunks is the number of work units the tensor is cut into (the same for every pass).
	chunks() int
	// active reports whether the tensor takes part in pass p (every tensor runs passRead).
	active(p pass) bool
	// begin is called before passRead with the tensor's buffers and constants for this step.
	begin(value, grad []float32, c *stepConsts)
	// run executes chunk k of pass p and returns its partial sums. passRead must only read (it
	// runs before the gradients are known to be finite) and returns Σg² in sums.grad.
	run(p pass, k int) sums
	// finish is called after pass p with the partial sums of every chunk, in chunk order.
	finish(p pass, chunks []sums)
	// state lists the tensor's state arrays, live (for checkpoints and StateBytes).
	state() []stateTensor
	// fisher returns a copy of the diagonal Fisher information estimate after t steps.
	fisher(t int64) []float32
	// traffic is the memory traffic of one step in bytes, by the passes as implemented.
	traffic() int64
}

// stateTensor names one state array of a kernel: the checkpoint tensor is <param>.<suffix>.
type stateTensor struct {
	suffix string
	shape  []int // nil: the parameter's shape
	data   []float32
	// bf16 holds the bfloat16 bits instead of data, for a kernel with bfloat16 state.
	bf16 []uint16
	// nonNegative marks arrays (square roots of Fisher estimates) whose entries must be ≥ 0.
	nonNegative bool
}

// algorithm describes one of the four optimizers.
type algorithm struct {
	name Algorithm
	// newKernel allocates a tensor's freshly initialised state.
	newKernel func(shape []int, n int, cfg *Config) kernel
}
