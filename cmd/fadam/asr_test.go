package main

import (
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
			return len(s.optimizers) == 2 && s.optimizers[0] == "fadam" && s.optimizers[1] == "adam" && s.seeds == 3 && s.test == 300
		}},
		{[]string{"--quick"}, "", func(s asrSettings) bool { return s.steps == 150 && s.seeds == 1 && s.train == 400 && s.test == 60 }},
		{[]string{"--quick", "--steps", "20"}, "", func(s asrSettings) bool { return s.steps == 20 && s.seeds == 1 }},
		{[]string{"--optimizers", "adam"}, "", func(s asrSettings) bool { return len(s.optimizers) == 1 }},
		{[]string{"--optimizers", "sgd"}, "unknown optimizer", nil},
		{[]string{"--optimizers", ""}, "empty", nil},
		{[]string{"--steps", "0"}, "must be positive", nil},
		{[]string{"--lr", "-1"}, "--lr", nil},
		{[]string{"--utterances", "1"}, "at least 2", nil},
		{[]string{"extra"}, "unexpected", nil},
	}
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

// TestASRCommandTiny runs the whole command on a handful of utterances.
func TestASRCommandTiny(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed (apt-get install espeak-ng); skipping the asr command test")
	}
	out := t.TempDir()
	err := runASR(context.Background(), []string{"--quiet", "--steps", "4", "--seeds", "1", "--utterances", "8", "--batch", "4", "--out", out, "--cache", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"asr.md", "asr.csv", "asr_test_wer.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}
