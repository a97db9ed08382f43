// Package ablate holds the ablation sweeps of the paper's Appendix C.1 and the step-by-step path
// from AdamW to FAdam used by `fadam ablate components`.
package ablate

import (
	"fmt"
	"math"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/reference"
)

// Stage is one point on the path from AdamW to FAdam; each stage adds one of the paper's
// corrections to the one before it.
type Stage int

const (
	// StageAdamW is AdamW: separate bias-corrected moments, update m̂/(√v̂+ε), decoupled λθ.
	StageAdamW Stage = iota
	// StageUpdateClip adds RMS clipping of the update (Algorithm 3, line 9).
	StageUpdateClip
	// StageNaturalMomentum takes momentum over the clipped natural gradient g/(√v̂+ε) instead of
	// dividing separate moments (§3.4.2); momentum is still bias-corrected.
	StageNaturalMomentum
	// StageNoBiasCorrection drops the momentum bias correction and keeps the Fisher estimate with
	// Algorithm 1's β̂₂ (line 6–7).
	StageNoBiasCorrection
	// StageAdaptiveEps uses ε̂ = min(ε, ε₂·RMS(g)) and the denominator f^ρ + ε̂^{2ρ} (line 8–9).
	StageAdaptiveEps
	// StageFisherDecay replaces λθ with the clipped Fisher-weighted decay θ/(f^ρ+ε̂^{2ρ}) of
	// Eq. (28): this stage is FAdam.
	StageFisherDecay
)

// Stages lists every stage in path order.
var Stages = []Stage{StageAdamW, StageUpdateClip, StageNaturalMomentum, StageNoBiasCorrection, StageAdaptiveEps, StageFisherDecay}

var stageNames = []string{
	"(0) AdamW",
	"(1) + RMS clipping of the update",
	"(2) + momentum over the natural gradient",
	"(3) − momentum bias correction, + β̂₂",
	"(4) + adaptive ε",
	"(5) + Fisher-weighted weight decay = FAdam",
}

// String returns the stage's description as used in reports.
func (s Stage) String() string {
	if s < 0 || int(s) >= len(stageNames) {
		return fmt.Sprintf("Stage(%d)", int(s))
	}
	return stageNames[s]
}

// Path is an optimizer at one stage of the AdamW → FAdam path. It computes in float64 per
// element and keeps float32 state, and is written for clarity rather than speed: it exists to
// attribute a difference between AdamW and FAdam to one correction. A Path is not safe for
// concurrent use.
type Path struct {
	cfg      fadam.Config
	stage    Stage
	fixedEps bool // ε̂ = ε even at stages ≥ StageAdaptiveEps (the eps sweep's fixed-ε rows)
	t        int
	state    []pathState
	names    []string
}

type pathState struct {
	momentum []float32 // m
	fisher   []float32 // v (stages 0–2, uncorrected) or f (stages 3–5, corrected through β̂₂)
	// Per-step float64 scratch, kept so that a step allocates nothing: the update (stages 0–1)
	// or the natural gradient (2–5), the denominator, and the Fisher-weighted decay (5).
	update, denom, decay []float64
}

// NewPath returns the optimizer of the given stage. Weight decay applies to every tensor it
// steps; the training loop keeps the tensors that must not decay in a separate optimizer. It has
// no global-norm clipping: a cfg with MaxGradNorm ≠ 0 is an error.
func NewPath(stage Stage, cfg fadam.Config) (*Path, error) {
	if stage < StageAdamW || stage > StageFisherDecay {
		return nil, fmt.Errorf("ablate: unknown stage %d", int(stage))
	}
	if err := cfg.Validate(fadam.AlgorithmFAdam); err != nil {
		return nil, fmt.Errorf("ablate: %w", err)
	}
	if cfg.MaxGradNorm != 0 { // rather than silently ignored
		return nil, fmt.Errorf("ablate: %w: MaxGradNorm = %v: the path has no global-norm clipping", fadam.ErrInvalidConfig, cfg.MaxGradNorm)
	}
	return &Path{cfg: cfg, stage: stage}, nil
}

// NewFixedEpsFAdam returns FAdam with the adaptive ε turned off: ε̂ = ε at every step.
func NewFixedEpsFAdam(cfg fadam.Config) (*Path, error) {
	p, err := NewPath(StageFisherDecay, cfg)
	if err != nil {
		return nil, err
	}
	p.fixedEps = true
	return p, nil
}

// SetLR changes the learning rate used by the following steps.
func (p *Path) SetLR(lr float64) { p.cfg.LR = lr }

// Step applies one update to every parameter. On an error nothing is changed.
func (p *Path) Step(params []fadam.Param) error {
	if err := p.check(params); err != nil {
		return err
	}
	if p.state == nil {
		p.state = make([]pathState, len(params))
		p.names = make([]string, len(params))
		for i, q := range params {
			p.names[i] = q.Name
			n := len(q.Value)
			p.state[i] = pathState{momentum: make([]float32, n), fisher: make([]float32, n),
				update: make([]float64, n), denom: make([]float64, n), decay: make([]float64, n)}
			if p.stage >= StageNoBiasCorrection {
				fill(p.state[i].fisher, 1) // Algorithm 1, line 2 (irrelevant through β̂₂)
			}
		}
	}
	p.t++
	for i, q := range params {
		p.stepTensor(q, &p.state[i])
	}
	return nil
}

func (p *Path) check(params []fadam.Param) error {
	if p.state != nil && len(params) != len(p.state) {
		return fmt.Errorf("ablate: %d parameters, but %d at the first step", len(params), len(p.state))
	}
	for i, q := range params {
		if len(q.Value) != len(q.Grad) {
			return fmt.Errorf("ablate: parameter %q: %d values but %d gradients", q.Name, len(q.Value), len(q.Grad))
		}
		if p.state != nil && (q.Name != p.names[i] || len(q.Value) != len(p.state[i].momentum)) {
			return fmt.Errorf("ablate: parameter %d (%q) differs from the first step's", i, q.Name)
		}
		for _, g := range q.Grad {
			if math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) {
				return fmt.Errorf("ablate: parameter %q: non-finite gradient", q.Name)
			}
		}
	}
	return nil
}

func (p *Path) stepTensor(q fadam.Param, s *pathState) {
	c := p.cfg
	t := float64(p.t)
	n := float64(len(q.Value))
	lambda := c.WeightDecay
	sign := 1.0
	if c.Maximize {
		sign = -1
	}
	grad := func(i int) float64 { return sign * float64(q.Grad[i]) }

	if p.stage <= StageUpdateClip { // Adam: separate moments, divided after bias correction
		bc1, bc2 := 1-math.Pow(c.Beta1, t), 1-math.Pow(c.Beta2, t)
		update := s.update
		for i := range q.Value {
			g := grad(i)
			m := c.Beta1*float64(s.momentum[i]) + (1-c.Beta1)*g
			v := c.Beta2*float64(s.fisher[i]) + (1-c.Beta2)*g*g
			s.momentum[i], s.fisher[i] = float32(m), float32(v)
			update[i] = (m / bc1) / (math.Sqrt(v/bc2) + c.Eps)
		}
		if p.stage == StageUpdateClip {
			reference.ClipRMS(c, update) // Algorithm 3, line 9
		}
		for i := range q.Value {
			th := float64(q.Value[i])
			q.Value[i] = float32(th - c.LR*(update[i]+lambda*th))
		}
		return
	}

	// Stages 2–5: momentum over the clipped natural gradient g/d.
	beta2 := c.Beta2 // stage 2 keeps Adam's uncorrected v and divides by 1−β₂^t on use
	if p.stage >= StageNoBiasCorrection {
		beta2 = reference.Beta2Hat(c.Beta2, p.t) // β̂₂, Algorithm 1 line 6
	}
	eps := c.Eps
	if p.stage >= StageAdaptiveEps && !p.fixedEps {
		ss := 0.0
		for i := range q.Grad {
			ss += grad(i) * grad(i)
		}
		eps = reference.AdaptiveEps(c, math.Sqrt(ss/n)) // line 8
	}
	denom, natural := s.denom, s.update
	fisherDiv := 1.0 // stage 2 divides Adam's v by 1−β₂^t on use
	if p.stage == StageNaturalMomentum {
		fisherDiv = 1 - math.Pow(c.Beta2, t)
	}
	for i := range q.Value {
		g := grad(i)
		f := beta2*float64(s.fisher[i]) + (1-beta2)*g*g
		s.fisher[i] = float32(f)
		denom[i] = reference.Denominator(c, f/fisherDiv, eps) // lines 9 and 12
		natural[i] = reference.Div(g, denom[i])
	}
	reference.ClipRMS(c, natural) // line 10
	mScale := 1.0
	if p.stage == StageNaturalMomentum {
		mScale = 1 / (1 - math.Pow(c.Beta1, t))
	}
	var decay []float64
	if p.stage == StageFisherDecay {
		decay = s.decay
		for i := range q.Value {
			decay[i] = reference.Div(float64(q.Value[i]), denom[i]) // line 12
		}
		reference.ClipRMS(c, decay) // line 13
	}
	for i := range q.Value {
		m := c.Beta1*float64(s.momentum[i]) + (1-c.Beta1)*natural[i]
		s.momentum[i] = float32(m)
		th := float64(q.Value[i])
		wd := th
		if decay != nil {
			wd = decay[i]
		}
		q.Value[i] = float32(th - c.LR*(m*mScale+lambda*wd))
	}
}

func fill(x []float32, v float32) {
	for i := range x {
		x[i] = v
	}
}
