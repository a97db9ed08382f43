package fadam

import "math"

// tileCols and tileElems fix the tiles of a factored tensor: at most tileCols columns, and
// enough rows for about tileElems elements. Constants, so the reductions never depend on the
// machine.
const (
	tileCols  = 1024
	tileElems = 1 << 16
)

// factoredFisher is the factored second-moment estimate of Adafactor (Algorithm 4 lines 7–9) and
// FAdafactor (Algorithm 2 lines 7–9) for a tensor of rank ≥ 2 with trailing dimensions n×m:
// per leading index, R (n) is the EMA of row sums of g², C (m) the EMA of column sums, and
// f_ij = R_i C_j / Σ_i R_i. R and C are stored as their square roots (float32), which covers the
// whole range of g² for finite float32 g, and makes √f_ij = √R_i √C_j / √ΣR a product.
//
// The tensor is processed in tiles of rows × columns of one leading index; pass 0's row and
// column partial sums are kept per tile and combined in tile order.
type factoredFisher struct {
	Shape        []int     // the tensor's shape
	Lead, N, M   int       // leading count and the trailing n×m
	SqrtR, SqrtC []float32 // √R (Lead×N) and √C (Lead×M)
	rowsPerTile  int
	colsPerTile  int
	rowBlocks    int
	colBlocks    int
	rowPart      []float64 // Σ_j g² per row and column block
	colPart      []float64 // Σ_i g² per row block and column
	RowF         []float64 // √R_i / √ΣR per row: √f_ij = RowF[i]·ColF[j]
	ColF         []float64 // √C_j as float64
	grad         []float32
}

// factorable reports whether a tensor keeps a factored second-moment estimate: rank ≥ 2 and at
// least one element (n is the product of shape). A tensor without elements keeps an empty
// unfactored one instead, so that every tensor's state is bounded by its element count: the R
// of a 2^40×0 tensor would hold 2^40 values that no gradient can ever reach.
func factorable(shape []int, n int) bool { return len(shape) >= 2 && n > 0 }

// newFactoredFisher lays out the factored statistics of shape (rank ≥ 2, at least one element:
// see [factorable]) with R and C set to init. R and C then hold at most 2n values.
func newFactoredFisher(shape []int, init float32) *factoredFisher {
	r := len(shape)
	f := &factoredFisher{Shape: shape, Lead: 1, N: shape[r-2], M: shape[r-1]}
	for _, d := range shape[:r-2] {
		f.Lead *= d
	}
	f.colsPerTile = max(1, min(f.M, tileCols))
	f.rowsPerTile = max(1, tileElems/f.colsPerTile)
	f.rowBlocks = (f.N + f.rowsPerTile - 1) / f.rowsPerTile
	f.colBlocks = (f.M + f.colsPerTile - 1) / f.colsPerTile
	f.SqrtR = make([]float32, f.Lead*f.N)
	f.SqrtC = make([]float32, f.Lead*f.M)
	for i := range f.SqrtR {
		f.SqrtR[i] = init
	}
	for i := range f.SqrtC {
		f.SqrtC[i] = init
	}
	f.rowPart = make([]float64, f.Lead*f.N*f.colBlocks)
	f.colPart = make([]float64, f.Lead*f.rowBlocks*f.M)
	f.RowF = make([]float64, f.Lead*f.N)
	f.ColF = make([]float64, f.Lead*f.M)
	return f
}

// Chunks is the number of tiles.
func (f *factoredFisher) Chunks() int {
	if f.N == 0 || f.M == 0 {
		return 0
	}
	return f.Lead * f.rowBlocks * f.colBlocks
}

// Tile returns tile k: its leading index, row range and column range.
func (f *factoredFisher) Tile(k int) (l, r0, r1, c0, c1 int) {
	per := f.rowBlocks * f.colBlocks
	l, k = k/per, k%per
	rb, cb := k/f.colBlocks, k%f.colBlocks
	r0, c0 = rb*f.rowsPerTile, cb*f.colsPerTile
	return l, r0, min(f.N, r0+f.rowsPerTile), c0, min(f.M, c0+f.colsPerTile)
}

// Begin records this step's gradient.
func (f *factoredFisher) Begin(grad []float32) { f.grad = grad }

// Stats is pass 0 for tile k: the tile's row and column sums of g² into the partial buffers;
// it returns the tile's Σg².
func (f *factoredFisher) Stats(k int) float64 {
	l, r0, r1, c0, c1 := f.Tile(k)
	rb, cb := r0/f.rowsPerTile, c0/f.colsPerTile
	col := f.colPart[(l*f.rowBlocks+rb)*f.M+c0 : (l*f.rowBlocks+rb)*f.M+c1]
	clear(col)
	total := 0.0
	for r := r0; r < r1; r++ {
		g := f.grad[(l*f.N+r)*f.M+c0 : (l*f.N+r)*f.M+c1]
		g = g[:len(col)]
		n4 := len(g) &^ 3
		var lanes [4]float64
		statsRowLanes(g[:n4], col[:n4], &lanes)
		s := (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
		for j := n4; j < len(g); j++ {
			a := float64(g[j])
			a *= a
			col[j] += a
			s += a
		}
		f.rowPart[(l*f.N+r)*f.colBlocks+cb] = s
		total += s
	}
	return total
}

// Update folds pass 0's sums into R and C (lines 7–8: X ← β̂₂X + (1−β̂₂)(Σg² + count·eps), eps
// being Adafactor's ε inside the EMA, 0 for FAdafactor) and rebuilds RowF and ColF (line 9).
func (f *factoredFisher) Update(beta2Hat, eps float64) {
	for l := range f.Lead {
		sumR := 0.0
		for r := range f.N {
			s := 0.0
			for _, p := range f.rowPart[(l*f.N+r)*f.colBlocks : (l*f.N+r+1)*f.colBlocks] {
				s += p
			}
			i := l*f.N + r
			old := float64(f.SqrtR[i])
			// A row sum of g² can exceed float32 even as a square root: saturate.
			f.SqrtR[i] = sat32(math.Sqrt(beta2Hat*old*old + (1-beta2Hat)*(s+float64(f.M)*eps)))
			v := float64(f.SqrtR[i])
			sumR += v * v
		}
		for j := range f.M {
			s := 0.0
			for rb := range f.rowBlocks {
				s += f.colPart[(l*f.rowBlocks+rb)*f.M+j]
			}
			i := l*f.M + j
			old := float64(f.SqrtC[i])
			f.SqrtC[i] = sat32(math.Sqrt(beta2Hat*old*old + (1-beta2Hat)*(s+float64(f.N)*eps)))
			f.ColF[i] = float64(f.SqrtC[i])
		}
		f.rebuildRows(l, sumR)
	}
}

// Rebuild recomputes RowF and ColF from SqrtR and SqrtC (after a checkpoint load).
func (f *factoredFisher) Rebuild() {
	for l := range f.Lead {
		sumR := 0.0
		for r := range f.N {
			v := float64(f.SqrtR[l*f.N+r])
			sumR += v * v
		}
		for j := range f.M {
			f.ColF[l*f.M+j] = float64(f.SqrtC[l*f.M+j])
		}
		f.rebuildRows(l, sumR)
	}
}

// rebuildRows sets RowF for leading index l: √R_i/√ΣR, 0 where ΣR = 0 (f = 0 there).
func (f *factoredFisher) rebuildRows(l int, sumR float64) {
	inv := 0.0
	if sumR > 0 {
		inv = 1 / math.Sqrt(sumR)
	}
	for r := range f.N {
		f.RowF[l*f.N+r] = float64(f.SqrtR[l*f.N+r]) * inv
	}
}

// Fisher returns f_ij = R_i C_j / Σ_i R_i, saturated to float32.
func (f *factoredFisher) Fisher() []float32 {
	f.Rebuild()
	out := make([]float32, f.Lead*f.N*f.M)
	for l := range f.Lead {
		for r := range f.N {
			rf := f.RowF[l*f.N+r]
			row := out[(l*f.N+r)*f.M : (l*f.N+r+1)*f.M]
			for j := range row {
				s := rf * f.ColF[l*f.M+j]
				row[j] = sat32(s * s)
			}
		}
	}
	return out
}

// Shapes returns the shapes of R (leading dims × n) and C (leading dims × m).
func (f *factoredFisher) Shapes() (rShape, cShape []int) {
	shape := f.Shape
	r := len(shape)
	rShape = append(append([]int{}, shape[:r-2]...), f.N)
	cShape = append(append([]int{}, shape[:r-2]...), f.M)
	return rShape, cShape
}

// statsRowLanesGo is the portable statsRowLanes.
func statsRowLanesGo(x []float32, col []float64, lanes *[4]float64) {
	col = col[:len(x)]
	*lanes = [4]float64{}
	for j := 0; j+4 <= len(x); j += 4 {
		for k := range 4 {
			a := float64(x[j+k])
			a *= a
			col[j+k] += a
			lanes[k] += a
		}
	}
}
