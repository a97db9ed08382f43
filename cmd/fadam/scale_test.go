package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fadam-go/fadam/experiment/lm"
)

func TestScaleQuick(t *testing.T) {
	if lo, hi := lm.QuickLadder[0].ParamCount(), lm.QuickLadder[len(lm.QuickLadder)-1].ParamCount(); len(lm.QuickLadder) < 3 || hi < 6*lo {
		t.Fatalf("quick ladder spans %d–%d parameters", lo, hi)
	}
	if lo, hi := lm.ScaleLadder[0].ParamCount(), lm.ScaleLadder[len(lm.ScaleLadder)-1].ParamCount(); len(lm.ScaleLadder) < 3 || hi < 6*lo {
		t.Fatalf("default ladder spans %d–%d parameters", lo, hi)
	}
	corpus := ablateTestCorpus(t)
	for _, opts := range []string{"fadam,adamw", "fadafactor,adafactor"} {
		t.Run(opts, func(t *testing.T) {
			out := t.TempDir()
			var stdout bytes.Buffer
			args := []string{"--quick", "--optimizers", opts, "--corpus", corpus, "--out", out, "--quiet", "--tokens-per-param", "0.05"}
			if err := runScale(context.Background(), args, &stdout); err != nil {
				t.Fatal(err)
			}
			a, b, _ := strings.Cut(opts, ",")
			s := stdout.String()
			if strings.Count(s, "| "+a+" − "+b) != 3 || strings.Count(s, "| "+a+" ") != 6 { // 3 gap rows and 3 tuned rows
				t.Fatalf("stdout:\n%s", s)
			}
			md, err := os.ReadFile(filepath.Join(out, "scale.md"))
			if err != nil || !strings.Contains(string(md), "0.05 training tokens per parameter") {
				t.Fatalf("scale.md: %v\n%s", err, md)
			}
			for _, f := range []string{"scale.csv", "scale-gap.png", "scale-loss.png"} {
				if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
					t.Errorf("%s missing or empty: %v", f, err)
				}
			}
			stdout.Reset()
			if err := runScale(context.Background(), args, &stdout); err != nil || strings.Count(stdout.String(), "8 reused") != 3 {
				t.Fatalf("rerun: %v\n%s", err, stdout.String())
			}
		})
	}
}

func TestScaleRejects(t *testing.T) {
	for _, args := range [][]string{
		{"--tokens-per-param", "0"},
		{"--optimizers", "sgd"},
		{"--lr", "abc"},
		{"--wd", "-1"},
		{"--wd", "x"},
		{"extra"},
	} {
		if err := runScale(context.Background(), append(args, "--out", t.TempDir()), &bytes.Buffer{}); err == nil {
			t.Errorf("fadam scale %v: no error", args)
		}
	}
}
