//go:build amd64 && !purego

package fadam

//go:noescape
func sumSquaresAVX(x *float32, n int, lanes *[4]float64)

// sumSquaresLanes sets lanes[k] = Σx[i]² over i ≡ k (mod 4); len(x) is a multiple of 4.
func sumSquaresLanes(x []float32, lanes *[4]float64) {
	if !useAVX || len(x) == 0 {
		sumSquaresLanesGo(x, lanes)
		return
	}
	sumSquaresAVX(&x[0], len(x), lanes)
}

//go:noescape
func statsRowLanesAVX(x *float32, col *float64, n int, lanes *[4]float64)

// statsRowLanes adds x[j]² to col[j] and to lanes[j mod 4]; len(x) is a multiple of 4.
func statsRowLanes(x []float32, col []float64, lanes *[4]float64) {
	if !useAVX || len(x) == 0 {
		statsRowLanesGo(x, col, lanes)
		return
	}
	statsRowLanesAVX(&x[0], &col[0], len(x), lanes)
}
