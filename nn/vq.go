package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/fadam-go/fadam"
)

// VectorQuantizer replaces each D-dimensional row of its input z_e by the nearest of K codebook
// vectors (squared Euclidean distance), as in VQ-VAE (van den Oord et al., 2017). The decoder's
// gradient passes straight through to z_e; the codebook learns from the codebook loss
// ‖sg(z_e) − e‖² and the encoder is held near its codes by the commitment loss β‖z_e − sg(e)‖²,
// both averaged over all n·D elements.
type VectorQuantizer struct {
	K, D     int
	Beta     float64      // commitment weight β
	Codebook *fadam.Param // [K, D]

	dots  []float32 // z_e·codebookᵀ scratch, [n, K]
	norms []float32 // ‖e_k‖², [K]
	usage []int     // rows assigned to each code since the last RestartDead

	mm      matmulJob
	mmSplit chunkSplitter
}

// NewVectorQuantizer returns a quantizer of k codes of d dimensions with a zero codebook named
// name+".codebook", or an error for non-positive sizes or a negative β.
func NewVectorQuantizer(name string, k, d int, beta float64) (*VectorQuantizer, error) {
	if k <= 0 || d <= 0 {
		return nil, fmt.Errorf("nn: VectorQuantizer needs positive codes and dimensions, got %d×%d", k, d)
	}
	if !(beta >= 0) || math.IsInf(beta, 0) {
		return nil, fmt.Errorf("nn: VectorQuantizer commitment weight must be finite and ≥ 0, got %v", beta)
	}
	return &VectorQuantizer{K: k, D: d, Beta: beta, Codebook: NewParam(name+".codebook", k, d)}, nil
}

// Params returns the codebook.
func (q *VectorQuantizer) Params() []*fadam.Param { return []*fadam.Param{q.Codebook} }

// InitFromData sets the codebook to K rows of ze[n, D] drawn without replacement (with
// replacement when n < K), so that every code starts where the encoder puts its outputs.
func (q *VectorQuantizer) InitFromData(ze []float32, n int, rng *rand.Rand) {
	perm := rng.Perm(n)
	for k := range q.K {
		r := perm[k%n]
		if k >= n {
			r = rng.IntN(n)
		}
		copy(q.Codebook.Value[k*q.D:(k+1)*q.D], ze[r*q.D:(r+1)*q.D])
	}
}

// Forward writes to idx[n] the index of the code nearest each row of ze[n, D] and to zq[n, D]
// that code, and returns mean((z_e − z_q)²) over the n·D elements: the value of the codebook
// loss, and of the commitment loss divided by β.
func (q *VectorQuantizer) Forward(zq []float32, idx []int32, ze []float32, n int) float64 {
	k, d := q.K, q.D
	q.dots = conv2DGrow(q.dots, n*k)
	q.norms = conv2DGrow(q.norms, k)
	if len(q.usage) != k {
		q.usage = make([]int, k)
	}
	for c := range k {
		var s float32
		for _, v := range q.Codebook.Value[c*d : (c+1)*d] {
			s += v * v
		}
		q.norms[c] = s
	}
	matmul(&q.mm, &q.mmSplit, false, true, n, k, d, 1, ze, d, q.Codebook.Value, d, 0, q.dots, k)
	var sum float64
	for r := range n {
		// ‖z − e‖² = ‖z‖² − 2 z·e + ‖e‖²; ‖z‖² is the same for every code.
		best, bestDist := 0, float32(math.Inf(1))
		for c, dot := range q.dots[r*k : (r+1)*k] {
			if dist := q.norms[c] - 2*dot; dist < bestDist {
				best, bestDist = c, dist
			}
		}
		idx[r] = int32(best)
		q.usage[best]++
		code := q.Codebook.Value[best*d : (best+1)*d]
		copy(zq[r*d:(r+1)*d], code)
		for j, v := range ze[r*d : (r+1)*d] {
			diff := float64(v - code[j])
			sum += diff * diff
		}
	}
	return sum / float64(n*d)
}

// Backward takes dzq, the gradient of the downstream loss with respect to zq, and adds to
// dze[n, D] the straight-through gradient dzq plus the commitment gradient 2β(z_e − z_q)/(n·D),
// and to the codebook gradient the codebook-loss gradient 2(e − z_e)/(n·D) of each used code.
// lossScale multiplies both VQ losses (1 for the losses as Forward defines them).
func (q *VectorQuantizer) Backward(dze, dzq, ze, zq []float32, idx []int32, n int, lossScale float64) {
	d := q.D
	g := float32(2 * lossScale / float64(n*d))
	commit := g * float32(q.Beta)
	for r := range n {
		cg := q.Codebook.Grad[int(idx[r])*d : (int(idx[r])+1)*d]
		for j := range d {
			diff := ze[r*d+j] - zq[r*d+j]
			dze[r*d+j] += dzq[r*d+j] + commit*diff
			cg[j] -= g * diff
		}
	}
}

// RestartDead moves every code that no Forward has chosen since the previous call (or since
// the quantizer was made) onto a row of ze[n, D] drawn at random, so that dead codes rejoin
// the encoder's range (the "random restart" of Dhariwal et al., 2020, Jukebox), and starts a
// new usage count. It returns the number of codes moved.
func (q *VectorQuantizer) RestartDead(ze []float32, n int, rng *rand.Rand) int {
	if len(q.usage) != q.K {
		q.usage = make([]int, q.K)
	}
	moved := 0
	for c, u := range q.usage {
		if u == 0 && n > 0 {
			r := rng.IntN(n)
			copy(q.Codebook.Value[c*q.D:(c+1)*q.D], ze[r*q.D:(r+1)*q.D])
			moved++
		}
	}
	clear(q.usage)
	return moved
}

// ResetUsage starts a new usage count without moving any code (after forward passes that
// should not count, such as evaluations).
func (q *VectorQuantizer) ResetUsage() { clear(q.usage) }

// VQPerplexity returns exp of the entropy of the code usage in idx: K when all k codes are used
// equally, 1 when one code takes everything.
func VQPerplexity(idx []int32, k int) float64 {
	if len(idx) == 0 {
		return 0
	}
	counts := make([]int, k)
	for _, c := range idx {
		counts[c]++
	}
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / float64(len(idx))
			h -= p * math.Log(p)
		}
	}
	return math.Exp(h)
}
