// Package text loads a byte-level text corpus, split into training, validation and test text by
// file, samples language-model batches from it deterministically, and cuts fixed evaluation
// windows from a split.
//
// The default corpus is the Go standard library's source: every *.go file under
// $(go env GOROOT)/src outside testdata directories, in sorted order.
package text

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// ValEvery sends every ValEvery-th file of the sorted file list to held-out text, alternately
// to the validation split (the 10th, 30th, 50th, …) and to the test split (the 20th, 40th, …),
// so each gets about one file in 2·ValEvery.
const ValEvery = 10

// Corpus is a text corpus as bytes, split into training, validation and test parts. A learning
// rate may be selected on Val; Test is for the numbers reported after selection.
type Corpus struct {
	Source           string // where it came from (a path)
	Train, Val, Test []byte
	// TrainFiles, ValFiles and TestFiles count the files of each split (1 each when a single
	// text was split by position).
	TrainFiles, ValFiles, TestFiles int
}

// ErrBinary is wrapped by the error Load returns for a single file that is not text.
var ErrBinary = errors.New("text: not a text file (it has NUL bytes)")

// isBinary reports whether b looks like binary data: a NUL byte in its first 8 KiB.
func isBinary(b []byte) bool { return bytes.IndexByte(b[:min(len(b), 8192)], 0) >= 0 }

// ErrEmpty is wrapped by the errors returned for a corpus with too little text.
var ErrEmpty = errors.New("text: corpus is empty")

// GoRoot returns the Go installation's root: `go env GOROOT`, or, without a go command on PATH,
// the root this binary was built with.
func GoRoot() (string, error) {
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		if root := strings.TrimSpace(string(out)); root != "" {
			return root, nil
		}
	}
	// Deprecated but still right for a binary built on this machine.
	if root := runtime.GOROOT(); root != "" {
		return root, nil
	}
	return "", errors.New("text: cannot find GOROOT (no go command on PATH); pass a corpus path")
}

// GoSourceFiles returns the sorted paths of the *.go files under root, skipping testdata
// directories.
func GoSourceFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() && strings.HasSuffix(path, ".go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("text: listing Go source under %s: %w", root, err)
	}
	sort.Strings(files)
	return files, nil
}

// LoadGoSource loads the default corpus, the Go standard library source under GoRoot()/src.
func LoadGoSource() (*Corpus, error) {
	root, err := GoRoot()
	if err != nil {
		return nil, err
	}
	src := filepath.Join(root, "src")
	files, err := GoSourceFiles(src)
	if err != nil {
		return nil, err
	}
	return loadFiles(src, files)
}

// Load loads the corpus at path: a text file, split by position (the last 2/ValEvery of it is
// held out: validation, then test), or a directory, whose regular files (recursively, sorted,
// hidden entries and files with NUL bytes skipped) are split by file. A single file with NUL
// bytes is refused (ErrBinary), as such files are skipped in a directory.
func Load(path string) (*Corpus, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("text: corpus: %w", err)
	}
	if !info.IsDir() {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("text: corpus: %w", err)
		}
		if isBinary(b) {
			return nil, fmt.Errorf("%w: %s", ErrBinary, path)
		}
		return splitByPosition(path, b)
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != path && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("text: corpus: %w", err)
	}
	sort.Strings(files)
	return loadFiles(path, files)
}

func loadFiles(source string, files []string) (*Corpus, error) {
	var texts [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("text: corpus: %w", err)
		}
		if len(b) == 0 || isBinary(b) {
			continue // empty or binary
		}
		texts = append(texts, b)
	}
	if len(texts) < 2*ValEvery {
		// Too few files for a split by file: concatenate and split by position.
		return splitByPosition(source, bytes.Join(texts, nil))
	}
	c := &Corpus{Source: source}
	for i, b := range texts {
		switch {
		case (i+1)%ValEvery != 0:
			c.Train = append(c.Train, b...)
			c.TrainFiles++
		case ((i+1)/ValEvery)%2 == 1:
			c.Val = append(c.Val, b...)
			c.ValFiles++
		default:
			c.Test = append(c.Test, b...)
			c.TestFiles++
		}
	}
	return c, nil
}

func splitByPosition(source string, b []byte) (*Corpus, error) {
	if len(b) < 3*ValEvery {
		return nil, fmt.Errorf("%w: %s has %d bytes of text", ErrEmpty, source, len(b))
	}
	held := len(b) / ValEvery
	cut1, cut2 := len(b)-2*held, len(b)-held
	return &Corpus{Source: source, Train: b[:cut1], Val: b[cut1:cut2], Test: b[cut2:], TrainFiles: 1, ValFiles: 1, TestFiles: 1}, nil
}

// Windows cuts up to n evaluation windows of ctx+1 bytes from data, spread evenly over it
// (non-overlapping, the first at offset 0, the last ending at the end of data when n windows
// do not cover all of it), and returns their inputs and targets as consecutive rows of ctx
// tokens, and the number of windows. It returns fewer than n windows when data cannot hold n
// disjoint ones, and an error (wrapping ErrEmpty) when it cannot hold one.
func Windows(data []byte, ctx, n int) (inputs, targets []int32, windows int, err error) {
	if ctx <= 0 || n <= 0 {
		return nil, nil, 0, fmt.Errorf("text: ctx %d and window count %d must be positive", ctx, n)
	}
	fit := len(data) / (ctx + 1)
	if fit == 0 {
		return nil, nil, 0, fmt.Errorf("%w: %d bytes cannot hold a window of ctx+1 = %d bytes", ErrEmpty, len(data), ctx+1)
	}
	windows = min(n, fit)
	inputs, targets = make([]int32, windows*ctx), make([]int32, windows*ctx)
	slack := len(data) - windows*(ctx+1) // spread over the gaps between windows
	for w := range windows {
		off := w * (ctx + 1)
		if windows > 1 {
			off += int(int64(slack) * int64(w) / int64(windows-1))
		}
		for i := range ctx {
			inputs[w*ctx+i], targets[w*ctx+i] = int32(data[off+i]), int32(data[off+i+1])
		}
	}
	return inputs, targets, windows, nil
}

// Sampler draws language-model batches from a text: each row is a window of ctx+1 consecutive
// bytes starting at a uniformly random offset; inputs are its first ctx bytes and targets its
// last ctx. The sequence of batches is a function of the seed alone.
type Sampler struct {
	data       []byte
	batch, ctx int
	rng        *rand.Rand
}

// NewSampler returns a sampler of batch×ctx batches from data, seeded by seed. It fails when
// data is shorter than ctx+1 bytes.
func NewSampler(data []byte, batch, ctx int, seed uint64) (*Sampler, error) {
	if batch <= 0 || ctx <= 0 {
		return nil, fmt.Errorf("text: batch %d and ctx %d must be positive", batch, ctx)
	}
	if len(data) < ctx+1 {
		return nil, fmt.Errorf("%w: %d bytes cannot hold a window of ctx+1 = %d bytes", ErrEmpty, len(data), ctx+1)
	}
	return &Sampler{data: data, batch: batch, ctx: ctx, rng: rand.New(rand.NewPCG(seed, 0x746578742d6261))}, nil
}

// Next fills inputs and targets (each of length batch·ctx) with the next batch.
func (s *Sampler) Next(inputs, targets []int32) {
	n := len(s.data) - s.ctx
	for b := range s.batch {
		off := s.rng.IntN(n)
		w := s.data[off : off+s.ctx+1]
		in, tg := inputs[b*s.ctx:(b+1)*s.ctx], targets[b*s.ctx:(b+1)*s.ctx]
		for i := range s.ctx {
			in[i] = int32(w[i])
			tg[i] = int32(w[i+1])
		}
	}
}
