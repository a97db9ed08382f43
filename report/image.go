package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// SaveImageGrid writes a PNG showing rows of grayscale images, for example originals above
// their reconstructions. grid[r][c] is an image of width×height pixels in row-major order with
// values in [0, 1] (0 black, 1 white); values outside are clamped and NaN shows black. Each
// pixel is enlarged to scale×scale, and images are separated by a gray border of scale pixels.
// Rows may have different lengths. The file is written atomically. ImageGrid does the same with
// a label for every row and column.
func SaveImageGrid(path string, grid [][][]float32, width, height, scale int) error {
	return ImageGrid{Images: grid, Width: width, Height: height, Scale: scale}.Save(path)
}

// ImageGrid is a grid of grayscale images that a reader can take in at a glance: a title, a
// label left of every row (what produced it: "original", "L2, FAdam, seed 1") and above every
// column (which input it shows).
type ImageGrid struct {
	Title string
	// RowLabels and ColLabels, when not nil, hold one label per row and per column of Images.
	RowLabels, ColLabels []string
	// Images[r][c] is an image of Width×Height pixels, row-major, values in [0, 1] (0 black,
	// 1 white; outside values are clamped, NaN is black). Rows may have different lengths.
	Images        [][][]float32
	Width, Height int
	Scale         int // each pixel is drawn as Scale×Scale, and Scale is the border between images
}

// labelFace is the font of the labels: Go Regular at 13 pixels.
var labelFace = sync.OnceValues(func() (font.Face, error) {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, err
	}
	return opentype.NewFace(f, &opentype.FaceOptions{Size: 13, DPI: 72, Hinting: font.HintingFull})
})

// Grid colours: labels on white, images on a gray border.
const (
	gridBorder     = 128
	gridBackground = 255
)

func (g ImageGrid) validate() (cols int, err error) {
	if g.Width <= 0 || g.Height <= 0 || g.Scale <= 0 {
		return 0, fmt.Errorf("width, height and scale must be positive, got %d, %d, %d", g.Width, g.Height, g.Scale)
	}
	if g.Width*g.Height > 1<<20 || g.Scale > 64 {
		return 0, fmt.Errorf("images of %d×%d at scale %d are too large for a grid", g.Width, g.Height, g.Scale)
	}
	for r, row := range g.Images {
		cols = max(cols, len(row))
		for c, im := range row {
			if len(im) != g.Width*g.Height {
				return 0, fmt.Errorf("image [%d][%d] has %d pixels, want %d×%d", r, c, len(im), g.Width, g.Height)
			}
		}
	}
	switch {
	case cols == 0:
		return 0, fmt.Errorf("no images")
	case g.RowLabels != nil && len(g.RowLabels) != len(g.Images):
		return 0, fmt.Errorf("%d row labels for %d rows", len(g.RowLabels), len(g.Images))
	case g.ColLabels != nil && len(g.ColLabels) != cols:
		return 0, fmt.Errorf("%d column labels for %d columns", len(g.ColLabels), cols)
	case len(g.Images)*cols > 1<<16:
		return 0, fmt.Errorf("%d×%d images are too many for a grid", len(g.Images), cols)
	}
	return cols, nil
}

// Render draws the grid. Without a title or labels the image is exactly the images on their
// border, as SaveImageGrid has always drawn them.
func (g ImageGrid) Render() (*image.Gray, error) {
	cols, err := g.validate()
	if err != nil {
		return nil, fmt.Errorf("report: image grid: %w", err)
	}
	var face font.Face
	labelled := g.Title != "" || g.RowLabels != nil || g.ColLabels != nil
	if labelled {
		if face, err = labelFace(); err != nil {
			return nil, fmt.Errorf("report: image grid font: %w", err)
		}
	}
	width := func(s string) int { return font.MeasureString(face, s).Ceil() }
	const margin = 6 // around labels, in pixels
	lineH := 0
	if labelled {
		m := face.Metrics()
		lineH = (m.Ascent + m.Descent).Ceil()
	}

	pad := g.Scale
	imgW, imgH := g.Width*g.Scale, g.Height*g.Scale
	cellW := imgW + pad
	for _, l := range g.ColLabels {
		cellW = max(cellW, width(l)+margin)
	}
	cellH := imgH + pad
	left, top := 0, 0
	for _, l := range g.RowLabels {
		left = max(left, width(l)+2*margin)
	}
	if g.Title != "" {
		top += lineH + margin
	}
	if g.ColLabels != nil {
		top += lineH + margin/2
	}
	gridW, gridH := cols*cellW+pad, len(g.Images)*cellH+pad
	titleW := 0
	if g.Title != "" {
		titleW = width(g.Title) + 2*margin
	}
	canvas := image.NewGray(image.Rect(0, 0, max(left+gridW, titleW), top+gridH))
	draw.Draw(canvas, canvas.Bounds(), image.NewUniform(color.Gray{Y: gridBackground}), image.Point{}, draw.Src)
	draw.Draw(canvas, image.Rect(left, top, left+gridW, top+gridH), image.NewUniform(color.Gray{Y: gridBorder}), image.Point{}, draw.Src)

	text := func(s string, x, y int) { // y is the baseline
		d := font.Drawer{Dst: canvas, Src: image.Black, Face: face, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	if g.Title != "" {
		text(g.Title, margin, margin+face.Metrics().Ascent.Ceil())
	}
	baseline := func(rowTop, rowH int) int { // centres a line of text in a band
		m := face.Metrics()
		return rowTop + (rowH-lineH)/2 + m.Ascent.Ceil()
	}
	for c, l := range g.ColLabels {
		x0 := left + pad + c*cellW
		text(l, x0+(cellW-pad-width(l))/2, top-margin/2-face.Metrics().Descent.Ceil())
	}
	for r, row := range g.Images {
		y0 := top + pad + r*cellH
		if g.RowLabels != nil {
			l := g.RowLabels[r]
			text(l, left-margin-width(l), baseline(y0, imgH))
		}
		for c, im := range row {
			x0 := left + pad + c*cellW + (cellW-pad-imgW)/2
			for y := range imgH {
				off := canvas.PixOffset(x0, y0+y)
				for x := range imgW {
					canvas.Pix[off+x] = grayLevel(im[(y/g.Scale)*g.Width+x/g.Scale])
				}
			}
		}
	}
	return canvas, nil
}

// Save writes the rendered grid to path as a PNG, atomically.
func (g ImageGrid) Save(path string) error {
	canvas, err := g.Render()
	if err != nil {
		return fmt.Errorf("%w (%s)", err, path)
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
