//go:build !amd64 || purego

package fadam

func fisherLanes(g, sf, theta []float32, b2, c2, eps float64, lanes *[8]float64) {
	fisherLanesGo(g, sf, theta, b2, c2, eps, lanes)
}

func updateLanes(g, sf, m, theta []float32, b1, gScale, wScale, lr, eps float64) {
	updateLanesGo(g, sf, m, theta, b1, gScale, wScale, lr, eps)
}

func fisherFactoredLanes(g, theta []float32, colF []float64, rowF, eps float64, lanes *[8]float64) {
	fisherFactoredLanesGo(g, theta, colF, rowF, eps, lanes)
}

func updateFactoredLanes(g, m, theta []float32, colF []float64, rowF, b1, gScale, wScale, lr, eps float64) {
	updateFactoredLanesGo(g, m, theta, colF, rowF, b1, gScale, wScale, lr, eps)
}
