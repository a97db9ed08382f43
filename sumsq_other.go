//go:build !amd64 || purego

package fadam

func sumSquaresLanes(x []float32, lanes *[4]float64) { sumSquaresLanesGo(x, lanes) }

func statsRowLanes(x []float32, col []float64, lanes *[4]float64) { statsRowLanesGo(x, col, lanes) }
