package vqvae

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Stats are the Gaussian statistics of a set of feature vectors: their mean and covariance.
type Stats struct {
	Mean []float64
	Cov  *mat.SymDense
	N    int // number of vectors
}

// FeatureStats returns the mean and the sample covariance (divisor n−1) of the n rows of
// feats[n, dim], accumulated in float64. It needs at least two rows.
func FeatureStats(feats []float32, n, dim int) (Stats, error) {
	if n < 2 || dim <= 0 || len(feats) < n*dim {
		return Stats{}, fmt.Errorf("vqvae: feature statistics need ≥ 2 rows of %d values, got %d rows in %d values", dim, n, len(feats))
	}
	mean := make([]float64, dim)
	for r := range n {
		for j, v := range feats[r*dim : (r+1)*dim] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	centred := mat.NewDense(n, dim, nil)
	for r := range n {
		for j, v := range feats[r*dim : (r+1)*dim] {
			centred.Set(r, j, float64(v)-mean[j])
		}
	}
	cov := mat.NewSymDense(dim, nil)
	cov.SymOuterK(1/float64(n-1), centred.T())
	return Stats{Mean: mean, Cov: cov, N: n}, nil
}

// ErrFrechet is wrapped by FrechetDistance's errors.
var ErrFrechet = errors.New("vqvae: Fréchet distance")

// sqrtSym returns the symmetric square root of a positive semi-definite matrix, with negative
// eigenvalues (rounding noise) taken as zero.
func sqrtSym(a *mat.SymDense) (*mat.SymDense, error) {
	var eig mat.EigenSym
	if !eig.Factorize(a, true) {
		return nil, fmt.Errorf("%w: eigendecomposition did not converge", ErrFrechet)
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	n := len(vals)
	scaled := mat.NewDense(n, n, nil)
	for j, v := range vals {
		s := math.Sqrt(math.Sqrt(max(v, 0))) // λ^¼, so that the outer product below has λ^½
		for i := range n {
			scaled.Set(i, j, vecs.At(i, j)*s)
		}
	}
	out := mat.NewSymDense(n, nil)
	out.SymOuterK(1, scaled) // (V·Λ^¼)(V·Λ^¼)ᵀ = V·Λ^½·Vᵀ
	return out, nil
}

// FrechetDistance returns the squared Fréchet (2-Wasserstein) distance between the Gaussians
// N(μ₁, Σ₁) and N(μ₂, Σ₂), the quantity behind FID:
//
//	‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½
//
// computed with symmetric eigendecompositions, so it stays real and finite for singular
// covariances. Tiny negative results of rounding are returned as 0.
func FrechetDistance(a, b Stats) (float64, error) {
	d := len(a.Mean)
	if d == 0 || len(b.Mean) != d || a.Cov == nil || b.Cov == nil || a.Cov.SymmetricDim() != d || b.Cov.SymmetricDim() != d {
		return 0, fmt.Errorf("%w: statistics of different or empty dimensions", ErrFrechet)
	}
	var dist float64
	for i := range d {
		diff := a.Mean[i] - b.Mean[i]
		dist += diff * diff
	}
	for i := range d {
		dist += a.Cov.At(i, i) + b.Cov.At(i, i)
	}
	s1, err := sqrtSym(a.Cov)
	if err != nil {
		return 0, err
	}
	var half, prod mat.Dense
	half.Mul(s1, b.Cov)
	prod.Mul(&half, s1)
	m := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			m.SetSym(i, j, (prod.At(i, j)+prod.At(j, i))/2) // symmetric up to rounding
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(m, false) {
		return 0, fmt.Errorf("%w: eigendecomposition did not converge", ErrFrechet)
	}
	for _, v := range eig.Values(nil) {
		dist -= 2 * math.Sqrt(max(v, 0))
	}
	if math.IsNaN(dist) || math.IsInf(dist, 0) {
		return 0, fmt.Errorf("%w: not finite (non-finite features?)", ErrFrechet)
	}
	return max(dist, 0), nil
}
