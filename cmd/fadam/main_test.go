package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/fadam-go/fadam/data/cache"
)

// TestMain points the caches at a temporary directory, so that no test of the commands reads
// or writes the real user cache, even one that forgets --cache.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fadam-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv(cache.EnvVar, dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestUsageErrors checks that every command reports a bad command line once, on standard error,
// with exit status 2, before doing any work.
func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string // in standard error
	}{
		{nil, "usage: fadam <command>"},
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"help", "nope"}, `unknown command "nope"`},
		{[]string{"help", "compare", "asr"}, "usage: fadam help"},
		{[]string{"compare", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"compare", "--seeds", "0"}, "must be positive"},
		{[]string{"compare", "extra"}, `unexpected argument "extra"`},
		{[]string{"compare", "--optimizers", "sgd"}, `unknown optimizer "sgd"`},
		{[]string{"compare", "--d", "0"}, "d=0"},
		{[]string{"asr", "--steps", "0"}, "must be positive"},
		{[]string{"asr", "--lr", "x"}, `invalid value "x" for flag -lr`},
		{[]string{"vqvae", "--loss", "l1"}, `unknown loss "l1"`},
		{[]string{"vqvae", "--lr", "NaN"}, `invalid value "NaN" for flag -lr`},
		{[]string{"vqvae", "--lr", "-1"}, `invalid value "-1" for flag -lr`},
		{[]string{"asr", "--lr", "1e-3,1e-3"}, "listed twice"},
		{[]string{"bench", "--layout", "x"}, `unknown --layout "x"`},
		{[]string{"bench", "--steps", "0"}, "at least 1"},
		{[]string{"ablate"}, "name a sweep"},
		{[]string{"ablate", "foo"}, `unknown sweep "foo"`},
		{[]string{"ablate", "rho", "--seeds", "0"}, "must be positive"},
		{[]string{"ablate", "rho", "--values", ","}, "--values is empty"},
		{[]string{"scale", "--tokens-per-param", "-1"}, "--tokens-per-param must be positive"},
		{[]string{"scale", "--optimizers", "sgd"}, `unknown optimizer "sgd"`},
		{[]string{"scale", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"compare", "--lr", "x"}, `"x" is not a finite number`},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(c.args, &stdout, &stderr)
		if code != 2 {
			t.Errorf("fadam %s: exit status %d, want 2 (stderr %q)", strings.Join(c.args, " "), code, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("fadam %s: wrote %q to standard output", strings.Join(c.args, " "), stdout.String())
		}
		if n := strings.Count(stderr.String(), c.want); n != 1 {
			t.Errorf("fadam %s: stderr holds %q %d times, want once:\n%s", strings.Join(c.args, " "), c.want, n, stderr.String())
		}
	}
}

// TestHelp checks `fadam help` and `fadam help CMD` for every command: the usage goes to
// standard output, with status 0.
func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("fadam help: status %d", code)
	}
	for name := range commands {
		if !strings.Contains(stdout.String(), "  "+name+" ") {
			t.Errorf("fadam help does not list %s", name)
		}
	}
	for name, c := range commands {
		stdout.Reset()
		stderr.Reset()
		if code := run([]string{"help", name}, &stdout, &stderr); code != 0 || stderr.Len() != 0 {
			t.Errorf("fadam help %s: status %d, stderr %q", name, code, stderr.String())
		}
		out := stdout.String()
		if !strings.Contains(out, "usage: fadam "+name) || !strings.Contains(out, c.summary) && (c.about == "" || !strings.Contains(out, c.about)) {
			t.Errorf("fadam help %s printed:\n%s", name, out)
		}
		if name != "ablate" && !strings.Contains(out, "-out") && name != "bench" {
			t.Errorf("fadam help %s lists no flags:\n%s", name, out)
		}
	}
}
