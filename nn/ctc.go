package nn

import (
	"fmt"
	"math"
	"sync"
)

// CTCBlank is the label index CTC reserves for "no symbol".
const CTCBlank = 0

// CTCLoss returns the connectionist temporal classification loss −log p(labels | logits) of one
// utterance (Graves et al., 2006), with the softmax folded in: logits[T, V] are unnormalised
// scores per frame over V classes, class CTCBlank (0) is the blank, and labels are in [1, V).
// The forward–backward recursions run in log space in float64, so long utterances do not
// underflow. When dlogits is non-nil it adds scale·∂loss/∂logits to it:
// scale·(softmax(logits_t) − γ_t), where γ_t(k) is the posterior probability that frame t emits
// class k. It returns an error, and leaves dlogits untouched, when a label is out of range or the
// T frames are too few to emit the labels (each repeated pair needs a blank between).
func CTCLoss(dlogits, logits []float32, t, v int, labels []int32, scale float32) (float64, error) {
	if t <= 0 || v < 2 || len(logits) < t*v {
		return 0, fmt.Errorf("nn: CTCLoss: %d frames × %d classes with %d logits", t, v, len(logits))
	}
	need := len(labels)
	for i, l := range labels {
		if l <= CTCBlank || int(l) >= v {
			return 0, fmt.Errorf("nn: CTCLoss: label %d at position %d outside [1, %d)", l, i, v)
		}
		if i > 0 && labels[i-1] == l {
			need++
		}
	}
	if need > t {
		return 0, fmt.Errorf("nn: CTCLoss: %d labels need at least %d frames, have %d", len(labels), need, t)
	}

	// Extended label sequence l′: blank, l1, blank, l2, …, blank.
	s := 2*len(labels) + 1
	ext := make([]int32, s)
	for i, l := range labels {
		ext[2*i+1] = l
	}
	logp := make([]float64, t*v) // log-softmax of each frame
	for f := range t {
		row, out := logits[f*v:(f+1)*v], logp[f*v:(f+1)*v]
		mx := row[0]
		for _, x := range row {
			mx = max(mx, x)
		}
		var sum float64
		for _, x := range row {
			sum += math.Exp(float64(x) - float64(mx))
		}
		lse := float64(mx) + math.Log(sum)
		for k, x := range row {
			out[k] = float64(x) - lse
		}
	}
	// skip reports whether state i may be entered from i−2 (a label differing from the previous one).
	skip := func(i int) bool { return i >= 2 && ext[i] != CTCBlank && ext[i] != ext[i-2] }

	negInf := math.Inf(-1)
	alpha := make([]float64, t*s) // log p(prefix ending in state i at frame f), emissions 0..f
	beta := make([]float64, t*s)  // log p(rest | state i at frame f), emissions f+1..T−1
	for i := range alpha {
		alpha[i], beta[i] = negInf, negInf
	}
	alpha[0] = logp[int(ext[0])]
	if s > 1 {
		alpha[1] = logp[int(ext[1])]
	}
	for f := 1; f < t; f++ {
		prev, cur := alpha[(f-1)*s:f*s], alpha[f*s:(f+1)*s]
		for i := range s {
			a := prev[i]
			if i >= 1 {
				a = ctcLogAdd(a, prev[i-1])
			}
			if skip(i) {
				a = ctcLogAdd(a, prev[i-2])
			}
			if a != negInf {
				cur[i] = a + logp[f*v+int(ext[i])]
			}
		}
	}
	last := alpha[(t-1)*s : t*s]
	logZ := last[s-1]
	if s > 1 {
		logZ = ctcLogAdd(logZ, last[s-2])
	}
	if dlogits == nil {
		return -logZ, nil
	}

	end := beta[(t-1)*s : t*s]
	end[s-1] = 0
	if s > 1 {
		end[s-2] = 0
	}
	for f := t - 2; f >= 0; f-- {
		next, cur := beta[(f+1)*s:(f+2)*s], beta[f*s:(f+1)*s]
		for i := range s {
			b := next[i] + logp[(f+1)*v+int(ext[i])]
			if i+1 < s {
				b = ctcLogAdd(b, next[i+1]+logp[(f+1)*v+int(ext[i+1])])
			}
			if i+2 < s && skip(i+2) {
				b = ctcLogAdd(b, next[i+2]+logp[(f+1)*v+int(ext[i+2])])
			}
			cur[i] = b
		}
	}
	// ∂(−log Z)/∂logit_{f,k} = softmax_{f,k} − Σ_{i: l′_i = k} exp(α_f(i) + β_f(i) − log Z).
	gamma := make([]float64, v)
	for f := range t {
		clear(gamma)
		for i := range s {
			if a, b := alpha[f*s+i], beta[f*s+i]; a != negInf && b != negInf {
				gamma[ext[i]] += math.Exp(a + b - logZ)
			}
		}
		d := dlogits[f*v : (f+1)*v]
		for k := range v {
			d[k] += scale * float32(math.Exp(logp[f*v+k])-gamma[k])
		}
	}
	return -logZ, nil
}

// ctcLogAdd returns log(exp(a) + exp(b)) without overflow; −Inf stands for probability 0.
func ctcLogAdd(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(b, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// CTCBatchLoss returns the mean CTC loss of b utterances padded to t frames: utterance u has
// logits[u·t·v : (u+1)·t·v], of which the first frames[u] frames are real, and target labels[u].
// When dlogits is non-nil it adds the gradient of the mean to it (padded frames get none).
// Utterances run in parallel; the sum is taken in utterance order, so the result does not depend
// on scheduling. The first failing utterance's error is returned.
func CTCBatchLoss(dlogits, logits []float32, b, t, v int, frames []int, labels [][]int32) (float64, error) {
	if len(frames) < b || len(labels) < b {
		return 0, fmt.Errorf("nn: CTCBatchLoss: %d utterances but %d frame counts and %d label sequences", b, len(frames), len(labels))
	}
	losses := make([]float64, b)
	errs := make([]error, b)
	scale := 1 / float32(b)
	var wg sync.WaitGroup
	for u := range b {
		if frames[u] > t {
			return 0, fmt.Errorf("nn: CTCBatchLoss: utterance %d has %d frames, padded length is %d", u, frames[u], t)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var d []float32
			if dlogits != nil {
				d = dlogits[u*t*v : (u*t+frames[u])*v]
			}
			losses[u], errs[u] = CTCLoss(d, logits[u*t*v:(u*t+frames[u])*v], frames[u], v, labels[u], scale)
		}()
	}
	wg.Wait()
	var sum float64
	for u := range b {
		if errs[u] != nil {
			return 0, fmt.Errorf("utterance %d: %w", u, errs[u])
		}
		sum += losses[u]
	}
	return sum / float64(b), nil
}

// CTCGreedyDecode returns the best-path transcription of logits[T, V]: the most likely class
// of each frame, with repeats collapsed and blanks dropped.
func CTCGreedyDecode(logits []float32, t, v int) []int32 {
	var out []int32
	prev := int32(-1)
	for f := range t {
		row := logits[f*v : (f+1)*v]
		best := int32(0)
		for k, x := range row {
			if x > row[best] {
				best = int32(k)
			}
		}
		if best != prev && best != CTCBlank {
			out = append(out, best)
		}
		prev = best
	}
	return out
}
