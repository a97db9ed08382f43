package vqvae

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/models/vqvae"
	"github.com/fadam-go/fadam/report"
)

// SampleStore keeps the first N test reconstructions of every run as a PNG strip in Dir, so
// that the report can show them, also for runs a resumed sweep reuses. The harness stores a
// run's metrics only; a strip's file name is a hash of the task, the seed and the run's exact
// test metrics, which is how the report finds the strip of a stored run.
type SampleStore struct {
	Dir string
	N   int // reconstructions kept per run
}

// path is the file of a run's strip.
func (s *SampleStore) path(task string, seed uint64, mt harness.Metrics) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%d\n", task, seed)
	keys := make([]string, 0, len(mt))
	for k := range mt {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%x\n", k, math.Float64bits(mt[k]))
	}
	return filepath.Join(s.Dir, task+"-seed"+strconv.FormatUint(seed, 10)+"-"+hex.EncodeToString(h.Sum(nil))[:12]+".png")
}

// Put stores the reconstructions (784 values in [0, 1] each) of the run with these test
// metrics, side by side in one 8-bit grayscale PNG, atomically.
func (s *SampleStore) Put(task string, seed uint64, mt harness.Metrics, samples [][]float32) error {
	if len(samples) == 0 {
		return nil
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("vqvae: samples: %w", err)
	}
	img := image.NewGray(image.Rect(0, 0, len(samples)*vqvae.Side, vqvae.Side))
	for i, x := range samples {
		if len(x) != vqvae.Pixels {
			return fmt.Errorf("vqvae: sample %d has %d pixels, want %d", i, len(x), vqvae.Pixels)
		}
		for p, v := range x {
			img.Pix[(p/vqvae.Side)*img.Stride+i*vqvae.Side+p%vqvae.Side] = uint8(math.Round(float64(min(max(v, 0), 1)) * 255))
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("vqvae: samples: %w", err)
	}
	return report.WriteFileAtomic(s.path(task, seed, mt), buf.Bytes())
}

// ErrNoSamples is wrapped by Get's error when the store holds no strip for the run.
var ErrNoSamples = errors.New("vqvae: no stored reconstructions")

// Get returns the reconstructions Put stored for the run with these test metrics, quantised to
// 8 bits.
func (s *SampleStore) Get(task string, seed uint64, mt harness.Metrics) ([][]float32, error) {
	path := s.path(task, seed, mt)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w for %s seed %d", ErrNoSamples, task, seed)
	}
	if err != nil {
		return nil, fmt.Errorf("vqvae: samples: %w", err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Height != vqvae.Side || cfg.Width%vqvae.Side != 0 || cfg.Width > 1000*vqvae.Side {
		return nil, fmt.Errorf("vqvae: %s is not a strip of %d×%d reconstructions (%v)", path, vqvae.Side, vqvae.Side, err)
	}
	im, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("vqvae: %s: %w", path, err)
	}
	gray, ok := im.(*image.Gray)
	if !ok {
		return nil, fmt.Errorf("vqvae: %s is not an 8-bit grayscale PNG", path)
	}
	out := make([][]float32, cfg.Width/vqvae.Side)
	for i := range out {
		out[i] = make([]float32, vqvae.Pixels)
		for p := range out[i] {
			out[i][p] = float32(gray.Pix[(p/vqvae.Side)*gray.Stride+i*vqvae.Side+p%vqvae.Side]) / 255
		}
	}
	return out, nil
}
