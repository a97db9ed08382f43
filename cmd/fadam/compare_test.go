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

	"github.com/fadam-go/fadam/experiment/lm"
)

// compareTestArgs are flags for a tiny comparison of the first two known optimizers on a small
// corpus written into dir.
func compareTestArgs(t *testing.T, dir string) []string {
	t.Helper()
	corpus := filepath.Join(dir, "corpus.txt")
	if err := os.WriteFile(corpus, []byte(strings.Repeat("func main() { fmt.Println(\"hello\") }\n", 30)), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"--optimizers", strings.Join(lm.OptimizerNames[:2], ","), "--steps", "6", "--seeds", "2",
		"--lr", "0.01", "--warmup", "2", "--d", "8", "--layers", "1", "--heads", "2", "--ctx", "8", "--batch", "2",
		"--eval-every", "3", "--out", filepath.Join(dir, "out"), "--corpus", corpus}
}

func readCompareCSV(t *testing.T, path string) [][]string {
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
	if err := runCompare(context.Background(), compareTestArgs(t, dir), &stdout); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	for _, f := range []string{"compare.md", "compare.csv", "compare.svg", "compare.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	rows := readCompareCSV(t, filepath.Join(out, "compare.csv"))
	// header + 2 optimizers × 2 seeds × evaluations at steps 3 and 6
	if len(rows) != 1+2*2*2 || strings.Join(rows[0], ",") != "optimizer,seed,step,train_loss,eval_loss,elapsed" {
		t.Fatalf("CSV: %v", rows)
	}
	md, _ := os.ReadFile(filepath.Join(out, "compare.md"))
	for _, want := range []string{"fadam compare --optimizers", "![eval loss against step](compare.png)", "2/2", "β₂=0.99", "λ=0.001", "Paired by seed"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("compare.md lacks %q:\n%s", want, md)
		}
	}
	if !strings.Contains(stdout.String(), "| "+lm.OptimizerNames[0]) {
		t.Errorf("no table on stdout:\n%s", stdout.String())
	}
}

func TestCompareInterrupted(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	compareStepHook = func(done int) {
		if done == 8 {
			cancel()
		}
	}
	defer func() { compareStepHook = nil }()
	var stdout bytes.Buffer
	err := runCompare(ctx, compareTestArgs(t, dir), &stdout)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	out := filepath.Join(dir, "out")
	md, rerr := os.ReadFile(filepath.Join(out, "compare.md"))
	if rerr != nil || !strings.Contains(string(md), "Interrupted") {
		t.Fatalf("compare.md after interrupt: %v\n%s", rerr, md)
	}
	if rows := readCompareCSV(t, filepath.Join(out, "compare.csv")); len(rows) < 2 {
		t.Fatalf("CSV lost the finished evaluations: %v", rows)
	}
}

func TestCompareBadInput(t *testing.T) {
	dir := t.TempDir()
	base := compareTestArgs(t, dir)
	for _, tc := range []struct {
		name  string
		extra []string
		want  string
	}{
		{"optimizer", []string{"--optimizers", "sgd"}, "unknown optimizer"},
		{"heads", []string{"--heads", "3"}, "not a multiple"},
		{"corpus", []string{"--corpus", filepath.Join(dir, "missing")}, "corpus"},
		{"empty-corpus", []string{"--corpus", t.TempDir()}, "empty"},
		{"seeds", []string{"--seeds", "0"}, "--seeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{}, base...), tc.extra...)
			err := runCompare(context.Background(), args, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
