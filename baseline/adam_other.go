//go:build !amd64 || purego

package baseline

var useAVX = false

func adamMomentLanes(g, m, sv []float32, k *adamConsts, lanes *[4]float64) {
	adamMomentLanesGo(g, m, sv, k, lanes)
}

func adamUpdateLanes(m, sv, theta []float32, k *adamConsts) { adamUpdateLanesGo(m, sv, theta, k) }
