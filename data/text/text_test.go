package text

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, n int) string {
	dir := t.TempDir()
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("f%02d.txt", i))
		if err := os.WriteFile(p, []byte(fmt.Sprintf("file %02d;", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDirectorySplitsByFile(t *testing.T) {
	dir := writeFiles(t, 40)
	os.WriteFile(filepath.Join(dir, ".hidden"), []byte("secret"), 0o644)
	os.WriteFile(filepath.Join(dir, "zz.bin"), []byte{1, 0, 2, 3}, 0o644)
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.TrainFiles != 36 || c.ValFiles != 2 || c.TestFiles != 2 {
		t.Fatalf("train %d, val %d, test %d files", c.TrainFiles, c.ValFiles, c.TestFiles)
	}
	if got := string(c.Val); got != "file 09;file 29;" {
		t.Fatalf("validation text %q", got)
	}
	if got := string(c.Test); got != "file 19;file 39;" {
		t.Fatalf("test text %q", got)
	}
	if strings.Contains(string(c.Train), "secret") || strings.Contains(string(c.Train), "file 09") || strings.Contains(string(c.Train), "file 19") {
		t.Fatalf("training text %q", c.Train)
	}
}

func TestLoadSingleFileSplitsByPosition(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.txt")
	os.WriteFile(p, []byte(strings.Repeat("0123456789", 10)), 0o644)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Train) != 80 || string(c.Val) != "0123456789" || string(c.Test) != "0123456789" {
		t.Fatalf("train %d, val %q, test %q", len(c.Train), c.Val, c.Test)
	}
}

func TestLoadErrors(t *testing.T) {
	empty := t.TempDir()
	emptyFile := filepath.Join(t.TempDir(), "e.txt")
	os.WriteFile(emptyFile, nil, 0o644)
	binFile := filepath.Join(t.TempDir(), "b.bin")
	os.WriteFile(binFile, append([]byte(strings.Repeat("text ", 100)), 0, 1, 2), 0o644)
	for _, tc := range []struct {
		name, path string
		is         error
	}{
		{"missing", filepath.Join(empty, "nope"), os.ErrNotExist},
		{"empty-dir", empty, ErrEmpty},
		{"empty-file", emptyFile, ErrEmpty},
		{"binary-file", binFile, ErrBinary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.path)
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want %v", err, tc.is)
			}
		})
	}
}

func TestSampler(t *testing.T) {
	data := []byte("abcdefghijklmnopqrstuvwxyz")
	const b, ctx = 3, 4
	s1, err := NewSampler(data, b, ctx, 42)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := NewSampler(data, b, ctx, 42)
	s3, _ := NewSampler(data, b, ctx, 43)
	in1, tg1 := make([]int32, b*ctx), make([]int32, b*ctx)
	in2, tg2 := make([]int32, b*ctx), make([]int32, b*ctx)
	differ := false
	for range 5 {
		s1.Next(in1, tg1)
		s2.Next(in2, tg2)
		if !slices.Equal(in1, in2) || !slices.Equal(tg1, tg2) {
			t.Fatal("same seed, different batches")
		}
		s3.Next(in2, tg2)
		differ = differ || !slices.Equal(in1, in2)
		for r := range b {
			for i := range ctx {
				x := in1[r*ctx+i]
				if tg1[r*ctx+i] != x+1 || (i > 0 && in1[r*ctx+i-1] != x-1) {
					t.Fatalf("row %d is not a window: %v → %v", r, in1[r*ctx:(r+1)*ctx], tg1[r*ctx:(r+1)*ctx])
				}
			}
		}
	}
	if !differ {
		t.Error("different seeds gave the same batches")
	}
	if _, err := NewSampler(data[:4], b, ctx, 1); !errors.Is(err, ErrEmpty) {
		t.Errorf("short text: %v", err)
	}
}

func TestGoSourceFiles(t *testing.T) {
	root, err := GoRoot()
	if err != nil {
		t.Skip(err)
	}
	files, err := GoSourceFiles(filepath.Join(root, "src", "container"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 || !slices.IsSorted(files) {
		t.Fatalf("%d files, sorted %v", len(files), slices.IsSorted(files))
	}
	for _, f := range files {
		if !strings.HasSuffix(f, ".go") || strings.Contains(f, "testdata") {
			t.Errorf("unexpected %s", f)
		}
	}
}

func TestWindows(t *testing.T) {
	data := []byte("abcdefghijklmnopqrstuvwxyz") // 26 bytes
	for _, tc := range []struct {
		ctx, n, windows int
		rows            []string // inputs of each window; targets are shifted by one
	}{
		{3, 2, 2, []string{"abc", "wxy"}},                             // slack 18 goes between the two
		{3, 3, 3, []string{"abc", "lmn", "wxy"}},                      // offsets 0, 4+7, 8+14
		{4, 100, 5, []string{"abcd", "fghi", "klmn", "pqrs", "vwxy"}}, // all that fit; the last ends at the end
		{25, 1, 1, []string{"abcdefghijklmnopqrstuvwxy"}},
	} {
		in, tg, w, err := Windows(data, tc.ctx, tc.n)
		if err != nil || w != tc.windows || len(in) != w*tc.ctx || len(tg) != len(in) {
			t.Fatalf("ctx %d n %d: %d windows, %d tokens, %v", tc.ctx, tc.n, w, len(in), err)
		}
		for r, want := range tc.rows {
			var a, b strings.Builder
			for i := range tc.ctx {
				a.WriteByte(byte(in[r*tc.ctx+i]))
				b.WriteByte(byte(tg[r*tc.ctx+i]))
			}
			if a.String() != want || b.String()[:tc.ctx-1] != want[1:] {
				t.Fatalf("ctx %d n %d window %d: %q → %q, want %q", tc.ctx, tc.n, r, a.String(), b.String(), want)
			}
		}
	}
	if _, _, _, err := Windows(data, 26, 1); !errors.Is(err, ErrEmpty) {
		t.Fatalf("window longer than the data: %v", err)
	}
	if _, _, _, err := Windows(data, 0, 1); err == nil {
		t.Fatal("ctx 0 accepted")
	}
}
