package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/fadam-go/fadam"
)

func TestTriad(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1000} {
		for _, workers := range []int{1, 3, 64} {
			a, b, c := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range b {
				b[i], c[i] = float32(i), float32(2*i+1)
			}
			triad(a, b, c, 0.5, workers)
			for i := range a {
				if want := float32(i) + 0.5*float32(2*i+1); a[i] != want {
					t.Fatalf("n=%d workers=%d: a[%d] = %v, want %v", n, workers, i, a[i], want)
				}
			}
		}
	}
	tri := newTriadArrays(1 << 12)
	if bw := tri.best(2); !(bw > 0) {
		t.Errorf("triad bandwidth %v, want positive", bw)
	}
	if want := float32(4%7) + 3*float32(4%5); tri.a[4] != want {
		t.Errorf("triad a[4] = %v, want %v", tri.a[4], want)
	}
}

func layoutSize(ts []tensorShape) int {
	n := 0
	for _, t := range ts {
		n += t.size()
	}
	return n
}

func TestBigLayout(t *testing.T) {
	for _, tt := range []struct {
		n     int
		shape string
	}{{16777216, "[4096 4096]"}, {4096, "[64 64]"}, {12, "[3 4]"}, {13, "[1 13]"}} {
		l := bigLayout(tt.n)
		if len(l) != 1 || fmt.Sprint(l[0].shape) != tt.shape {
			t.Errorf("bigLayout(%d) = %v, want one tensor of shape %s", tt.n, l, tt.shape)
		}
	}
}

func TestGPTLayout(t *testing.T) {
	l := gptLayout(30_000_000)
	if len(l) != 100 {
		t.Errorf("gpt layout has %d tensors, want 100", len(l))
	}
	// d = 512: 8·(12·512² + 13·512) + 18·512² + 2·512 = 29,938,688.
	if n := layoutSize(l); n != 29_938_688 {
		t.Errorf("gpt layout holds %d parameters, want 29938688", n)
	}
	if got := fmt.Sprint(l[0].shape, l[4].shape, l[len(l)-1].shape); got != "[8192 512] [512 1536] [512]" {
		t.Errorf("shapes %s", got)
	}
	names := map[string]bool{}
	for _, ts := range l {
		if names[ts.name] {
			t.Errorf("duplicate tensor name %q", ts.name)
		}
		names[ts.name] = true
	}
	// Small budgets give the largest width that fits, and at least width 1.
	if n := layoutSize(gptLayout(0)); n != gptParams(1) {
		t.Errorf("gptLayout(0) holds %d parameters, want gptParams(1) = %d", n, gptParams(1))
	}
	if n := layoutSize(gptLayout(4096)); n != gptParams(5) {
		t.Errorf("gptLayout(4096) holds %d parameters, want gptParams(5) = %d", n, gptParams(5))
	}
}

// sgd is a minimal optimizer for testing the timing loop.
type sgd struct{ steps int }

func (s *sgd) Step(ps []fadam.Param) error {
	s.steps++
	for _, p := range ps {
		for i := range p.Value {
			p.Value[i] -= 0.1 * p.Grad[i]
		}
	}
	return nil
}

func TestTimeSteps(t *testing.T) {
	params := newParams(gptLayout(4096))
	opt := &sgd{}
	res, err := timeSteps(context.Background(), func() (fadam.Stepper, error) { return opt, nil }, params, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if opt.steps != 1+2+3 || res.best <= 0 {
		t.Errorf("took %d steps, best %v", opt.steps, res.best)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := timeSteps(ctx, func() (fadam.Stepper, error) { return &sgd{}, nil }, params, 1, 1); err == nil {
		t.Error("timeSteps ignored a cancelled context")
	}
}

func TestBenchCommand(t *testing.T) {
	for _, args := range [][]string{
		{"--params", "4096", "--steps", "2"},
		{"--layout", "gpt", "--params", "5000", "--steps", "1", "--warmup", "0", "--triad-reps", "1", "--optimizers", "fadam,adafactor", "--state", "float32"},
	} {
		var out bytes.Buffer
		if err := bench(context.Background(), args, &out, io.Discard); err != nil {
			t.Fatalf("bench %v: %v", args, err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		names := []string{"layout", "triad", "fadam", "fadam-bf16", "fadafactor", "fadafactor-bf16", "adam", "adam-bf16", "adafactor", "adafactor-bf16", "roofline"}
		if len(args) > 4 {
			names = []string{"layout", "triad", "fadam", "adafactor", "roofline"}
		}
		if len(lines) != len(names) {
			t.Fatalf("bench %v printed %d lines, want %d:\n%s", args, len(lines), len(names), out.String())
		}
		for i, name := range names {
			f := strings.Fields(lines[i])
			if f[0] != name || i >= 2 && i < len(names)-1 && (!strings.Contains(lines[i], "Mparams/s") || !strings.Contains(lines[i], "roofline=")) {
				t.Errorf("line %d is %q, want the %s line", i, lines[i], name)
			}
		}
	}
	for _, bad := range [][]string{
		{"--optimizers", "sgd"},
		{"--layout", "wide"},
		{"--steps", "0"},
		{"--state", "float16"},
		{"extra"},
	} {
		if err := bench(context.Background(), append([]string{"--params", "64"}, bad...), io.Discard, io.Discard); err == nil {
			t.Errorf("bench %v succeeded", bad)
		}
	}
}
