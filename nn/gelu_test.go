package nn_test

import (
	"math"
	"runtime"
	"testing"

	"github.com/fadam-go/fadam/nn"
)

func TestGELUValues(t *testing.T) {
	// Values of x/2·(1+tanh(√(2/π)(x+0.044715x³))) computed in float64 by hand.
	x := []float32{-3, -1, 0, 0.5, 1, 2}
	want := []float64{-0.0036373920817729943, -0.15880800939172324, 0, 0.34571400982514394, 0.8411919906082768, 1.954597694087775}
	y := make([]float32, len(x))
	var g nn.GELU
	g.Forward(y, make([]float32, len(x)), x)
	substrateClose(t, "gelu", y, want, 1e-6)
}

func TestGELUGradients(t *testing.T) {
	// 40000 elements crosses the threshold at which the work is split over goroutines.
	for _, n := range []int{17, 40000} {
		x := substrateRand(n, 2, 1)
		w := substrateRand(n, 1, 2)
		y, sig := make([]float32, n), make([]float32, n)
		var g nn.GELU
		loss := func() float64 { g.Forward(y, sig, x); return substrateDot(w, y) }
		loss()
		dx := make([]float32, n)
		g.Backward(dx, w, x, sig)
		substrateGradcheck(t, "x", loss, x, dx, 1e-2, 1e-2)
		// BackwardSet overwrites what is there with the same gradient.
		loss() // σ of the unperturbed x again
		clear(dx)
		g.Backward(dx, w, x, sig)
		set := substrateRand(n, 1, 3)
		g.BackwardSet(set, w, x, sig)
		for i := range dx {
			if set[i] != dx[i] {
				t.Fatalf("n=%d: BackwardSet gives %v at %d, Backward into zeros %v", n, set[i], i, dx[i])
			}
		}
	}
}

func TestGELUExtremeInputsStayFinite(t *testing.T) {
	x := []float32{-3e38, -1e30, -1e7, -60, 60, 1e7, 1e30, 3e38}
	want := []float64{0, 0, 0, 0, 60, 1e7, 1e30, 3e38}
	wantD := []float32{0, 0, 0, 0, 1, 1, 1, 1}
	y, dx, ones := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
	nn.Fill(ones, 1)
	var g nn.GELU
	sig := make([]float32, len(x))
	g.Forward(y, sig, x)
	g.Backward(dx, ones, x, sig)
	for i := range x {
		if math.Abs(float64(y[i])-want[i]) > 1e-6*math.Abs(want[i])+1e-6 || math.Abs(float64(dx[i]-wantD[i])) > 1e-6 {
			t.Errorf("gelu(%g) = %g, gelu′ = %g; want %g, %g", x[i], y[i], dx[i], want[i], wantD[i])
		}
	}
}

// TestGELUBias checks the bias-fused GELU: ForwardBias gives Forward's y and σ on x + b bit for
// bit and leaves x alone; BackwardSetBias writes BackwardSet's gradient on x + b and adds its
// column sums to db (against a float64 sum), the same for any GOMAXPROCS; and its gradients
// pass the finite-difference check of Σ w·gelu(x + b) in b and in x.
func TestGELUBias(t *testing.T) {
	for _, tc := range []struct{ rows, n int }{{5, 7}, {70, 48}, {300, 64}} {
		rows, n := tc.rows, tc.n
		x := substrateRand(rows*n, 2, 1)
		x0 := append([]float32(nil), x...)
		b := substrateRand(n, 1, 2)
		w := substrateRand(rows*n, 1, 3)
		var g nn.GELU
		y, sig := make([]float32, rows*n), make([]float32, rows*n)
		g.ForwardBias(y, sig, x, b)
		u := append([]float32(nil), x...)
		for r := range rows {
			nn.ResidualAdd(u[r*n:(r+1)*n], u[r*n:(r+1)*n], b)
		}
		wy, wsig := make([]float32, rows*n), make([]float32, rows*n)
		g.Forward(wy, wsig, u)
		for i := range y {
			if y[i] != wy[i] || sig[i] != wsig[i] || x[i] != x0[i] {
				t.Fatalf("%v: ForwardBias y, σ, x [%d] = %v, %v, %v; Forward on x + b gives %v, %v (x %v)",
					tc, i, y[i], sig[i], x[i], wy[i], wsig[i], x0[i])
			}
		}

		wdx := make([]float32, rows*n)
		g.BackwardSet(wdx, w, u, wsig)
		db1 := make([]float32, n)
		dx := make([]float32, rows*n)
		for _, procs := range []int{1, 2, 3} {
			prev := runtime.GOMAXPROCS(procs)
			dx = substrateRand(rows*n, 1, 4)
			db := substrateRand(n, 1, 5)
			g.BackwardSetBias(dx, w, x, b, sig, db)
			runtime.GOMAXPROCS(prev)
			for i := range dx {
				if dx[i] != wdx[i] {
					t.Fatalf("%v: BackwardSetBias dx[%d] = %v, BackwardSet on x + b %v", tc, i, dx[i], wdx[i])
				}
			}
			start := substrateRand(n, 1, 5)
			for j := range n {
				want := float64(start[j])
				for r := range rows {
					want += float64(wdx[r*n+j])
				}
				if math.Abs(float64(db[j])-want) > 1e-5*(1+math.Abs(want))*float64(rows) {
					t.Fatalf("%v: db[%d] = %v, want %v", tc, j, db[j], want)
				}
				if procs == 1 {
					db1[j] = db[j]
				} else if db[j] != db1[j] {
					t.Fatalf("%v: db[%d] = %v with GOMAXPROCS=%d, %v with 1", tc, j, db[j], procs, db1[j])
				}
			}
		}

		if rows > 70 {
			continue
		}
		bb := append([]float32(nil), b...)
		loss := func() float64 {
			g.ForwardBias(y, sig, x, bb)
			return substrateDot(w, y)
		}
		loss()
		db := make([]float32, n)
		g.BackwardSetBias(dx, w, x, bb, sig, db)
		substrateGradcheck(t, "b", loss, bb, db, 1e-2, 1e-2)
		substrateGradcheck(t, "x", loss, x, dx, 1e-2, 1e-2)
	}
}
