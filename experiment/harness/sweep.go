package harness

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fadam-go/fadam/internal/atomicfile"
)

// Sweep is a grid of runs of one task: every optimizer at every learning rate with every seed.
type Sweep struct {
	Task       Task
	Loop       Loop
	Optimizers []Optimizer
	LRs        []float64
	Seeds      []uint64
	// Dir, if not empty, is where finished runs are stored (Dir/runs/<key>.json) and reused
	// from: a run whose stored Spec equals its own is not trained again.
	Dir      string
	Parallel int    // runs at once (at least 1)
	OnStep   func() // called after every training step of every run, from several goroutines
	// OnRun, if not nil, is called when a run finishes, diverges or is reused (not when it is
	// cut short), from several goroutines.
	OnRun func(Run)
}

// Run is one run of a sweep.
type Run struct {
	Spec   Spec
	Result Result
	Err    error // nil for a completed or diverged run; ctx's error for one cut short or never started
	Reused bool  // loaded from a previous sweep's store
}

// Outcome is a finished (or interrupted) sweep.
type Outcome struct {
	Info   Info
	Loop   Loop
	LRs    []float64
	Seeds  []uint64
	Names  []string // optimizer names in grid order
	Runs   []Run    // in grid order: optimizer, then learning rate, then seed
	Reused int      // runs loaded from the store
	Wall   time.Duration
}

// Validate reports what is wrong with s, if anything.
func (s Sweep) Validate() error {
	if err := s.Loop.Validate(); err != nil {
		return err
	}
	switch {
	case s.Task == nil:
		return errors.New("harness: no task")
	case len(s.Optimizers) == 0 || len(s.LRs) == 0 || len(s.Seeds) == 0:
		return fmt.Errorf("harness: empty grid (%d optimizers, %d learning rates, %d seeds)", len(s.Optimizers), len(s.LRs), len(s.Seeds))
	}
	seen := map[string]bool{}
	for _, o := range s.Optimizers {
		if o.Name == "" || o.New == nil {
			return fmt.Errorf("harness: optimizer %q has no name or no factory", o.Name)
		}
		if seen[o.Name] {
			return fmt.Errorf("harness: optimizer %q listed twice", o.Name)
		}
		seen[o.Name] = true
	}
	lrs := map[float64]bool{}
	for _, lr := range s.LRs {
		if !(lr > 0) || math.IsInf(lr, 0) {
			return fmt.Errorf("harness: learning rate must be positive and finite, got %v", lr)
		}
		if lrs[lr] {
			return fmt.Errorf("harness: learning rate %v listed twice", lr)
		}
		lrs[lr] = true
	}
	seeds := map[uint64]bool{}
	for _, sd := range s.Seeds {
		if seeds[sd] {
			return fmt.Errorf("harness: seed %d listed twice", sd)
		}
		seeds[sd] = true
	}
	return nil
}

// Key is the file name stem a run is stored under: readable fields and a hash of the spec.
func (sp Spec) Key() (string, error) {
	b, err := json.Marshal(sp)
	if err != nil {
		return "", fmt.Errorf("harness: encoding run spec: %w", err)
	}
	h := sha256.Sum256(b)
	name := fmt.Sprintf("%s-%s-lr%s-seed%d", sp.Task, sp.Optimizer, strconv.FormatFloat(sp.LR, 'g', -1, 64), sp.Seed)
	return fileSafe(name) + "-" + hex.EncodeToString(h[:6]), nil
}

// fileSafe keeps the letters, digits and ".=+-" of s (others become '_') and at most 80 bytes.
func fileSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".=+-", c) >= 0) {
			b[i] = '_'
		}
	}
	return string(b[:min(len(b), 80)])
}

// stored is a run as written to the store.
type stored struct {
	Spec   Spec   `json:"spec"`
	Result Result `json:"result"`
}

// RunsDir is the store's directory inside a sweep's output directory.
const RunsDir = "runs"

func (s Sweep) path(sp Spec) (string, error) {
	k, err := sp.Key()
	if err != nil {
		return "", err
	}
	return filepath.Join(s.Dir, RunsDir, k+".json"), nil
}

// load returns the stored result of sp if the store holds one with exactly this spec.
func (s Sweep) load(sp Spec) (Result, bool) {
	if s.Dir == "" {
		return Result{}, false
	}
	p, err := s.path(sp)
	if err != nil {
		return Result{}, false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return Result{}, false
	}
	var st stored
	if err := json.Unmarshal(b, &st); err != nil {
		return Result{}, false // a damaged file: train again and overwrite it
	}
	want, err1 := json.Marshal(sp)
	got, err2 := json.Marshal(st.Spec)
	if err1 != nil || err2 != nil || !bytes.Equal(want, got) {
		return Result{}, false
	}
	return st.Result, true
}

// save writes a finished run to the store atomically.
func (s Sweep) save(sp Spec, r Result) error {
	if s.Dir == "" {
		return nil
	}
	p, err := s.path(sp)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("harness: run store: %w", err)
	}
	b, err := json.MarshalIndent(stored{Spec: sp, Result: r}, "", " ")
	if err != nil {
		return fmt.Errorf("harness: encoding run: %w", err)
	}
	return atomicfile.Write(p, func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err })
}

// CheckWritable makes dir (and its run store) if needed and checks that a file can be created
// in it, so that a sweep fails before training rather than after.
func CheckWritable(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, RunsDir), 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("output directory %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("output directory: %w", err)
	}
	return nil
}

// Specs returns the spec of every run of the grid, in grid order (optimizer, learning rate,
// seed).
func (s Sweep) Specs() ([]Spec, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	info := s.Task.Info()
	tc, err := json.Marshal(s.Task.Config())
	if err != nil {
		return nil, fmt.Errorf("harness: encoding %s's configuration: %w", info.Name, err)
	}
	var specs []Spec
	for _, o := range s.Optimizers {
		for _, lr := range s.LRs {
			for _, seed := range s.Seeds {
				c := o.Config
				c.LR = lr
				specs = append(specs, Spec{Task: info.Name, TaskConfig: tc, Loop: s.Loop, Optimizer: o.Name,
					Setting: o.Setting, Config: c, LR: lr, Seed: seed})
			}
		}
	}
	return specs, nil
}

// Run trains every run of the grid that the store does not already hold, up to Parallel at
// once, in an interleaved order (seed, then learning rate, then optimizer), so that an
// interrupted sweep has compared every optimizer on the seeds it reached. Each finished or
// diverged run is stored as soon as it ends. The outcome lists the runs in grid order.
//
// A diverged run is a result, not an error. Run returns an error only for an invalid sweep or
// when storing a run fails; a cancelled ctx leaves the unfinished runs with Err set to ctx's
// error.
func (s Sweep) Run(ctx context.Context) (*Outcome, error) {
	specs, err := s.Specs()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	out := &Outcome{Info: s.Task.Info(), Loop: s.Loop, LRs: s.LRs, Seeds: s.Seeds, Runs: make([]Run, len(specs))}
	byName := map[string]Optimizer{}
	for _, o := range s.Optimizers {
		out.Names = append(out.Names, o.Name)
		byName[o.Name] = o
	}
	var todo []int
	for i, sp := range specs {
		out.Runs[i].Spec = sp
		if r, ok := s.load(sp); ok {
			out.Runs[i].Result, out.Runs[i].Reused = r, true
			out.Reused++
			if s.OnRun != nil {
				s.OnRun(out.Runs[i])
			}
			continue
		}
		todo = append(todo, i)
	}
	order := interleave(todo, len(s.LRs), len(s.Seeds))
	var mu sync.Mutex
	var saveErr error
	pool(ctx, order, s.Parallel, func(i int) {
		r := &out.Runs[i]
		r.Result, r.Err = Train(ctx, s.Task, s.Loop, byName[r.Spec.Optimizer], r.Spec.LR, r.Spec.Seed, s.OnStep)
		if r.Err != nil {
			return
		}
		if err := s.save(r.Spec, r.Result); err != nil {
			mu.Lock()
			saveErr = errors.Join(saveErr, err)
			mu.Unlock()
		}
		if s.OnRun != nil {
			s.OnRun(*r)
		}
	}, func(i int, err error) { out.Runs[i].Err = err })
	out.Wall = time.Since(start)
	return out, saveErr
}

// interleave orders grid indices (optimizer-major, then learning rate, then seed) by seed first,
// then learning rate, then optimizer.
func interleave(idx []int, nLR, nSeed int) []int {
	out := slices.Clone(idx)
	rank := func(i int) [3]int { return [3]int{i % nSeed, (i / nSeed) % nLR, i / (nLR * nSeed)} }
	slices.SortStableFunc(out, func(a, b int) int {
		ra, rb := rank(a), rank(b)
		for k := range ra {
			if c := cmp.Compare(ra[k], rb[k]); c != 0 {
				return c
			}
		}
		return 0
	})
	return out
}
