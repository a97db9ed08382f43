package nn_test

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/gemm"
	"github.com/fadam-go/fadam/nn"
)

// naiveKernel is a gemm.Kernel that is neither gemm.Fast nor gonum: a plain triple loop.
type naiveKernel struct{}

func (naiveKernel) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := range m {
		for j := range n {
			var s float32
			for p := range k {
				ai, bi := i*lda+p, p*ldb+j
				if transA {
					ai = p*lda + i
				}
				if transB {
					bi = j*ldb + p
				}
				s += a[ai] * b[bi]
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// epilogueKernels are the kernels the fused layers are checked with: the default (Fast, whose
// epilogue runs per cache block and per split), gonum and the naive loop (one epilogue call
// over the whole output).
var epilogueKernels = []gemm.Kernel{gemm.Default, gemm.Gonum{}, naiveKernel{}}

// withKernel runs f with gemm.Default set to k.
func withKernel(k gemm.Kernel, f func()) {
	saved := gemm.Default
	defer func() { gemm.Default = saved }()
	gemm.Default = k
	f()
}

// epilogueShapes are rows × in × out of a linear layer: k = in = 1 and 2 (k = 0 is covered in
// gemm; a layer needs in ≥ 1 for its strides), outputs that are not
// multiples of the micro-tiles, products split over rows and over columns, and an output wider
// than the column cache block.
var epilogueShapes = [][3]int{
	{1, 1, 1}, {5, 2, 3}, {7, 1, 9}, {13, 17, 19}, {97, 33, 70}, {300, 64, 70}, {40, 64, 600}, {130, 20, 1030},
}

// linearRef returns x·Wᵀ in float64 and a bound on the float32 rounding error of each element:
// (in+3)·2⁻²³·Σ|x·w|, twice the standard bound of a dot product of length in.
func linearRef(l *nn.Linear, x []float32, rows int) (want, bound []float64) {
	want, bound = make([]float64, rows*l.Out), make([]float64, rows*l.Out)
	for r := range rows {
		for o := range l.Out {
			var s, sa float64
			for i := range l.In {
				p := float64(x[r*l.In+i]) * float64(l.W.Value[o*l.In+i])
				s += p
				sa += math.Abs(p)
			}
			want[r*l.Out+o], bound[r*l.Out+o] = s, float64(l.In+3)*0x1p-23*sa
		}
	}
	return want, bound
}

func newTestLinear(in, out int, bias bool, seed uint64) *nn.Linear {
	l := nn.NewLinear("l", in, out, bias)
	copy(l.W.Value, substrateRand(in*out, 1, seed))
	if bias {
		copy(l.B.Value, substrateRand(out, 1, seed+1))
	}
	return l
}

// checkWithin fails t at the first element of got farther from want than bound.
func checkWithin(t *testing.T, what string, got []float32, want, bound []float64) {
	t.Helper()
	for i, w := range want {
		if d := math.Abs(float64(got[i]) - w); !(d <= bound[i]) {
			t.Fatalf("%s[%d] = %.8g, want %.8g ± %.3g", what, i, got[i], w, bound[i])
		}
	}
}

// TestLinearForwardEveryKernel checks Forward and ForwardResidual against float64 with every
// kernel on the edge shapes, with and without bias, with the residual absent, in its own
// buffer, and aliased by y.
func TestLinearForwardEveryKernel(t *testing.T) {
	for _, kern := range epilogueKernels {
		for si, s := range epilogueShapes {
			rows, in, out := s[0], s[1], s[2]
			for _, bias := range []bool{true, false} {
				for _, resMode := range []string{"none", "separate", "aliased"} {
					name := fmt.Sprintf("%s %v bias=%v res=%s", gemm.Name(kern), s, bias, resMode)
					l := newTestLinear(in, out, bias, uint64(si))
					x := substrateRand(rows*in, 1, 7)
					res := substrateRand(rows*out, 1, 8)
					want, bound := linearRef(l, x, rows)
					for i := range want {
						o := i % out
						if bias {
							want[i] += float64(l.B.Value[o])
							bound[i] += 0x1p-23 * math.Abs(want[i])
						}
						if resMode != "none" {
							want[i] += float64(res[i])
							bound[i] += 0x1p-23 * (math.Abs(want[i]) + math.Abs(float64(res[i])))
						}
					}
					y := substrateRand(rows*out, 1, 9) // overwritten (NaN too)
					y[0] = float32(math.NaN())
					withKernel(kern, func() {
						switch resMode {
						case "none":
							l.Forward(y, x, rows)
						case "separate":
							l.ForwardResidual(y, res, x, rows)
						default:
							y = res
							l.ForwardResidual(y, y, x, rows)
						}
					})
					checkWithin(t, name, y, want, bound)
				}
			}
		}
	}
}

// geluRef returns gelu′(v) in float64 (the derivative of the tanh form).
func geluRef(v float64) float64 {
	const c = 0.7978845608028654
	th := math.Tanh(c * (v + 0.044715*v*v*v))
	return 0.5*(1+th) + 0.5*v*(1-th*th)*c*(1+3*0.044715*v*v)
}

// mlpCase is the MLP x → fc → GELU → proj of a transformer block on rows rows.
type mlpCase struct {
	rows, d, hidden, out int
}

// TestLinearBackwardSetGELU checks BackwardSetGELU with every kernel and GOMAXPROCS 1 to 3: dx,
// the bias gradient it sums into db and proj's own gradients equal, bit for bit, BackwardSet into
// a buffer then GELU.BackwardSetBias, and dx and db agree with float64 within tolerance. Rows
// cover fewer than, exactly and not a multiple of the 32-row blocks of the bias sums.
func TestLinearBackwardSetGELU(t *testing.T) {
	for _, kern := range epilogueKernels {
		for ci, c := range []mlpCase{{1, 3, 5, 2}, {31, 4, 9, 3}, {64, 8, 40, 7}, {97, 5, 70, 33}, {300, 16, 64, 20}, {1000, 8, 96, 48}, {45, 4, 1030, 6}} {
			for _, bias := range []bool{true, false} {
				name := fmt.Sprintf("%s %+v bias=%v", gemm.Name(kern), c, bias)
				fc := newTestLinear(c.d, c.hidden, bias, uint64(ci))
				proj := newTestLinear(c.hidden, c.out, true, uint64(ci)+10)
				x := substrateRand(c.rows*c.d, 1, 3)
				n := c.rows * c.hidden
				pre, act, sig := make([]float32, n), make([]float32, n), make([]float32, n)
				var gl nn.GELU
				withKernel(kern, func() { fc.ForwardNoBias(pre, x, c.rows) })
				var b []float32
				if bias {
					b = fc.B.Value
					gl.ForwardBias(act, sig, pre, b)
				} else {
					gl.Forward(act, sig, pre)
				}
				dy := substrateRand(c.rows*c.out, 1, 4)

				// The unfused reference: proj.BackwardSet into g, then GELU.BackwardSetBias.
				g, wantDx := make([]float32, n), make([]float32, n)
				wantDb := substrateRand(c.hidden, 1, 5)
				withKernel(kern, func() { proj.BackwardSet(g, dy, act, c.rows) })
				if bias {
					gl.BackwardSetBias(wantDx, g, pre, b, sig, wantDb)
				} else {
					// Without a bias BackwardSetBias does not apply: dx is BackwardSet's, and
					// db is checked against float64 only.
					gl.BackwardSet(wantDx, g, pre, sig)
					wantDb = nil
				}
				wantW, wantB := append([]float32(nil), proj.W.Grad...), append([]float32(nil), proj.B.Grad...)

				for _, procs := range []int{1, 2, 3} {
					prev := runtime.GOMAXPROCS(procs)
					nn.ZeroGrads(proj.Params())
					dx := substrateRand(n, 1, 6)
					dx[0] = float32(math.NaN()) // overwritten
					db := substrateRand(c.hidden, 1, 5)
					withKernel(kern, func() { proj.BackwardSetGELU(dx, dy, act, c.rows, pre, b, sig, db) })
					runtime.GOMAXPROCS(prev)
					for _, v := range []struct {
						what      string
						got, want []float32
					}{{"dx", dx, wantDx}, {"db", db, wantDb}, {"proj dW", proj.W.Grad, wantW}, {"proj db", proj.B.Grad, wantB}} {
						for i := range v.want {
							if math.Float32bits(v.got[i]) != math.Float32bits(v.want[i]) {
								t.Fatalf("%s GOMAXPROCS=%d: %s[%d] = %v, unfused %v", name, procs, v.what, i, v.got[i], v.want[i])
							}
						}
					}
					// float64: dx = (dy·W)·gelu′(v), db = start + Σ_rows dx.
					start := substrateRand(c.hidden, 1, 5)
					refDx, refDb := make([]float64, n), make([]float64, c.hidden)
					boundDx, boundDb := make([]float64, n), make([]float64, c.hidden)
					for r := range c.rows {
						for j := range c.hidden {
							var s, sa float64
							for o := range c.out {
								p := float64(dy[r*c.out+o]) * float64(proj.W.Value[o*c.hidden+j])
								s += p
								sa += math.Abs(p)
							}
							v := float64(pre[r*c.hidden+j])
							if bias {
								v += float64(b[j])
							}
							d := geluRef(v)
							i := r*c.hidden + j
							refDx[i] = s * d
							boundDx[i] = float64(c.out+3)*0x1p-23*sa*math.Abs(d) + 1e-5*math.Abs(s)
							refDb[j] += refDx[i]
							boundDb[j] += boundDx[i] + float64(c.rows)*0x1p-23*math.Abs(refDx[i])
						}
					}
					for j := range refDb {
						refDb[j] += float64(start[j])
						boundDb[j] += 0x1p-23 * math.Abs(refDb[j])
					}
					checkWithin(t, name+" dx", dx, refDx, boundDx)
					checkWithin(t, name+" db", db, refDb, boundDb)
				}
			}
		}
	}
}

// TestMLPFusedGradients checks the fused MLP's gradients (BackwardSetGELU, then
// fc.BackwardSetNoBias) against central differences of Σ w·proj(gelu(fc(x))), in x and in
// every parameter.
func TestMLPFusedGradients(t *testing.T) {
	for _, kern := range epilogueKernels {
		const rows, d, hidden, out = 40, 5, 12, 3
		fc := newTestLinear(d, hidden, true, 1)
		proj := newTestLinear(hidden, out, true, 3)
		for _, p := range []*fadam.Param{fc.W, fc.B, proj.W, proj.B} {
			for i := range p.Value {
				p.Value[i] *= 0.5
			}
		}
		x := substrateRand(rows*d, 1, 5)
		w := substrateRand(rows*out, 1, 6)
		pre, act, sig := make([]float32, rows*hidden), make([]float32, rows*hidden), make([]float32, rows*hidden)
		y := make([]float32, rows*out)
		var g nn.GELU
		withKernel(kern, func() {
			loss := func() float64 {
				fc.ForwardNoBias(pre, x, rows)
				g.ForwardBias(act, sig, pre, fc.B.Value)
				proj.Forward(y, act, rows)
				return substrateDot(w, y)
			}
			loss()
			nn.ZeroGrads(append(fc.Params(), proj.Params()...))
			dPre, dx := make([]float32, rows*hidden), make([]float32, rows*d)
			proj.BackwardSetGELU(dPre, w, act, rows, pre, fc.B.Value, sig, fc.B.Grad)
			fc.BackwardSetNoBias(dx, dPre, x, rows)
			substrateGradcheck(t, gemm.Name(kern)+" x", loss, x, dx, 1e-2, 1e-2)
			for _, p := range append(fc.Params(), proj.Params()...) {
				substrateGradcheck(t, gemm.Name(kern)+" "+p.Name, loss, p.Value, p.Grad, 1e-2, 1e-2)
			}
		})
	}
}
