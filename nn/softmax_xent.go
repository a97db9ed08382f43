package nn

import (
	"math"
)

// SoftmaxCrossEntropy is the mean over rows of −log softmax(logits)[target]: the negative
// log-likelihood of a categorical distribution, computed stably (the row maximum is subtracted
// before exponentiating).
type SoftmaxCrossEntropy struct {
	V int // number of classes

	rowLoss []float64
	job     softmaxXentJob
	split   chunkSplitter
}

// softmaxXentMinRows is the least number of rows worth a second goroutine.
const softmaxXentMinRows = 128

// NewSoftmaxCrossEntropy returns the loss over v classes for up to maxRows rows per call.
func NewSoftmaxCrossEntropy(v, maxRows int) *SoftmaxCrossEntropy {
	return &SoftmaxCrossEntropy{V: v, rowLoss: make([]float64, maxRows)}
}

// Forward writes the softmax of each row of logits[rows, V] to probs[rows, V] and returns the
// mean cross-entropy against targets[rows] (each in [0, V)). rows must not exceed the maxRows
// given to NewSoftmaxCrossEntropy.
func (s *SoftmaxCrossEntropy) Forward(probs, logits []float32, targets []int32, rows int) float64 {
	s.job = softmaxXentJob{s: s, probs: probs, logits: logits, targets: targets}
	runChunks(&s.job, rows, softmaxXentMinRows, &s.split)
	var sum float64 // summed in row order: the same for any GOMAXPROCS
	for _, l := range s.rowLoss[:rows] {
		sum += l
	}
	return sum / float64(rows)
}

// Backward adds the gradient of the mean loss, (probs − onehot(target)) / rows, to dlogits.
func (s *SoftmaxCrossEntropy) Backward(dlogits, probs []float32, targets []int32, rows int) {
	v := s.V
	inv := 1 / float32(rows)
	for r := range rows {
		p, d := probs[r*v:(r+1)*v], dlogits[r*v:(r+1)*v]
		for i, pi := range p {
			d[i] += pi * inv
		}
		d[targets[r]] -= inv
	}
}

// BackwardSet is Backward with dlogits set to the gradient rather than added to, which spares
// the caller a pass that zeroes dlogits first; the rows are split over goroutines.
func (s *SoftmaxCrossEntropy) BackwardSet(dlogits, probs []float32, targets []int32, rows int) {
	s.job = softmaxXentJob{s: s, backward: true, probs: probs, logits: dlogits, targets: targets, rows: rows}
	runChunks(&s.job, rows, softmaxXentMinRows, &s.split)
}

type softmaxXentJob struct {
	s             *SoftmaxCrossEntropy
	backward      bool
	probs, logits []float32 // logits holds dlogits in the backward pass
	targets       []int32
	rows          int
}

func (j *softmaxXentJob) runChunk(lo, hi int) {
	v := j.s.V
	if j.backward {
		inv := 1 / float32(j.rows)
		d := j.logits[lo*v : hi*v]
		scaleInto(d, j.probs[lo*v:hi*v], inv)
		for r := lo; r < hi; r++ {
			d[(r-lo)*v+int(j.targets[r])] -= inv
		}
		return
	}
	for r := lo; r < hi; r++ {
		l, p := j.logits[r*v:(r+1)*v], j.probs[r*v:(r+1)*v]
		copy(p, l)
		mx, sum := softmaxRow(p)
		// −log p[target] from the logits, not from the rounded probability, so it stays finite.
		j.s.rowLoss[r] = math.Log(sum) - float64(l[j.targets[r]]-mx)
	}
}
