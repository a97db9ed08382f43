package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ablateTestCorpus writes a small text corpus: enough bytes for tiny train and validation splits.
func ablateTestCorpus(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for i, s := range []string{"alpha beta gamma delta ", "the quick brown fox jumps ", "over the lazy dog again "} {
		body := strings.Repeat(s, 40)
		if err := os.WriteFile(filepath.Join(dir, string(rune('a'+i))+".txt"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestAblateWritesReport(t *testing.T) {
	corpus := ablateTestCorpus(t)
	for _, tc := range []struct{ sweep, values string }{
		{"wd", "0,1e-3"},
		{"eps", "adaptive,1e-30"},
		{"components", "0,5"},
	} {
		t.Run(tc.sweep, func(t *testing.T) {
			out := t.TempDir()
			err := runAblate(context.Background(), []string{tc.sweep, "--values", tc.values, "--steps", "3", "--seeds", "1",
				"--d", "8", "--layers", "1", "--heads", "2", "--ctx", "8", "--batch", "2", "--eval-every", "2",
				"--warmup", "1", "--corpus", corpus, "--out", out, "--quiet"}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			md, err := os.ReadFile(filepath.Join(out, "ablate-"+tc.sweep+".md"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(md), "## Ours") || !strings.Contains(string(md), "fadam ablate "+tc.sweep) {
				t.Errorf("report lacks its table or command:\n%s", md)
			}
			for _, ext := range []string{".csv", ".png", ".svg"} {
				if st, err := os.Stat(filepath.Join(out, "ablate-"+tc.sweep+ext)); err != nil || st.Size() == 0 {
					t.Errorf("ablate-%s%s missing or empty (%v)", tc.sweep, ext, err)
				}
			}
		})
	}
}

func TestAblateRejectsBadInput(t *testing.T) {
	out := t.TempDir()
	for _, args := range [][]string{
		nil,
		{"nosuch"},
		{"rho", "--values", "0.5,abc", "--out", out},
		{"eps2", "--values", "-1", "--out", out},
		{"components", "--values", "7", "--out", out},
		{"rho", "--seeds", "0", "--out", out},
		{"rho", "--d", "10", "--heads", "3", "--out", out},
		{"rho", "--lr", "1e-3,3e-3", "--out", out},
	} {
		if err := runAblate(context.Background(), args, io.Discard); err == nil {
			t.Errorf("fadam ablate %v: no error", args)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("bad input wrote %d files", len(entries))
	}
}

// A cancelled sweep still writes its report, noting the interruption.
func TestAblateCancelledStillReports(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := t.TempDir()
	err := runAblate(ctx, []string{"rho", "--values", "0.5", "--steps", "3", "--seeds", "1", "--d", "8", "--layers", "1",
		"--heads", "2", "--ctx", "8", "--batch", "2", "--eval-every", "2", "--warmup", "1",
		"--corpus", ablateTestCorpus(t), "--out", out, "--quiet"}, io.Discard)
	if err == nil {
		t.Fatal("cancelled sweep returned no error")
	}
	md, rerr := os.ReadFile(filepath.Join(out, "ablate-rho.md"))
	if rerr != nil || !strings.Contains(string(md), "interrupted") {
		t.Fatalf("no report noting the interruption: %v\n%s", rerr, md)
	}
}
