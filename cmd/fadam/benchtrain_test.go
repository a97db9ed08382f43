package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/fadam-go/fadam/models/gpt"
)

func TestParseTrainSizes(t *testing.T) {
	got, err := parseTrainSizes("64x2x64x16, 8×1×4×2", 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []gpt.Config{{D: 64, Layers: 2, Heads: 4, Ctx: 64, Batch: 16}, {D: 8, Layers: 1, Heads: 4, Ctx: 4, Batch: 2}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("parseTrainSizes = %+v, want %+v", got, want)
	}
	for _, bad := range []string{"64x2x64", "64x2x64xq", "6x2x64x16", "0x2x64x16", ""} {
		if _, err := parseTrainSizes(bad, 4); err == nil {
			t.Errorf("parseTrainSizes(%q) accepted", bad)
		}
	}
}

func TestWantsTrainBench(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"--train"}, true},
		{[]string{"--steps", "3", "-train"}, true},
		{[]string{"--train=true"}, true},
		{[]string{"--layout", "gpt"}, false},
		{nil, false},
	} {
		if got := wantsTrainBench(c.args); got != c.want {
			t.Errorf("wantsTrainBench(%q) = %v, want %v", c.args, got, c.want)
		}
	}
}

// TestBenchTrain runs the benchmark on a tiny model through bench's dispatch and checks that
// every part of the report is there.
func TestBenchTrain(t *testing.T) {
	var out bytes.Buffer
	err := bench(context.Background(), []string{"--train", "--sizes=16x1x8x2", "--heads=2", "--steps=2", "--warmup=0", "--peak-time=10ms"}, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"fadam-go  d=16 layers=1 heads=2 ctx=8 batch=2  tokens/s ", "GFLOP/s", "share of peak",
		"matmul ", "attention ", "GELU ", "LayerNorm ", "softmax/xent ", "optimizer "} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	for _, bad := range [][]string{{"--train", "--sizes=5x1x8x2"}, {"--train", "--steps=0"}, {"--train", "--peak-time=1ms"}, {"--train", "--optimizer=sgd"}, {"--train", "extra"}} {
		if err := bench(context.Background(), bad, io.Discard, io.Discard); err == nil {
			t.Errorf("bench %q accepted", bad)
		}
	}
}
