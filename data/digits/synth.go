package digits

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// ErrNoEspeak is returned when the espeak-ng program is not on PATH.
var ErrNoEspeak = errors.New("espeak-ng not found on PATH; install it with `apt-get install espeak-ng`")

// ManifestVersion changes whenever the cache layout or the meaning of a Spec changes.
const ManifestVersion = 1

// ManifestName is the manifest's file name inside the cache directory.
const ManifestName = "manifest.json"

// Entry is one cached utterance in the manifest.
type Entry struct {
	Spec
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Manifest describes the cache directory's contents.
type Manifest struct {
	Version    int     `json:"version"`
	Generator  string  `json:"generator"` // espeak-ng --version
	Seed       uint64  `json:"seed"`
	Utterances []Entry `json:"utterances"`
}

// EspeakVersion returns the name and version `espeak-ng --version` prints, or ErrNoEspeak.
func EspeakVersion(ctx context.Context) (string, error) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		return "", ErrNoEspeak
	}
	out, err := exec.CommandContext(ctx, "espeak-ng", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("digits: espeak-ng --version: %w", err)
	}
	// "eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/…": keep the name and version only.
	line, _, _ := strings.Cut(string(out), "\n")
	line, _, _ = strings.Cut(line, "Data at:")
	return strings.TrimSpace(line), nil
}

// PrepareStats says how much of a corpus came from the cache.
type PrepareStats struct {
	Reused, Synthesized int
}

// Counts is how many utterances of each split a corpus holds.
type Counts struct {
	Train, Dev, Test int
}

// Of returns the count of split s.
func (c Counts) Of(s Split) int {
	switch s {
	case Train:
		return c.Train
	case Dev:
		return c.Dev
	case Test:
		return c.Test
	}
	return 0
}

// Total is the number of utterances over all splits.
func (c Counts) Total() int { return c.Train + c.Dev + c.Test }

// Prepare makes sure dir holds WAV files for the first n.Of(s) utterances of every split s
// (MakeSpec with seed), synthesising with espeak-ng (workers processes at a time) only those
// that are missing, changed, or fail their size or SHA-256 check, or all of them when the
// manifest's version or generator differs. It rewrites the manifest and returns the specs in
// the order of Splits (train, dev, test). Cancelling ctx stops synthesis with ctx's error.
func Prepare(ctx context.Context, dir string, seed uint64, n Counts, workers int) ([]Spec, PrepareStats, error) {
	var st PrepareStats
	if n.Train < 0 || n.Dev < 0 || n.Test < 0 {
		return nil, st, fmt.Errorf("digits: negative utterance count %+v", n)
	}
	gen, err := EspeakVersion(ctx)
	if err != nil {
		return nil, st, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, st, fmt.Errorf("digits: %w", err)
	}
	old := map[string]Entry{}
	if m, err := ReadManifest(dir); err == nil && m.Version == ManifestVersion && m.Generator == gen {
		for _, e := range m.Utterances {
			old[e.File()] = e
		}
	}
	var specs []Spec
	for _, sp := range Splits {
		for i := range n.Of(sp) {
			specs = append(specs, MakeSpec(seed, sp, i))
		}
	}
	entries := make([]Entry, len(specs))
	var todo []int
	for i, s := range specs {
		if e, ok := old[s.File()]; ok && specEqual(e.Spec, s) && fileMatches(filepath.Join(dir, s.File()), e) {
			entries[i] = e
			st.Reused++
			continue
		}
		todo = append(todo, i)
	}
	// Synthesise with a fixed pool of workers; each writes to a temporary name and renames, so
	// an interrupted run never leaves a half-written file under a manifest name.
	jobs := make(chan int)
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				entries[i], errs[i] = synthesize(ctx, dir, specs[i])
			}
		}()
	}
feed:
	for _, i := range todo {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, st, err
	}
	for _, i := range todo {
		if errs[i] != nil {
			return nil, st, errs[i]
		}
	}
	st.Synthesized = len(todo)
	// Keep cached utterances beyond the requested counts, so a smaller run does not evict a
	// larger run's files from the manifest.
	want := map[string]bool{}
	for _, s := range specs {
		want[s.File()] = true
	}
	for _, e := range old {
		if !want[e.File()] && specEqual(e.Spec, MakeSpec(seed, e.Split, e.Index)) {
			entries = append(entries, e)
		}
	}
	slices.SortFunc(entries[len(specs):], func(a, b Entry) int { return strings.Compare(a.File(), b.File()) })
	m := Manifest{Version: ManifestVersion, Generator: gen, Seed: seed, Utterances: entries}
	if err := writeManifest(dir, m); err != nil {
		return nil, st, err
	}
	return specs, st, nil
}

func specEqual(a, b Spec) bool {
	return a.Split == b.Split && a.Index == b.Index && a.Voice == b.Voice && a.Speed == b.Speed &&
		a.Pitch == b.Pitch && slices.Equal(a.Words, b.Words)
}

func fileMatches(path string, e Entry) bool {
	data, err := os.ReadFile(path)
	if err != nil || int64(len(data)) != e.Bytes {
		return false
	}
	return hashHex(data) == e.SHA256
}

func hashHex(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

func synthesize(ctx context.Context, dir string, s Spec) (Entry, error) {
	path := filepath.Join(dir, s.File())
	// The temporary name is this process's own, so two commands sharing the cache do not write
	// into each other's file.
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	cmd := exec.CommandContext(ctx, "espeak-ng", "-v", s.Voice, "-s", fmt.Sprint(s.Speed), "-p", fmt.Sprint(s.Pitch), "-w", tmp, s.Text())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return Entry{}, fmt.Errorf("digits: espeak-ng -v %s for %s: %w: %s", s.Voice, s.File(), err, strings.TrimSpace(stderr.String()))
	}
	data, err := os.ReadFile(tmp)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return Entry{}, fmt.Errorf("digits: %w", err)
	}
	return Entry{Spec: s, Bytes: int64(len(data)), SHA256: hashHex(data)}, nil
}

// ReadManifest reads dir's manifest.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return m, fmt.Errorf("digits: %w", err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("digits: manifest %s: %w", filepath.Join(dir, ManifestName), err)
	}
	return m, nil
}

func writeManifest(dir string, m Manifest) error {
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("digits: %w", err)
	}
	path := filepath.Join(dir, ManifestName)
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("digits: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("digits: %w", err)
	}
	return nil
}
