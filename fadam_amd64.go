//go:build amd64 && !purego

package fadam

// fisherLanesAVX is FAdam's passFisher at ρ = ½ over n elements (n a multiple of 4):
//
//	for i { √f[i] ← √(b2·√f[i]² + c2·g[i]²)            // Algorithm 1 line 7 (b2 = β̂₂, c2 = 1−β̂₂)
//	        inv := 1/(√f[i] + ε̂)                        // line 9's denominator (zero rule: 0)
//	        lanes[i%4] += (g[i]·inv)²                    // Σḡ² for line 10
//	        lanes[4+i%4] += (θ[i]·inv)² }                // Σḡ_w² for line 13
//
//go:noescape
func fisherLanesAVX(grad, sf, theta *float32, n int, b2, c2, eps float64, lanes *[8]float64)

// updateLanesAVX is FAdam's passUpdate at ρ = ½ over n elements:
//
//	for i { inv := 1/(√f[i] + ε̂)
//	        m[i] ← β₁·m[i] + gScale·g[i]·inv             // lines 9–11 (gScale = (1−β₁)·line 10's clip)
//	        θ[i] ← θ[i] − η·(m[i] + wScale·θ[i]·inv) }   // lines 12–14 (wScale = λ·line 13's clip)
//
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

// fisherFactoredLanesAVX is FAdafactor's passFisher at ρ = ½ over one row segment: with
// √f_ij = rowF·colF[j] (Algorithm 2 line 9, from R and C updated before the pass),
//
//	for j { inv := 1/(rowF·colF[j] + ε̂)                 // line 11's denominator
//	        lanes[j%4] += (g[j]·inv)²; lanes[4+j%4] += (θ[j]·inv)² }  // Σḡ², Σḡ_w² (lines 12, 15)
//
//go:noescape
func fisherFactoredLanesAVX(grad, theta *float32, colF *float64, n int, rowF, eps float64, lanes *[8]float64)

// updateFactoredLanesAVX is FAdafactor's passUpdate at ρ = ½ over one row segment: lines 11–16
// as updateLanesAVX computes lines 9–14, with √f_ij = rowF·colF[j].
//
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
