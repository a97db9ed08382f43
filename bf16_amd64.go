//go:build amd64 && !purego

package fadam

// The assembly loops take the random streams as seq: seq[0:4] are the counters
// uint32(i)·mul + add of the first four elements, seq[4:8] the increment 4·mul per four
// elements (randomBits then mixes each counter).

//go:noescape
func fisherLanesBF16AVX(grad *float32, sf *uint16, theta *float32, n int, b2, c2, eps float64, seq *[8]uint32, lanes *[8]float64)

//go:noescape
func updateLanesBF16AVX(grad *float32, sf, m *uint16, theta *float32, n int, b1, gScale, wScale, lr, eps float64, seq *[8]uint32)

//go:noescape
func updateFactoredLanesBF16AVX(grad *float32, m *uint16, theta *float32, colF *float64, n int, rowF, b1, gScale, wScale, lr, eps float64, seq *[8]uint32)

// counters returns the seq argument of the assembly loops for elements idx, idx+1, ….
func counters(key roundKey, idx int) (seq [8]uint32) {
	for k := range 4 {
		seq[k] = uint32(idx+k)*key.mul + key.add
		seq[4+k] = 4 * key.mul
	}
	return seq
}

// fisherLanesBF16 runs fisherLanesBF16Go's computation, in assembly where available.
func fisherLanesBF16(g []float32, sf []uint16, theta []float32, b2, c2, eps float64, key roundKey, idx int, lanes *[8]float64) {
	if !useAVX || len(g) == 0 {
		fisherLanesBF16Go(g, sf, theta, b2, c2, eps, key, idx, lanes)
		return
	}
	sf, theta = sf[:len(g)], theta[:len(g)]
	seq := counters(key, idx)
	fisherLanesBF16AVX(&g[0], &sf[0], &theta[0], len(g), b2, c2, eps, &seq, lanes)
}

// updateLanesBF16 runs updateLanesBF16Go's computation, in assembly where available.
func updateLanesBF16(g []float32, sf, m []uint16, theta []float32, b1, gScale, wScale, lr, eps float64, key roundKey, idx int) {
	if !useAVX || len(g) == 0 {
		updateLanesBF16Go(g, sf, m, theta, b1, gScale, wScale, lr, eps, key, idx)
		return
	}
	sf, m, theta = sf[:len(g)], m[:len(g)], theta[:len(g)]
	seq := counters(key, idx)
	updateLanesBF16AVX(&g[0], &sf[0], &m[0], &theta[0], len(g), b1, gScale, wScale, lr, eps, &seq)
}

// updateFactoredLanesBF16 runs updateFactoredLanesBF16Go's computation, in assembly where
// available.
func updateFactoredLanesBF16(g []float32, m []uint16, theta []float32, colF []float64, rowF, b1, gScale, wScale, lr, eps float64, key roundKey, idx int) {
	if !useAVX || len(g) == 0 {
		updateFactoredLanesBF16Go(g, m, theta, colF, rowF, b1, gScale, wScale, lr, eps, key, idx)
		return
	}
	m, theta, colF = m[:len(g)], theta[:len(g)], colF[:len(g)]
	seq := counters(key, idx)
	updateFactoredLanesBF16AVX(&g[0], &m[0], &theta[0], &colF[0], len(g), rowF, b1, gScale, wScale, lr, eps, &seq)
}
