// Package report holds what every experiment command needs to present its results: mean ± std
// summaries, Markdown tables and documents, CSV files, line plots of training curves over seeds
// (saved as SVG and PNG), image grids, a description of the machine, and a progress bar.
//
// Every file it writes is written atomically (temporary file in the same directory, then
// rename), so an interrupted run never leaves a half-written report behind.
package report

import (
	"io"

	"fmt"
	"github.com/fadam-go/fadam/internal/atomicfile"
	"math"
	"strconv"
)

// MeanStd returns the mean and the sample standard deviation (divisor n−1) of xs. The std is 0
// for a single sample; both are NaN for an empty slice.
func MeanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) == 1 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

// FormatMeanStd formats a mean and a standard deviation as "2.345 ± 0.012", with prec digits
// after the decimal point.
func FormatMeanStd(mean, std float64, prec int) string {
	return strconv.FormatFloat(mean, 'f', prec, 64) + " ± " + strconv.FormatFloat(std, 'f', prec, 64)
}

// MeanStdString summarises xs as "mean ± std" with prec decimals. A single sample has no
// spread, so it is shown as the bare value.
func MeanStdString(xs []float64, prec int) string {
	m, s := MeanStd(xs)
	if len(xs) == 1 {
		return strconv.FormatFloat(m, 'f', prec, 64)
	}
	return FormatMeanStd(m, s, prec)
}

// WriteFileAtomic writes data to path through a temporary file in the same directory that is
// synced and then renamed over path, so path never holds a partial file.
func WriteFileAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
