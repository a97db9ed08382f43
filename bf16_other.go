//go:build !amd64 || purego

package fadam

func fisherLanesBF16(g []float32, sf []uint16, theta []float32, b2, c2, eps float64, key roundKey, idx int, lanes *[8]float64) {
	fisherLanesBF16Go(g, sf, theta, b2, c2, eps, key, idx, lanes)
}

func updateLanesBF16(g []float32, sf, m []uint16, theta []float32, b1, gScale, wScale, lr, eps float64, key roundKey, idx int) {
	updateLanesBF16Go(g, sf, m, theta, b1, gScale, wScale, lr, eps, key, idx)
}

func adamMomentLanesBF16(g []float32, m, sv []uint16, c *adamConsts, keyM, keyV roundKey, idx int, lanes *[4]float64) {
	adamMomentLanesBF16Go(g, m, sv, c, keyM, keyV, idx, lanes)
}

func adamUpdateLanesBF16(m, sv []uint16, theta []float32, c *adamConsts) {
	adamUpdateLanesBF16Go(m, sv, theta, c)
}

func adafactorUpdateLanesBF16(g []float32, m []uint16, theta []float32, invCol []float64, invRow, b1, gScale, wd float64, key roundKey, idx int) {
	adafactorUpdateLanesBF16Go(g, m, theta, invCol, invRow, b1, gScale, wd, key, idx)
}

func updateFactoredLanesBF16(g []float32, m []uint16, theta []float32, colF []float64, rowF, b1, gScale, wScale, lr, eps float64, key roundKey, idx int) {
	updateFactoredLanesBF16Go(g, m, theta, colF, rowF, b1, gScale, wScale, lr, eps, key, idx)
}
