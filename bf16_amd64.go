//go:build amd64 && !purego

package fadam

// The assembly loops take the random streams as seq: seq[0:4] are the counters
// uint32(i)·mul + add of the first four elements, seq[4:8] the increment 4·mul per four
// elements (randomBits then mixes each counter); the AVX-512 loops take eight of each.
// The AVX-512 loops run the multiple of 8, the AVX loops the last 4 elements if any.

// fisherLanesBF16AVX is fisherLanesAVX (Algorithm 1 lines 7, 9, 12 and the sums for 10, 13)
// with √f read from and stored to bfloat16, each store rounded stochastically by seq.
//
//go:noescape
func fisherLanesBF16AVX(grad *float32, sf *uint16, theta *float32, n int, b2, c2, eps float64, seq *[8]uint32, lanes *[8]float64)

// updateLanesBF16AVX is updateLanesAVX (lines 9–14) with √f read from bfloat16 and m read
// from and stored to bfloat16, rounded stochastically by seq.
//
//go:noescape
func updateLanesBF16AVX(grad *float32, sf, m *uint16, theta *float32, n int, b1, gScale, wScale, lr, eps float64, seq *[8]uint32)

// updateFactoredLanesBF16AVX is updateFactoredLanesAVX (Algorithm 2 lines 11–16) with m
// stored as bfloat16, rounded stochastically by seq.
//
//go:noescape
func updateFactoredLanesBF16AVX(grad *float32, m *uint16, theta *float32, colF *float64, n int, rowF, b1, gScale, wScale, lr, eps float64, seq *[8]uint32)

// fisherLanesBF16AVX512 is fisherLanesBF16AVX eight elements at a time.
//
//go:noescape
func fisherLanesBF16AVX512(grad *float32, sf *uint16, theta *float32, n int, b2, c2, eps float64, seq *[16]uint32, lanes *[8]float64)

// updateLanesBF16AVX512 is updateLanesBF16AVX eight elements at a time.
//
//go:noescape
func updateLanesBF16AVX512(grad *float32, sf, m *uint16, theta *float32, n int, b1, gScale, wScale, lr, eps float64, seq *[16]uint32)

// updateFactoredLanesBF16AVX512 is updateFactoredLanesBF16AVX eight elements at a time.
//
//go:noescape
func updateFactoredLanesBF16AVX512(grad *float32, m *uint16, theta *float32, colF *float64, n int, rowF, b1, gScale, wScale, lr, eps float64, seq *[16]uint32)

// counters returns the seq argument of the AVX loops for elements idx, idx+1, ….
func counters(key roundKey, idx int) (seq [8]uint32) {
	for k := range 4 {
		seq[k] = uint32(idx+k)*key.mul + key.add
		seq[4+k] = 4 * key.mul
	}
	return seq
}

// counters8 returns the seq argument of the AVX-512 loops for elements idx, idx+1, ….
func counters8(key roundKey, idx int) (seq [16]uint32) {
	for k := range 8 {
		seq[k] = uint32(idx+k)*key.mul + key.add
		seq[8+k] = 8 * key.mul
	}
	return seq
}

// wide is the number of leading elements of an n-element (n a multiple of 4) call that the
// AVX-512 loops take: the multiple of 8, or none without AVX-512.
func wide(n int) int {
	if !useAVX || !useAVX512 {
		return 0
	}
	return n &^ 7
}

// fisherLanesBF16 runs fisherLanesBF16Go's computation, in assembly where available.
func fisherLanesBF16(g []float32, sf []uint16, theta []float32, b2, c2, eps float64, key roundKey, idx int, lanes *[8]float64) {
	if !useAVX || len(g) == 0 {
		fisherLanesBF16Go(g, sf, theta, b2, c2, eps, key, idx, lanes)
		return
	}
	sf, theta = sf[:len(g)], theta[:len(g)]
	n8 := wide(len(g))
	if n8 > 0 {
		seq := counters8(key, idx)
		fisherLanesBF16AVX512(&g[0], &sf[0], &theta[0], n8, b2, c2, eps, &seq, lanes)
		if n8 == len(g) {
			return
		}
	}
	// The last four elements are one per lane: adding their lanes to the bulk's is the
	// sequential sum.
	seq := counters(key, idx+n8)
	var rest [8]float64
	fisherLanesBF16AVX(&g[n8], &sf[n8], &theta[n8], len(g)-n8, b2, c2, eps, &seq, &rest)
	if n8 == 0 {
		*lanes = rest
		return
	}
	for k := range lanes {
		lanes[k] += rest[k]
	}
}

// updateLanesBF16 runs updateLanesBF16Go's computation, in assembly where available.
func updateLanesBF16(g []float32, sf, m []uint16, theta []float32, b1, gScale, wScale, lr, eps float64, key roundKey, idx int) {
	if !useAVX || len(g) == 0 {
		updateLanesBF16Go(g, sf, m, theta, b1, gScale, wScale, lr, eps, key, idx)
		return
	}
	sf, m, theta = sf[:len(g)], m[:len(g)], theta[:len(g)]
	n8 := wide(len(g))
	if n8 > 0 {
		seq := counters8(key, idx)
		updateLanesBF16AVX512(&g[0], &sf[0], &m[0], &theta[0], n8, b1, gScale, wScale, lr, eps, &seq)
	}
	if n8 < len(g) {
		seq := counters(key, idx+n8)
		updateLanesBF16AVX(&g[n8], &sf[n8], &m[n8], &theta[n8], len(g)-n8, b1, gScale, wScale, lr, eps, &seq)
	}
}

// updateFactoredLanesBF16 runs updateFactoredLanesBF16Go's computation, in assembly where
// available.
func updateFactoredLanesBF16(g []float32, m []uint16, theta []float32, colF []float64, rowF, b1, gScale, wScale, lr, eps float64, key roundKey, idx int) {
	if !useAVX || len(g) == 0 {
		updateFactoredLanesBF16Go(g, m, theta, colF, rowF, b1, gScale, wScale, lr, eps, key, idx)
		return
	}
	m, theta, colF = m[:len(g)], theta[:len(g)], colF[:len(g)]
	n8 := wide(len(g))
	if n8 > 0 {
		seq := counters8(key, idx)
		updateFactoredLanesBF16AVX512(&g[0], &m[0], &theta[0], &colF[0], n8, rowF, b1, gScale, wScale, lr, eps, &seq)
	}
	if n8 < len(g) {
		seq := counters(key, idx+n8)
		updateFactoredLanesBF16AVX(&g[n8], &m[n8], &theta[n8], &colF[n8], len(g)-n8, rowF, b1, gScale, wScale, lr, eps, &seq)
	}
}

// adamMomentLanesBF16AVX512 is adamMomentLanesAVX (Algorithm 3 lines 6–8, Σu²) with m and √v
// stored as bfloat16, rounded stochastically by seqM and seqV, eight elements at a time.
//
//go:noescape
func adamMomentLanesBF16AVX512(grad *float32, m, sv *uint16, n int, c *adamConsts, seqM, seqV *[16]uint32, lanes *[4]float64)

// adamUpdateLanesBF16AVX512 is adamUpdateLanesAVX (line 10) reading bfloat16 m and √v.
//
//go:noescape
func adamUpdateLanesBF16AVX512(m, sv *uint16, theta *float32, n int, c *adamConsts)

// adamMomentLanesBF16 runs adamMomentLanesBF16Go's computation, the multiple of 8 in
// AVX-512 where available.
func adamMomentLanesBF16(g []float32, m, sv []uint16, c *adamConsts, keyM, keyV roundKey, idx int, lanes *[4]float64) {
	n8 := wide(len(g))
	if n8 == 0 {
		adamMomentLanesBF16Go(g, m, sv, c, keyM, keyV, idx, lanes)
		return
	}
	m, sv = m[:len(g)], sv[:len(g)]
	seqM, seqV := counters8(keyM, idx), counters8(keyV, idx)
	adamMomentLanesBF16AVX512(&g[0], &m[0], &sv[0], n8, c, &seqM, &seqV, lanes)
	if n8 < len(g) { // the last four elements, one per lane
		var rest [4]float64
		adamMomentLanesBF16Go(g[n8:], m[n8:], sv[n8:], c, keyM, keyV, idx+n8, &rest)
		for k := range lanes {
			lanes[k] += rest[k]
		}
	}
}

// adamUpdateLanesBF16 runs adamUpdateLanesBF16Go's computation, the multiple of 8 in AVX-512
// where available.
func adamUpdateLanesBF16(m, sv []uint16, theta []float32, c *adamConsts) {
	n8 := wide(len(m) &^ 3)
	if n8 > 0 {
		sv, theta = sv[:len(m)], theta[:len(m)]
		adamUpdateLanesBF16AVX512(&m[0], &sv[0], &theta[0], n8, c)
	}
	adamUpdateLanesBF16Go(m[n8:], sv[n8:], theta[n8:], c)
}

//go:noescape
func adafactorUpdateLanesBF16AVX512(grad *float32, m *uint16, theta *float32, invCol *float64, n int, invRow, b1, gScale, wd float64, seq *[16]uint32)

// adafactorUpdateLanesBF16 runs adafactorUpdateLanesBF16Go's computation, the multiple of 8
// in AVX-512 where available.
func adafactorUpdateLanesBF16(g []float32, m []uint16, theta []float32, invCol []float64, invRow, b1, gScale, wd float64, key roundKey, idx int) {
	n8 := wide(len(g) &^ 3)
	if n8 > 0 {
		m, theta, invCol = m[:len(g)], theta[:len(g)], invCol[:len(g)]
		seq := counters8(key, idx)
		adafactorUpdateLanesBF16AVX512(&g[0], &m[0], &theta[0], &invCol[0], n8, invRow, b1, gScale, wd, &seq)
	}
	adafactorUpdateLanesBF16Go(g[n8:], m[n8:], theta[n8:], invCol[n8:], invRow, b1, gScale, wd, key, idx+n8)
}
