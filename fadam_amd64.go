//go:build amd64 && !purego

package fadam

//go:noescape
func fisherLanesAVX(grad, sf, theta *float32, n int, b2, c2, eps float64, lanes *[8]float64)

//go:noescape
func updateLanesAVX(grad, sf, m, theta *float32, n int, b1, gScale, wScale, lr, eps float64)

// fisherLanes runs fisherLanesGo's computation, in assembly where available. len(g) is a
// multiple of 4, theta is as long as g.
func fisherLanes(g, sf, theta []float32, b2, c2, eps float64, lanes *[8]float64) {
	if !useAVX || len(g) == 0 {
		fisherLanesGo(g, sf, theta, b2, c2, eps, lanes)
		return
	}
	fisherLanesAVX(&g[0], &sf[0], &theta[0], len(g), b2, c2, eps, lanes)
}

// updateLanes runs updateLanesGo's computation, in assembly where available.
func updateLanes(g, sf, m, theta []float32, b1, gScale, wScale, lr, eps float64) {
	if !useAVX || len(g) == 0 {
		updateLanesGo(g, sf, m, theta, b1, gScale, wScale, lr, eps)
		return
	}
	updateLanesAVX(&g[0], &sf[0], &m[0], &theta[0], len(g), b1, gScale, wScale, lr, eps)
}

//go:noescape
func fisherFactoredLanesAVX(grad, theta *float32, colF *float64, n int, rowF, eps float64, lanes *[8]float64)

//go:noescape
func updateFactoredLanesAVX(grad, m, theta *float32, colF *float64, n int, rowF, b1, gScale, wScale, lr, eps float64)

// fisherFactoredLanes runs fisherFactoredLanesGo's computation, in assembly where available.
func fisherFactoredLanes(g, theta []float32, colF []float64, rowF, eps float64, lanes *[8]float64) {
	if !useAVX || len(g) == 0 {
		fisherFactoredLanesGo(g, theta, colF, rowF, eps, lanes)
		return
	}
	fisherFactoredLanesAVX(&g[0], &theta[0], &colF[0], len(g), rowF, eps, lanes)
}

// updateFactoredLanes runs updateFactoredLanesGo's computation, in assembly where available.
func updateFactoredLanes(g, m, theta []float32, colF []float64, rowF, b1, gScale, wScale, lr, eps float64) {
	if !useAVX || len(g) == 0 {
		updateFactoredLanesGo(g, m, theta, colF, rowF, b1, gScale, wScale, lr, eps)
		return
	}
	updateFactoredLanesAVX(&g[0], &m[0], &theta[0], &colF[0], len(g), rowF, b1, gScale, wScale, lr, eps)
}
