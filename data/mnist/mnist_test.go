package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mnistIDX builds an IDX file with the given magic, dimensions and data.
func mnistIDX(magic uint32, dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(data)
	return b.Bytes()
}

func mnistGzip(t *testing.T, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReadImagesRawAndGzip(t *testing.T) {
	px := []byte{0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255}
	raw := mnistIDX(magicImages, []uint32{2, 2, 3}, px)
	for name, file := range map[string][]byte{"raw": raw, "gzip": mnistGzip(t, raw)} {
		n, rows, cols, got, err := ReadImages(bytes.NewReader(file))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n != 2 || rows != 2 || cols != 3 || !bytes.Equal(got, px) {
			t.Fatalf("%s: got n=%d %d×%d %v", name, n, rows, cols, got)
		}
	}
}

func TestReadErrors(t *testing.T) {
	good := []byte{1, 2, 3, 4}
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"bad magic", mnistIDX(0x00000802, []uint32{1, 2, 2}, good), "magic"},
		{"labels as images", mnistIDX(magicLabels, []uint32{4}, good), "magic"},
		{"truncated header", mnistIDX(magicImages, []uint32{1, 2}, nil), "truncated header"},
		{"truncated data", mnistIDX(magicImages, []uint32{1, 2, 3}, good), "truncated data"},
		{"trailing data", mnistIDX(magicImages, []uint32{1, 1, 2}, good), "longer"},
		{"zero dimension", mnistIDX(magicImages, []uint32{0, 2, 2}, nil), "dimension 0"},
		{"empty", nil, "truncated header"},
		{"bad gzip", []byte{0x1f, 0x8b, 0, 0}, "gzip"},
	} {
		_, _, _, _, err := ReadImages(bytes.NewReader(tc.file))
		if err == nil || !errors.Is(err, ErrBadIDX) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrBadIDX mentioning %q", tc.name, err, tc.want)
		}
	}
}

func mnistWriteSplit(t *testing.T, dir, prefix string, n, side int, labels []byte, gz bool) {
	t.Helper()
	px := make([]byte, n*side*side)
	for i := range px {
		px[i] = byte(i)
	}
	files := map[string][]byte{
		prefix + "-images-idx3-ubyte": mnistIDX(magicImages, []uint32{uint32(n), uint32(side), uint32(side)}, px),
		prefix + "-labels-idx1-ubyte": mnistIDX(magicLabels, []uint32{uint32(len(labels))}, labels),
	}
	for name, b := range files {
		if gz {
			name, b = name+".gz", mnistGzip(t, b)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	mnistWriteSplit(t, dir, "train", 3, Side, []byte{1, 2, 3}, true)
	mnistWriteSplit(t, dir, "t10k", 2, Side, []byte{9, 0}, false)
	train, test, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 3 || test.N != 2 || test.Labels[0] != 9 || train.Image(1)[0] != byte(Side*Side%256) {
		t.Fatalf("train %d, test %d, labels %v", train.N, test.N, test.Labels)
	}
	if s := train.Subset(2); s.N != 2 || len(s.Images) != 2*Side*Side || len(s.Labels) != 2 {
		t.Fatalf("subset: %+v", s.N)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels []byte
		side   int
		want   string
	}{
		{"count mismatch", []byte{1, 2}, Side, "holds 3 images but"},
		{"bad label", []byte{1, 2, 10}, Side, "not a digit"},
		{"wrong size", []byte{1, 2, 3}, 5, "5×5"},
	} {
		dir := t.TempDir()
		mnistWriteSplit(t, dir, "train", 3, tc.side, tc.labels, false)
		mnistWriteSplit(t, dir, "t10k", 3, tc.side, tc.labels, false)
		if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "neither") {
		t.Errorf("empty dir: err = %v", err)
	}
}

// TestRealMNIST reads the files of the GoMNIST module when the module cache has them.
func TestRealMNIST(t *testing.T) {
	dir, err := DefaultDir()
	if err != nil {
		t.Skip(err)
	}
	train, test, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || test.N != 10000 {
		t.Fatalf("train %d, test %d", train.N, test.N)
	}
}

func TestHoldOut(t *testing.T) {
	// Five 1×2 images whose pixels and labels are their index.
	s := &Set{N: 5, Rows: 1, Cols: 2, Images: []byte{0, 0, 1, 1, 2, 2, 3, 3, 4, 4}, Labels: []byte{0, 1, 2, 3, 4}}
	tr, val, err := s.HoldOut(2)
	if err != nil {
		t.Fatal(err)
	}
	if tr.N != 3 || val.N != 2 || !bytes.Equal(tr.Labels, []byte{0, 1, 2}) || !bytes.Equal(val.Labels, []byte{3, 4}) ||
		!bytes.Equal(tr.Images, []byte{0, 0, 1, 1, 2, 2}) || !bytes.Equal(val.Image(1), []byte{4, 4}) {
		t.Fatalf("train %+v, validation %+v", tr, val)
	}
	// Appending to the training part cannot write into the validation part.
	_ = append(tr.Images, 9)
	if val.Images[0] != 3 {
		t.Fatal("training slice aliases the validation images")
	}
	for _, n := range []int{0, -1, 5, 6} {
		if _, _, err := s.HoldOut(n); err == nil {
			t.Errorf("HoldOut(%d) of 5 accepted", n)
		}
	}
}
