//go:build !amd64 || purego

package fadam

func adamMomentLanes(g, m, sv []float32, k *adamConsts, lanes *[4]float64) {
	adamMomentLanesGo(g, m, sv, k, lanes)
}

func adamUpdateLanes(m, sv, theta []float32, k *adamConsts) { adamUpdateLanesGo(m, sv, theta, k) }

func adafactorSumLanes(g []float32, invCol []float64, invRow float64, lanes *[4]float64) {
	adafactorSumLanesGo(g, invCol, invRow, lanes)
}

func adafactorUpdateLanes(g, m, theta []float32, invCol []float64, invRow, b1, gScale, wd float64) {
	adafactorUpdateLanesGo(g, m, theta, invCol, invRow, b1, gScale, wd)
}
