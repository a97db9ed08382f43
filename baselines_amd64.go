//go:build amd64 && !purego

package fadam

//go:noescape
func adamMomentLanesAVX(grad, m, sv *float32, n int, b1, c1, b2, c2, sign, invBC1, invSqrtBC2, eps float64, lanes *[4]float64)

//go:noescape
func adamUpdateLanesAVX(m, sv, theta *float32, n int, invBC1, invSqrtBC2, eps, scale, lr, wd float64)

func adamMomentLanes(g, m, sv []float32, k *adamConsts, lanes *[4]float64) {
	if !useAVX || len(g) == 0 {
		adamMomentLanesGo(g, m, sv, k, lanes)
		return
	}
	adamMomentLanesAVX(&g[0], &m[0], &sv[0], len(g), k.b1, k.c1, k.b2, k.c2, k.sign, k.invBC1, k.invSqrtBC2, k.eps, lanes)
}

func adamUpdateLanes(m, sv, theta []float32, k *adamConsts) {
	if !useAVX || len(m) == 0 {
		adamUpdateLanesGo(m, sv, theta, k)
		return
	}
	adamUpdateLanesAVX(&m[0], &sv[0], &theta[0], len(m), k.invBC1, k.invSqrtBC2, k.eps, k.scale, k.lr, k.wd)
}

//go:noescape
func adafactorSumLanesAVX(grad *float32, invCol *float64, n int, invRow float64, lanes *[4]float64)

//go:noescape
func adafactorUpdateLanesAVX(grad, m, theta *float32, invCol *float64, n int, invRow, b1, gScale, wd float64)

func adafactorSumLanes(g []float32, invCol []float64, invRow float64, lanes *[4]float64) {
	if !useAVX || len(g) == 0 {
		adafactorSumLanesGo(g, invCol, invRow, lanes)
		return
	}
	adafactorSumLanesAVX(&g[0], &invCol[0], len(g), invRow, lanes)
}

func adafactorUpdateLanes(g, m, theta []float32, invCol []float64, invRow, b1, gScale, wd float64) {
	if !useAVX || len(g) == 0 {
		adafactorUpdateLanesGo(g, m, theta, invCol, invRow, b1, gScale, wd)
		return
	}
	adafactorUpdateLanesAVX(&g[0], &m[0], &theta[0], &invCol[0], len(g), invRow, b1, gScale, wd)
}
