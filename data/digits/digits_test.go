package digits

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestSplitsAreDisjoint(t *testing.T) {
	tr, te := SplitSettings(Train), SplitSettings(Test)
	disjoint := func(what string, a, b []string) {
		for _, x := range a {
			for _, y := range b {
				if x == y {
					t.Errorf("%s %q in both splits", what, x)
				}
			}
		}
	}
	ints := func(xs []int) []string {
		out := make([]string, len(xs))
		for i, x := range xs {
			out[i] = strconv.Itoa(x)
		}
		return out
	}
	disjoint("variant", tr.Variants, te.Variants)
	disjoint("speed", ints(tr.Speeds), ints(te.Speeds))
	disjoint("pitch", ints(tr.Pitches), ints(te.Pitches))
	// Every generated test utterance uses test settings only, and specs are deterministic.
	for i := range 200 {
		s := MakeSpec(7, Test, i)
		if len(s.Words) < 1 || len(s.Words) > 7 {
			t.Fatalf("%d words", len(s.Words))
		}
		if !specEqual(s, MakeSpec(7, Test, i)) {
			t.Fatal("MakeSpec not deterministic")
		}
		_, variant, _ := strings.Cut(s.Voice, "+")
		if !slices.Contains(te.Variants, variant) || !slices.Contains(te.Speeds, s.Speed) || !slices.Contains(te.Pitches, s.Pitch) {
			t.Fatalf("test utterance %d uses settings outside the test split: %+v", i, s)
		}
	}
}

func TestLabels(t *testing.T) {
	s := Spec{Words: []string{"oh", "zero", "nine"}}
	l, err := s.Labels()
	if err != nil || len(l) != 3 || l[0] != 11 || l[1] != 1 || l[2] != 10 {
		t.Fatalf("labels %v, %v", l, err)
	}
	if got := Transcript(l); got != "oh zero nine" {
		t.Fatalf("transcript %q", got)
	}
	if _, err := Label("ten"); err == nil {
		t.Fatal("unknown word accepted")
	}
	if Classes != 12 {
		t.Fatalf("%d classes", Classes)
	}
}

func TestPrepareAndLoad(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed (apt-get install espeak-ng); skipping synthesis test")
	}
	ctx := context.Background()
	dir := t.TempDir()
	specs, st, err := Prepare(ctx, dir, 3, 3, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 5 || st.Synthesized != 5 || st.Reused != 0 {
		t.Fatalf("%d specs, stats %+v", len(specs), st)
	}
	// A second call reuses everything; a smaller request keeps the manifest's other entries.
	if _, st, err = Prepare(ctx, dir, 3, 2, 1, 2); err != nil || st.Reused != 3 || st.Synthesized != 0 {
		t.Fatalf("stats %+v, %v", st, err)
	}
	m, err := ReadManifest(dir)
	if err != nil || len(m.Utterances) != 5 || m.Version != ManifestVersion || m.Generator == "" {
		t.Fatalf("manifest %+v, %v", m, err)
	}
	// A corrupted file is detected by its hash and synthesised again.
	path := filepath.Join(dir, specs[1].File())
	data, _ := os.ReadFile(path)
	data[len(data)-1] ^= 0x55
	os.WriteFile(path, data, 0o644)
	if _, st, err = Prepare(ctx, dir, 3, 3, 2, 2); err != nil || st.Reused != 4 || st.Synthesized != 1 {
		t.Fatalf("after corruption: stats %+v, %v", st, err)
	}

	ex, err := Load(ctx, dir, specs, DefaultLoadOptions())
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Load(ctx, dir, specs, DefaultLoadOptions())
	for i, e := range ex {
		if e.Frames < 20 || len(e.Feats) != e.Frames*40 || len(e.Labels) != len(specs[i].Words) {
			t.Fatalf("example %d: %d frames, %d feats, labels %v", i, e.Frames, len(e.Feats), e.Labels)
		}
		for j := range e.Feats {
			if e.Feats[j] != again[i].Feats[j] {
				t.Fatal("loading is not deterministic")
			}
		}
	}
	// A truncated WAV gives a clear error naming the file.
	os.WriteFile(path, data[:30], 0o644)
	if _, err := Load(ctx, dir, specs[1:2], DefaultLoadOptions()); err == nil {
		t.Fatal("truncated file loaded")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := Prepare(cctx, t.TempDir(), 3, 2, 0, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled prepare returned %v", err)
	}
}

func TestMissingEspeak(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, _, err := Prepare(context.Background(), t.TempDir(), 1, 1, 1, 1)
	if !errors.Is(err, ErrNoEspeak) || !strings.Contains(err.Error(), "apt-get install espeak-ng") {
		t.Fatalf("without espeak-ng: %v", err)
	}
}
