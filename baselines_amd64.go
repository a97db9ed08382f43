//go:build amd64 && !purego

package fadam

// adamMomentLanesAVX is Adam's passFisher over n elements (n a multiple of 4):
//
//	for i { g := sign·g[i]
//	        m[i] ← β₁·m[i] + (1−β₁)·g;  √v[i] ← √(β₂·√v[i]² + (1−β₂)·g²)   // Algorithm 3 lines 6–7, uncorrected
//	        u := m[i]·invBC1 / (√v[i]·invSqrtBC2 + ε)                      // line 8: m̂/(√v̂ + ε)
//	        lanes[i%4] += u² }                                            // Σu² for line 9's clip
//
//go:noescape
func adamMomentLanesAVX(grad, m, sv *float32, n int, b1, c1, b2, c2, sign, invBC1, invSqrtBC2, eps float64, lanes *[4]float64)

// adamUpdateLanesAVX is Adam's θ update over n elements (Algorithm 3 line 10, AdamW's decay):
//
//	for i { u := m[i]·invBC1 / (√v[i]·invSqrtBC2 + ε);  θ[i] ← θ[i] − η·(u·scale + λ·θ[i]) }
//
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

// adafactorSumLanesAVX is Adafactor's Σḡ² over one row segment of a factored tensor (Algorithm 4
// lines 10–11), with 1/√f_ij = invRow·invCol[j]:
//
//	for j { lanes[j%4] += (g[j]·invRow·invCol[j])² }
//
//go:noescape
func adafactorSumLanesAVX(grad *float32, invCol *float64, n int, invRow float64, lanes *[4]float64)

// adafactorUpdateLanesAVX is Adafactor's update over one row segment (Algorithm 4 lines 12–13):
//
//	for j { m[j] ← β₁·m[j] + gScale·g[j]·invRow·invCol[j]   // gScale = (1−β₁)·η·sign·line 11's clip
//	        θ[j] ← θ[j] − (m[j] + λ·θ[j]) }
//
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
