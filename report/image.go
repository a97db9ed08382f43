package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
)

// SaveImageGrid writes a PNG showing rows of grayscale images, for example originals above
// their reconstructions. grid[r][c] is an image of width×height pixels in row-major order with
// values in [0, 1] (0 black, 1 white); values outside are clamped and NaN shows black. Each
// pixel is enlarged to scale×scale, and images are separated by a gray border of scale pixels.
// Rows may have different lengths. The file is written atomically.
func SaveImageGrid(path string, grid [][][]float32, width, height, scale int) error {
	if width <= 0 || height <= 0 || scale <= 0 {
		return fmt.Errorf("report: image grid %s: width, height and scale must be positive, got %d, %d, %d", path, width, height, scale)
	}
	cols := 0
	for r, row := range grid {
		cols = max(cols, len(row))
		for c, im := range row {
			if len(im) != width*height {
				return fmt.Errorf("report: image grid %s: image [%d][%d] has %d pixels, want %d×%d", path, r, c, len(im), width, height)
			}
		}
	}
	if cols == 0 {
		return fmt.Errorf("report: image grid %s has no images", path)
	}
	pad := scale
	cellW, cellH := width*scale+pad, height*scale+pad
	canvas := image.NewGray(image.Rect(0, 0, cols*cellW+pad, len(grid)*cellH+pad))
	for i := range canvas.Pix {
		canvas.Pix[i] = 128
	}
	for r, row := range grid {
		for c, im := range row {
			x0, y0 := pad+c*cellW, pad+r*cellH
			for y := 0; y < height*scale; y++ {
				for x := 0; x < width*scale; x++ {
					canvas.SetGray(x0+x, y0+y, color.Gray{Y: grayLevel(im[(y/scale)*width+x/scale])})
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, canvas); err != nil {
		return fmt.Errorf("report: image grid %s: %w", path, err)
	}
	return WriteFileAtomic(path, buf.Bytes())
}

// grayLevel maps [0, 1] to 0–255, clamping and sending NaN to 0.
func grayLevel(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	if v >= 1 {
		return 255
	}
	return uint8(math.Round(float64(v) * 255))
}
