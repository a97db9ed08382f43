package fadam_test

import (
	"math"

	"github.com/fadam-go/fadam"
)

// This file is an independent, deliberately literal float64 implementation of Algorithms 1 and
// 2 (with the zero-denominator rule and the PyTorchReference and LaterEps variants), used as the
// reference the optimized float32 code is checked against.

type refTensor struct {
	name    string
	shape   []int
	theta   []float64
	m       []float64
	f       []float64   // unfactored Fisher
	R, C    [][]float64 // factored: per leading index
	wd, lrS float64
}

type refOpt struct {
	cfg      fadam.Config
	factored bool
	t        int
	ts       []*refTensor
}

func newRef(cfg fadam.Config, factored bool, ps []fadam.Param) *refOpt {
	r := &refOpt{cfg: cfg, factored: factored}
	for _, p := range ps {
		t := &refTensor{name: p.Name, shape: p.Shape, wd: cfg.WeightDecay, lrS: 1}
		for _, v := range p.Value {
			t.theta = append(t.theta, float64(v))
		}
		t.m = make([]float64, len(p.Value))
		if factored && len(p.Shape) >= 2 {
			lead, n, m := dims(p.Shape)
			for range lead {
				t.R = append(t.R, ones(n))
				t.C = append(t.C, ones(m))
			}
		} else {
			t.f = ones(len(p.Value))
		}
		r.ts = append(r.ts, t)
	}
	return r
}

func ones(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = 1
	}
	return x
}

func dims(shape []int) (lead, n, m int) {
	lead = 1
	for _, d := range shape[:len(shape)-2] {
		lead *= d
	}
	return lead, shape[len(shape)-2], shape[len(shape)-1]
}

func rms(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(len(x)))
}

// step applies one step; grads in the same order as the tensors.
func (r *refOpt) step(grads [][]float32) {
	r.t++
	c := r.cfg
	t := float64(r.t)
	b2 := c.Beta2 * (1 - math.Pow(c.Beta2, t-1)) / (1 - math.Pow(c.Beta2, t)) // line 6
	for ti, tn := range r.ts {
		g := make([]float64, len(grads[ti]))
		for i, v := range grads[ti] {
			g[i] = float64(v)
			if c.Maximize {
				g[i] = -g[i]
			}
		}
		if len(g) == 0 {
			continue
		}
		var f []float64
		if tn.f != nil { // line 7
			for i := range g {
				tn.f[i] = b2*tn.f[i] + (1-b2)*g[i]*g[i]
			}
			f = tn.f
		} else { // Algorithm 2 lines 7–9
			lead, n, m := dims(tn.shape)
			f = make([]float64, len(g))
			for l := range lead {
				for i := range n {
					s := 0.0
					for j := range m {
						x := g[(l*n+i)*m+j]
						s += x * x
					}
					tn.R[l][i] = b2*tn.R[l][i] + (1-b2)*s
				}
				for j := range m {
					s := 0.0
					for i := range n {
						x := g[(l*n+i)*m+j]
						s += x * x
					}
					tn.C[l][j] = b2*tn.C[l][j] + (1-b2)*s
				}
				sumR := 0.0
				for _, v := range tn.R[l] {
					sumR += v
				}
				for i := range n {
					for j := range m {
						if sumR > 0 {
							f[(l*n+i)*m+j] = tn.R[l][i] * tn.C[l][j] / sumR
						}
					}
				}
			}
		}
		var den func(i int) float64
		rg := rms(g)
		switch c.Variant {
		case fadam.PyTorchReference:
			epsHat := c.Eps * math.Max(1, rg)
			den = func(i int) float64 { return math.Pow(f[i], c.Rho) + epsHat }
		case fadam.LaterEps:
			epsHat := c.Eps * math.Min(1, rg)
			den = func(i int) float64 { return math.Pow(f[i], c.Rho) + epsHat }
		default:
			epsHat := math.Min(c.Eps, c.Eps2*rg) // line 8
			den = func(i int) float64 { return math.Pow(f[i], c.Rho) + math.Pow(epsHat, 2*c.Rho) }
		}
		clip := func(x []float64) {
			r := rms(x)
			div := math.Max(1, r/c.Clip)
			if c.Variant == fadam.PyTorchReference || c.Variant == fadam.LaterEps {
				div = math.Max(1, r) / c.Clip
			}
			for i := range x {
				x[i] /= div
			}
		}
		gbar := make([]float64, len(g))
		gw := make([]float64, len(g))
		for i := range g {
			if d := den(i); d != 0 { // zero-denominator rule
				gbar[i] = g[i] / d      // line 9
				gw[i] = tn.theta[i] / d // line 12
			}
		}
		clip(gbar) // line 10
		clip(gw)   // line 13
		for i := range g {
			tn.m[i] = c.Beta1*tn.m[i] + (1-c.Beta1)*gbar[i]        // line 11
			tn.theta[i] -= c.LR * tn.lrS * (tn.m[i] + tn.wd*gw[i]) // line 14
		}
	}
}

// fisher returns the reference f of tensor i.
func (r *refOpt) fisher(i int) []float64 {
	tn := r.ts[i]
	if tn.f != nil {
		return tn.f
	}
	lead, n, m := dims(tn.shape)
	f := make([]float64, len(tn.theta))
	for l := range lead {
		sumR := 0.0
		for _, v := range tn.R[l] {
			sumR += v
		}
		for i := range n {
			for j := range m {
				if sumR > 0 {
					f[(l*n+i)*m+j] = tn.R[l][i] * tn.C[l][j] / sumR
				}
			}
		}
	}
	return f
}
