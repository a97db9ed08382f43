//go:build !amd64 || purego

package fadam

// useAVX is false: this build has no assembly.
var useAVX = false

func fisherLanes(g, sf, theta []float32, b2, c2, eps float64, lanes *[8]float64) {
	fisherLanesGo(g, sf, theta, b2, c2, eps, lanes)
}

func updateLanes(g, sf, m, theta []float32, b1, gScale, wScale, lr, eps float64) {
	updateLanesGo(g, sf, m, theta, b1, gScale, wScale, lr, eps)
}
