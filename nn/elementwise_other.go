//go:build !amd64 || purego

package nn

// Without assembly (another architecture or the purego tag) every element-wise loop runs its
// Go version.

func expInPlaceArch([]float32) bool                               { return false }
func geluForwardArch(y, sig, x []float32) bool                    { return false }
func geluBackwardArch(dx, dy, x, sig []float32, add bool) bool    { return false }
func softmaxRowArch([]float32) (mx float32, sum float64, ok bool) { return 0, 0, false }
func addArch(dst, a, b []float32) bool                            { return false }
func layerNormRowArch(y, x, g, b []float32, eps float64) (mean, rstd float32, ok bool) {
	return 0, 0, false
}
func layerNormBackwardRowArch(dx, dy, x, g []float32, mean, rstd float32) bool { return false }
func layerNormParamGradsArch(dg, db, dy, x, mean, rstd []float32, ld, rows int) bool {
	return false
}
func tileStepsArch(c []float32, ldc int, a []float32, rsa, csa int, b []float32, ldb int, m, n, k int, alpha float32, add bool, st tileSteps) bool {
	return false
}
func transposeArch(dst, src []float32, ld, t, hs int) bool                      { return false }
func softmaxBlockArch(p []float32, ld, m, l0, inc, w int, stats []float32) bool { return false }
func softmaxGradBlockArch(p, ds []float32, ld, m, l0, inc, w int, stats, dots []float32) bool {
	return false
}
func rowDotsArch(d, a []float32, lda int, b []float32, ldb, m, n int) bool { return false }
func scaleArch(dst, src []float32, a float32) bool                         { return false }
func addRowsArch(y, res, b []float32) bool                                 { return false }
func sumRowsArch(db, dy []float32, ld, rows int) bool                      { return false }
func geluBiasForwardArch(y, sig, x, b []float32) bool                      { return false }
func geluBiasBackwardArch(dx, dy, x, b, sig []float32) bool                { return false }
func prefetchRowsArch(p []float32, ld, rows, n int)                        {}
