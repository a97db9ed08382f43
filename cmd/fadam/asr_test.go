package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseASRFlags(t *testing.T) {
	cases := []struct {
		args    []string
		wantErr string
		check   func(asrSettings) bool
	}{
		{nil, "", func(s asrSettings) bool {
			return len(s.optimizers) == 2 && s.optimizers[0] == "fadam" && s.optimizers[1] == "adamw" && s.seeds == 3 && s.held == 300 && len(s.lrs) == 1 && s.lrs[0] == 3e-3
		}},
		{[]string{"--quick"}, "", func(s asrSettings) bool { return s.steps == 150 && s.seeds == 1 && s.train == 400 && s.held == 60 }},
		{[]string{"--quick", "--steps", "20"}, "", func(s asrSettings) bool { return s.steps == 20 && s.seeds == 1 }},
		{[]string{"--optimizers", "adam"}, "", func(s asrSettings) bool { return len(s.optimizers) == 1 }},
		{[]string{"--lr", "1e-3,3e-3,1e-2"}, "", func(s asrSettings) bool { return len(s.lrs) == 3 && s.lrs[2] == 1e-2 }},
		{[]string{"--optimizers", "sgd"}, "unknown optimizer", nil},
		{[]string{"--optimizers", ""}, "empty", nil},
		{[]string{"--steps", "0"}, "must be positive", nil},
		{[]string{"--lr", "-1"}, "positive", nil},
		{[]string{"--lr", "NaN"}, "not a finite number", nil},
		{[]string{"--utterances", "1"}, "at least 2", nil},
		{[]string{"extra"}, "unexpected", nil},
	}
	usageOut = &bytes.Buffer{}
	defer func() { usageOut = os.Stderr }()
	for _, c := range cases {
		s, err := parseASRFlags(c.args)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%q: error %v, want %q", c.args, err, c.wantErr)
			}
			continue
		}
		if err != nil || !c.check(s) {
			t.Errorf("%q: %+v, %v", c.args, s, err)
		}
	}
}

// TestASRCommandTiny runs the whole command on a handful of utterances with two learning rates,
// one diverging, then again to check that the second run reuses every finished run.
func TestASRCommandTiny(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed (apt-get install espeak-ng); skipping the asr command test")
	}
	out, cacheDir := t.TempDir(), t.TempDir()
	args := []string{"--quiet", "--steps", "4", "--seeds", "1", "--utterances", "8", "--batch", "4", "--lr", "3e-3,1e4",
		"--out", out, "--cache", cacheDir}
	var stdout bytes.Buffer
	if err := runASR(context.Background(), args, &stdout); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"asr.md", "asr.csv", "asr-wer-lr.png", "asr-curve.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(cacheDir, "asr-digits", "manifest.json")); err != nil {
		t.Errorf("corpus not cached under --cache: %v", err)
	}
	for _, want := range []string{"| test wer \\ peak LR", "diverged (1/1 seeds", "0 reused", "wrote "} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("standard output lacks %q:\n%s", want, stdout.String())
		}
	}
	stdout.Reset()
	if err := runASR(context.Background(), args, &stdout); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "4 reused") {
		t.Errorf("second run did not reuse the 4 finished runs:\n%s", stdout.String())
	}
}
