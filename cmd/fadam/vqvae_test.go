package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vqvaeTestIDX writes an uncompressed IDX file of unsigned bytes.
func vqvaeTestIDX(t *testing.T, path string, dims []uint32, data []byte) {
	t.Helper()
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(0x800+len(dims)))
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(data)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// vqvaeTestData writes a tiny MNIST look-alike to dir: class c is a bright bar at rows
// 2c+2…2c+3, easy enough for the classifier to pass its accuracy bar in a few steps.
func vqvaeTestData(t *testing.T, dir string) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, split := range []struct {
		name string
		n    int
	}{{"train", 300}, {"t10k", 60}} {
		images, labels := make([]byte, split.n*784), make([]byte, split.n)
		for i := range split.n {
			c := i % 10
			labels[i] = byte(c)
			for p := range 784 {
				v := byte(rng.IntN(30))
				if y := p / 28; y >= 2+2*c && y < 4+2*c {
					v = 220
				}
				images[i*784+p] = v
			}
		}
		vqvaeTestIDX(t, filepath.Join(dir, split.name+"-images-idx3-ubyte"), []uint32{uint32(split.n), 28, 28}, images)
		vqvaeTestIDX(t, filepath.Join(dir, split.name+"-labels-idx1-ubyte"), []uint32{uint32(split.n)}, labels)
	}
}

func TestVQVAECommandEndToEnd(t *testing.T) {
	data, out, cacheDir := t.TempDir(), t.TempDir(), t.TempDir()
	vqvaeTestData(t, data)
	args := []string{"--data", data, "--out", out, "--cache", cacheDir, "--steps", "2", "--seeds", "2", "--batch", "4",
		"--warmup", "1", "--curve-images", "8", "--eval-every", "1", "--cls-steps", "150", "--validation", "50", "--samples", "4",
		"--lr", "2e-3,1e6", "--quiet"}
	var stdout bytes.Buffer
	if err := runVQVAE(context.Background(), args, &stdout); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"vqvae.md", "vqvae.csv", "vqvae-samples.png", "vqvae-l2-lr.png", "vqvae-ce-lr.svg",
		"vqvae-l2-curve.png", "vqvae-ce-diff.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
	if cached, _ := filepath.Glob(filepath.Join(cacheDir, "mnistcls", "mnistcls-*.safetensors")); len(cached) != 1 {
		t.Errorf("classifier cache holds %v, want one file", cached)
	}
	f, err := os.Open(filepath.Join(out, "vqvae.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// 2 losses × 2 optimizers × 2 seeds at 2e-3: 3 curve points each; the 8 runs at 1e6 diverge.
	ok, diverged := 0, 0
	for _, r := range rows[1:] {
		switch {
		case r[8] == "ok":
			ok++
		case strings.HasPrefix(r[8], "diverged at step"):
			diverged++
		}
	}
	if rows[0][0] != "loss" || ok != 8*3 || diverged < 8 {
		t.Fatalf("CSV: %d ok rows, %d diverged rows; header %v", ok, diverged, rows[0])
	}
	md, _ := os.ReadFile(filepath.Join(out, "vqvae.md"))
	for _, want := range []string{"## Verdict", "CE vs L2, FAdam", "all 60 test images", "all 50 validation images", "--steps 2", "diverged (2/2 seeds"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("vqvae.md lacks %q", want)
		}
	}
	if !strings.Contains(stdout.String(), "| fid") && !strings.Contains(stdout.String(), "test fid") {
		t.Errorf("standard output has no result table:\n%s", stdout.String())
	}
	// The same command again reuses every run, loads the cached classifier, and still draws
	// the reconstructions of the reused runs.
	os.Remove(filepath.Join(out, "vqvae-samples.png"))
	stdout.Reset()
	if err := runVQVAE(context.Background(), args, &stdout); err != nil {
		t.Fatal(err)
	}
	if strings.Count(stdout.String(), "8 reused") != 2 {
		t.Errorf("second run did not reuse the 8 runs of each loss:\n%s", stdout.String())
	}
	md, _ = os.ReadFile(filepath.Join(out, "vqvae.md"))
	if !strings.Contains(string(md), "loaded from the cache") {
		t.Error("classifier was not loaded from the cache")
	}
	if _, err := os.Stat(filepath.Join(out, "vqvae-samples.png")); err != nil {
		t.Errorf("no reconstructions for reused runs: %v", err)
	}
}

func TestVQVAECommandErrors(t *testing.T) {
	usageOut = &bytes.Buffer{}
	defer func() { usageOut = os.Stderr }()
	for _, args := range [][]string{
		{"--loss", "l1"},
		{"--optimizers", "sgd"},
		{"--steps", "0"},
		{"--lr", "NaN"},
		{"--lr", "0"},
		{"--data", t.TempDir()},
		{"extra"},
	} {
		if err := runVQVAE(context.Background(), append(args, "--out", t.TempDir(), "--quiet"), io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
