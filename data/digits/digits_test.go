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
	disjoint := func(what string, a, b []string) {
		for _, x := range a {
			for _, y := range b {
				if x == y {
					t.Errorf("%s %q in two splits", what, x)
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
	for i, a := range Splits {
		for _, b := range Splits[i+1:] {
			sa, sb := SplitSettings(a), SplitSettings(b)
			disjoint("variant", sa.Variants, sb.Variants)
			disjoint("speed", ints(sa.Speeds), ints(sb.Speeds))
			disjoint("pitch", ints(sa.Pitches), ints(sb.Pitches))
		}
	}
	// Every generated utterance uses its own split's settings only, and specs are deterministic.
	for _, sp := range Splits {
		st := SplitSettings(sp)
		for i := range 200 {
			s := MakeSpec(7, sp, i)
			if len(s.Words) < 1 || len(s.Words) > 7 {
				t.Fatalf("%d words", len(s.Words))
			}
			if !specEqual(s, MakeSpec(7, sp, i)) {
				t.Fatal("MakeSpec not deterministic")
			}
			_, variant, _ := strings.Cut(s.Voice, "+")
			if !slices.Contains(st.Variants, variant) || !slices.Contains(st.Speeds, s.Speed) || !slices.Contains(st.Pitches, s.Pitch) {
				t.Fatalf("%s utterance %d uses settings outside its split: %+v", sp, i, s)
			}
		}
	}
}

// TestVariantsKnown checks that espeak-ng knows every variant of every split: an unknown
// variant would silently fall back to the base voice.
func TestVariantsKnown(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed (apt-get install espeak-ng); skipping the voice check")
	}
	out, err := exec.Command("espeak-ng", "--voices=variant").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range Splits {
		for _, v := range SplitSettings(sp).Variants {
			if !strings.Contains(strings.ToLower(string(out)), "!v/"+strings.ToLower(v)+" ") {
				t.Errorf("%s variant %q is not an espeak-ng variant", sp, v)
			}
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
	specs, st, err := Prepare(ctx, dir, 3, Counts{Train: 3, Dev: 1, Test: 2}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 6 || st.Synthesized != 6 || st.Reused != 0 {
		t.Fatalf("%d specs, stats %+v", len(specs), st)
	}
	// A second call reuses everything; a smaller request keeps the manifest's other entries.
	if _, st, err = Prepare(ctx, dir, 3, Counts{Train: 2, Test: 1}, 2); err != nil || st.Reused != 3 || st.Synthesized != 0 {
		t.Fatalf("stats %+v, %v", st, err)
	}
	m, err := ReadManifest(dir)
	if err != nil || len(m.Utterances) != 6 || m.Version != ManifestVersion || m.Generator == "" {
		t.Fatalf("manifest %+v, %v", m, err)
	}
	// A corrupted file is detected by its hash and synthesised again.
	path := filepath.Join(dir, specs[1].File())
	data, _ := os.ReadFile(path)
	data[len(data)-1] ^= 0x55
	os.WriteFile(path, data, 0o644)
	if _, st, err = Prepare(ctx, dir, 3, Counts{Train: 3, Dev: 1, Test: 2}, 2); err != nil || st.Reused != 5 || st.Synthesized != 1 {
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
	if _, _, err := Prepare(cctx, t.TempDir(), 3, Counts{Train: 2}, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled prepare returned %v", err)
	}
}

func TestMissingEspeak(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, _, err := Prepare(context.Background(), t.TempDir(), 1, Counts{Train: 1, Dev: 1, Test: 1}, 1)
	if !errors.Is(err, ErrNoEspeak) || !strings.Contains(err.Error(), "apt-get install espeak-ng") {
		t.Fatalf("without espeak-ng: %v", err)
	}
}
