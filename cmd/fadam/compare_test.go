package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/experiment/lm"
)

// compareTestArgs are flags for a tiny comparison of FAdam and AdamW on a small corpus written
// into dir.
func compareTestArgs(t *testing.T, dir string) []string {
	t.Helper()
	corpus := filepath.Join(dir, "corpus.txt")
	if err := os.WriteFile(corpus, []byte(strings.Repeat("func main() { fmt.Println(\"hello\") }\n", 30)), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"--optimizers", "fadam,adamw", "--steps", "6", "--seeds", "2",
		"--lr", "0.01", "--warmup", "2", "--d", "8", "--layers", "1", "--heads", "2", "--ctx", "8", "--batch", "2",
		"--eval-every", "3", "--out", filepath.Join(dir, "out"), "--corpus", corpus, "--quiet"}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestCompareEndToEnd(t *testing.T) {
	dir := t.TempDir()
	var stdout bytes.Buffer
	args := append(compareTestArgs(t, dir), "--lr", "3e-3,1e-2")
	if err := runCompare(context.Background(), args, &stdout); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	for _, f := range []string{"compare.md", "compare.csv", "compare.svg", "compare.png", "compare-lr.png", "compare-diff.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	rows := readCSV(t, filepath.Join(out, "compare.csv"))
	// header + 2 optimizers × 2 LRs × 2 seeds × evaluations at steps 0, 3 and 6
	if len(rows) != 1+2*2*2*3 || strings.Join(rows[0], ",") != strings.Join(harness.CSVHeader, ",") {
		t.Fatalf("CSV: %v", rows)
	}
	md, _ := os.ReadFile(filepath.Join(out, "compare.md"))
	for _, want := range []string{"fadam compare --optimizers", "compare-lr.png", "Tuned (fadam at", "95% interval", "test files", "tokens: ", "what λ does", "Claim and result"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("compare.md lacks %q:\n%s", want, md)
		}
	}
	if s := stdout.String(); !strings.Contains(s, "| fadam") || !strings.Contains(s, "selected peak LR") || !strings.Contains(s, "0 reused") {
		t.Errorf("stdout:\n%s", s)
	}
	// The same command again reuses every run.
	stdout.Reset()
	if err := runCompare(context.Background(), args, &stdout); err != nil || !strings.Contains(stdout.String(), "8 reused") {
		t.Fatalf("rerun: %v\n%s", err, stdout.String())
	}
}

func TestCompareDivergedIsAResult(t *testing.T) {
	for _, lr := range []string{"1e9", "1e2"} {
		t.Run(lr, func(t *testing.T) {
			dir := t.TempDir()
			var stdout bytes.Buffer
			args := append(compareTestArgs(t, dir), "--lr", lr, "--seeds", "1")
			if err := runCompare(context.Background(), args, &stdout); err != nil {
				t.Fatalf("a diverging learning rate is an error: %v", err)
			}
			md, _ := os.ReadFile(filepath.Join(dir, "out", "compare.md"))
			if !strings.Contains(stdout.String(), "diverged (1/1 seeds") || !strings.Contains(string(md), "diverged (1/1 seeds") || strings.Contains(string(md), "Interrupted") {
				t.Fatalf("stdout:\n%s\nreport:\n%s", stdout.String(), md)
			}
		})
	}
}

func TestCompareInterruptedResumes(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lmStepHook = func(done int) {
		if done == 8 { // during the second run: the first (6 steps) is stored
			cancel()
		}
	}
	defer func() { lmStepHook = nil }()
	args := append(compareTestArgs(t, dir), "--parallel", "1")
	var stdout bytes.Buffer
	err := runCompare(ctx, args, &stdout)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	md, rerr := os.ReadFile(filepath.Join(dir, "out", "compare.md"))
	if rerr != nil || !strings.Contains(string(md), "Interrupted") {
		t.Fatalf("compare.md after interrupt: %v\n%s", rerr, md)
	}
	lmStepHook = nil
	stdout.Reset()
	if err := runCompare(context.Background(), args, &stdout); err != nil || !strings.Contains(stdout.String(), "1 reused") {
		t.Fatalf("resume: %v\n%s", err, stdout.String())
	}
}

func TestCompareFactoredAtTwoDecays(t *testing.T) {
	dir := t.TempDir()
	var stdout bytes.Buffer
	args := append(compareTestArgs(t, dir), "--optimizers", "fadafactor,adafactor", "--wd", "0,1e-3", "--seeds", "1")
	if err := runCompare(context.Background(), args, &stdout); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"fadafactor λ=0 − adafactor λ=0", "fadafactor λ=0.001 − adafactor λ=0.001"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "out", "compare.md"))
	for _, want := range []string{"# FAdafactor vs Adafactor", "the gap there is the Fisher correction alone", "| adafactor λ=0 ", "Algorithm 4: θ ← θ − (m + λθ)"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("compare.md lacks %q", want)
		}
	}
}

func TestCompareBadInput(t *testing.T) {
	dir := t.TempDir()
	base := compareTestArgs(t, dir)
	bin := filepath.Join(dir, "data.bin")
	os.WriteFile(bin, append([]byte(strings.Repeat("x", 500)), 0, 1), 0o644)
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		name  string
		extra []string
		want  string
	}{
		{"optimizer", []string{"--optimizers", "sgd"}, "unknown optimizer"},
		{"heads", []string{"--heads", "3"}, "not a multiple"},
		{"corpus", []string{"--corpus", filepath.Join(dir, "missing")}, "corpus"},
		{"empty-corpus", []string{"--corpus", t.TempDir()}, "empty"},
		{"binary-corpus", []string{"--corpus", bin}, "not a text file"},
		{"seeds", []string{"--seeds", "0"}, "--seeds"},
		{"lr", []string{"--lr", "1e-3,x"}, "--lr"},
		{"lr-nan", []string{"--lr", "NaN"}, "--lr"},
		{"lr-neg", []string{"--lr", "-1"}, "--lr"},
		{"wd", []string{"--wd", "-1"}, "--wd"},
		{"out", []string{"--out", filepath.Join(file, "out")}, "output directory"},
		{"memory", []string{"--ctx", "10000000"}, "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{}, base...), tc.extra...)
			err := runCompare(context.Background(), args, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
			if tc.name == "memory" && !errors.Is(err, lm.ErrTooLarge) {
				t.Fatalf("error %v", err)
			}
		})
	}
}

// TestCompareBF16State: an optimizer name ending in -bf16 runs with bfloat16 state and is
// compared, paired by seed, with the same optimizer's float32 state.
func TestCompareBF16State(t *testing.T) {
	dir := t.TempDir()
	var stdout bytes.Buffer
	args := append(compareTestArgs(t, dir), "--optimizers", "fadam,fadam-bf16", "--seeds", "2")
	if err := runCompare(context.Background(), args, &stdout); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "fadam-bf16 − fadam") {
		t.Errorf("stdout lacks the bf16 − float32 pair:\n%s", stdout.String())
	}
	md, _ := os.ReadFile(filepath.Join(dir, "out", "compare.md"))
	for _, want := range []string{"# bfloat16 against float32 optimizer state", "**fadam-bf16 vs fadam: "} {
		if !strings.Contains(string(md), want) {
			t.Errorf("compare.md lacks %q", want)
		}
	}
	if strings.Contains(string(md), "reproduced") {
		t.Error("compare.md judges a claim the paper does not make (bf16 against float32)")
	}
}
