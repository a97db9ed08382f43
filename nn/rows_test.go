package nn_test

import (
	"math"
	"sync"
	"testing"

	"github.com/fadam-go/fadam/gemm"
	"github.com/fadam-go/fadam/nn"
)

// countRows records which rows RunRows was called on.
type countRows struct {
	mu     sync.Mutex
	seen   []int
	blocks [][2]int
}

func (c *countRows) RunRows(lo, hi int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for r := lo; r < hi; r++ {
		c.seen[r]++
	}
	c.blocks = append(c.blocks, [2]int{lo, hi})
}

func TestRowBlocksRunsEveryBlockOnce(t *testing.T) {
	var rb nn.RowBlocks
	for _, tc := range []struct{ rows, block int }{
		{0, 4}, {1, 4}, {4, 4}, {5, 4}, {200, 96}, {4096, 96}, {7, 100},
	} {
		c := &countRows{seen: make([]int, tc.rows)}
		rb.Run(c, tc.rows, tc.block)
		for r, n := range c.seen {
			if n != 1 {
				t.Fatalf("rows=%d block=%d: row %d run %d times", tc.rows, tc.block, r, n)
			}
		}
		for _, b := range c.blocks {
			if b[0]%tc.block != 0 || b[1]-b[0] > tc.block || b[1] != min(b[0]+tc.block, tc.rows) {
				t.Fatalf("rows=%d block=%d: block [%d, %d)", tc.rows, tc.block, b[0], b[1])
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a block of 0 rows did not panic")
		}
	}()
	rb.Run(&countRows{}, 10, 0)
}

// rowsJob runs f on each block, for the tests below.
type rowsJob func(lo, hi int)

func (f rowsJob) RunRows(lo, hi int) { f(lo, hi) }

func sameRowBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] = %v, the whole-batch method gives %v", what, i, got[i], want[i])
		}
	}
}

// TestRowsMethodsMatchWholeBatch checks every Rows method, run over blocks of rows on the
// pool, against the whole-batch method it stands for, bit for bit, with gemm.Fast (packed
// weights) and with a kernel that is not Fast.
func TestRowsMethodsMatchWholeBatch(t *testing.T) {
	for _, kern := range []gemm.Kernel{gemm.Default, naiveKernel{}} {
		withKernel(kern, func() { checkRowsMethods(t) })
	}
}

// checkRowsMethods is TestRowsMethodsMatchWholeBatch with the current gemm.Default.
func checkRowsMethods(t *testing.T) {
	for _, tc := range []struct{ rows, in, out, block int }{
		{200, 32, 96, 96}, {37, 16, 40, 32}, {96, 64, 64, 64}, {300, 48, 20, 96},
	} {
		seed := uint64(tc.rows*1000 + tc.in)
		randSlice := func(n int, std float64) []float32 {
			seed++
			return substrateRand(n, std, seed)
		}
		rows, in, out := tc.rows, tc.in, tc.out
		var rb nn.RowBlocks
		run := func(f func(lo, hi int)) { rb.Run(rowsJob(f), rows, tc.block) }

		l := nn.NewLinear("l", in, out, true)
		copy(l.W.Value, randSlice(out*in, 0.3))
		copy(l.B.Value, randSlice(out, 0.3))
		x, res := randSlice(rows*in, 1), randSlice(rows*out, 1)

		// Forward, with and without residual, and without bias.
		l.PackForward()
		want, got := make([]float32, rows*out), make([]float32, rows*out)
		l.ForwardResidual(want, res, x, rows)
		run(func(lo, hi int) { l.ForwardRows(got, res, x, lo, hi) })
		sameRowBits(t, "ForwardRows with residual", got, want)
		l.Forward(want, x, rows)
		run(func(lo, hi int) { l.ForwardRows(got, nil, x, lo, hi) })
		sameRowBits(t, "ForwardRows", got, want)
		l.ForwardNoBias(want, x, rows)
		run(func(lo, hi int) { l.ForwardRowsNoBias(got, x, lo, hi) })
		sameRowBits(t, "ForwardRowsNoBias", got, want)

		// Input gradient; BackwardWeights against BackwardSet's parameter gradients.
		dy := randSlice(rows*out, 1)
		l.PackBackward()
		wantDx, gotDx := make([]float32, rows*in), make([]float32, rows*in)
		nn.ZeroGrads(l.Params())
		l.BackwardSet(wantDx, dy, x, rows)
		wantW, wantB := append([]float32(nil), l.W.Grad...), append([]float32(nil), l.B.Grad...)
		nn.ZeroGrads(l.Params())
		run(func(lo, hi int) { l.BackwardRowsSet(gotDx, dy, lo, hi) })
		l.BackwardWeights(dy, x, rows, true)
		sameRowBits(t, "BackwardRowsSet", gotDx, wantDx)
		sameRowBits(t, "BackwardWeights W", l.W.Grad, wantW)
		sameRowBits(t, "BackwardWeights B", l.B.Grad, wantB)

		// The nn.GELU epilogue: l's input was gelu(pre + b).
		pre, b := randSlice(rows*in, 1), randSlice(in, 0.5)
		act, sig := make([]float32, rows*in), make([]float32, rows*in)
		var g nn.GELU
		g.ForwardBias(act, sig, pre, b)
		gotAct, gotSig := make([]float32, rows*in), make([]float32, rows*in)
		run(func(lo, hi int) { g.ForwardBiasRows(gotAct, gotSig, pre, b, lo, hi) })
		sameRowBits(t, "ForwardBiasRows y", gotAct, act)
		sameRowBits(t, "ForwardBiasRows sig", gotSig, sig)
		if tc.block%nn.GELUBiasRowBlock == 0 {
			wantDb, gotDb := randSlice(in, 1), make([]float32, in)
			copy(gotDb, wantDb)
			nn.ZeroGrads(l.Params())
			l.BackwardSetGELU(wantDx, dy, act, rows, pre, b, sig, wantDb)
			l.StartBackwardRowsGELU(gotDx, pre, b, sig, rows, true)
			run(func(lo, hi int) { l.BackwardRowsSetGELU(dy, lo, hi) })
			l.FinishBackwardRowsGELU(gotDb)
			sameRowBits(t, "BackwardRowsSetGELU dx", gotDx, wantDx)
			sameRowBits(t, "FinishBackwardRowsGELU db", gotDb, wantDb)

			// Without σ kept: the forward's y, and the backward recomputing σ.
			scratch := make([][]float32, (rows+tc.block-1)/tc.block)
			for i := range scratch {
				scratch[i] = make([]float32, in)
			}
			clear(gotAct)
			run(func(lo, hi int) { g.ForwardBiasRowsNoSig(gotAct, pre, b, scratch[lo/tc.block], lo, hi) })
			sameRowBits(t, "ForwardBiasRowsNoSig y", gotAct, act)
			clear(gotDx)
			clear(gotDb) // the bias sums alone, with σ recomputed and with it kept
			l.StartBackwardRowsGELU(gotDx, pre, b, nil, rows, true)
			run(func(lo, hi int) { l.BackwardRowsSetGELU(dy, lo, hi) })
			l.FinishBackwardRowsGELU(gotDb)
			sameRowBits(t, "BackwardRowsSetGELU without sig, dx", gotDx, wantDx)
			onlySums := make([]float32, in)
			l.StartBackwardRowsGELU(gotDx, pre, b, sig, rows, true)
			run(func(lo, hi int) { l.BackwardRowsSetGELU(dy, lo, hi) })
			l.FinishBackwardRowsGELU(onlySums)
			sameRowBits(t, "BackwardRowsSetGELU without sig, db", gotDb, onlySums)
		}

		// LayerNorm forward and backward.
		ln := nn.NewLayerNorm("ln", in)
		copy(ln.G.Value, randSlice(in, 1))
		copy(ln.B.Value, randSlice(in, 1))
		y, mean, rstd := make([]float32, rows*in), make([]float32, rows), make([]float32, rows)
		gy, gmean, grstd := make([]float32, rows*in), make([]float32, rows), make([]float32, rows)
		ln.Forward(y, mean, rstd, x, rows)
		run(func(lo, hi int) { ln.ForwardRows(gy, gmean, grstd, x, lo, hi) })
		sameRowBits(t, "LayerNorm.ForwardRows y", gy, y)
		sameRowBits(t, "LayerNorm.ForwardRows mean", gmean, mean)
		sameRowBits(t, "LayerNorm.ForwardRows rstd", grstd, rstd)
		if tc.block%nn.LayerNormRowBlock == 0 {
			dyn := randSlice(rows*in, 1)
			wantDx := randSlice(rows*in, 1)
			copy(gotDx, wantDx)
			nn.ZeroGrads(ln.Params())
			ln.Backward(wantDx, dyn, x, mean, rstd, rows)
			wantG, wantBb := append([]float32(nil), ln.G.Grad...), append([]float32(nil), ln.B.Grad...)
			nn.ZeroGrads(ln.Params())
			ln.StartBackwardRows(rows)
			run(func(lo, hi int) { ln.BackwardRows(gotDx, dyn, x, mean, rstd, lo, hi, rows) })
			ln.FinishBackwardRows(rows)
			sameRowBits(t, "LayerNorm.BackwardRows dx", gotDx, wantDx)
			sameRowBits(t, "LayerNorm.BackwardRows G", ln.G.Grad, wantG)
			sameRowBits(t, "LayerNorm.BackwardRows B", ln.B.Grad, wantBb)
		}
	}
}

// TestRowsFollowRepackedWeights checks that the Rows products use the weights as of the last
// PackForward/PackBackward, which is why a caller packs after every change of W.
func TestRowsFollowRepackedWeights(t *testing.T) {
	l := nn.NewLinear("l", 16, 24, false)
	copy(l.W.Value, substrateRand(16*24, 1, 1))
	x := substrateRand(40*16, 1, 2)
	want, got := make([]float32, 40*24), make([]float32, 40*24)
	for range 2 {
		l.PackForward()
		l.Forward(want, x, 40)
		l.ForwardRows(got, nil, x, 0, 40)
		sameRowBits(t, "ForwardRows after packing", got, want)
		for i := range l.W.Value {
			l.W.Value[i] *= -2
		}
	}
}
