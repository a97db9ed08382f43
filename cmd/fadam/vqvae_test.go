package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
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
	args := []string{"--data", data, "--out", out, "--cache", cacheDir, "--steps", "2", "--seeds", "1", "--batch", "4",
		"--warmup", "1", "--curve-images", "8", "--eval-every", "1", "--cls-steps", "150", "--quiet"}
	if err := runVQVAE(context.Background(), args); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"vqvae.md", "vqvae.csv", "vqvae-samples.png", "vqvae-test-mse.svg", "vqvae-test-mse.png",
		"vqvae-train-l2.png", "vqvae-train-ce.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing output: %v", err)
		}
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
	if len(rows) != 5 {
		t.Fatalf("CSV has %d rows, want a header and 4 runs", len(rows))
	}
	for _, r := range rows[1:] {
		if r[4] != "ok" || r[3] != "2" {
			t.Errorf("run %v", r)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "vqvae.md"))
	for _, want := range []string{"FID (lower is better)", "| CE (256-way)", "AdamW", "FAdam", "--steps 2"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("vqvae.md lacks %q", want)
		}
	}
	if cached, _ := filepath.Glob(filepath.Join(cacheDir, "mnistcls", "mnistcls-*.safetensors")); len(cached) != 1 {
		t.Errorf("classifier cache holds %v, want one file", cached)
	}
	if !strings.Contains(string(md), "covers 60 MNIST test images") {
		t.Error("vqvae.md does not say how many test images it covers")
	}
	// A second run loads the cached classifier.
	if err := runVQVAE(context.Background(), append(args, "--loss", "l2", "--optimizers", "fadam")); err != nil {
		t.Fatal(err)
	}
	md, _ = os.ReadFile(filepath.Join(out, "vqvae.md"))
	if !strings.Contains(string(md), "loaded from the cache") {
		t.Error("classifier was not loaded from the cache")
	}
}

func TestVQVAECommandErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--loss", "l1"},
		{"--optimizers", "sgd"},
		{"--steps", "0"},
		{"--data", t.TempDir()},
		{"extra"},
	} {
		if err := runVQVAE(context.Background(), append(args, "--out", t.TempDir(), "--quiet")); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
