package fadam_test

// Regression tests for checkpoints and input crafted by a hostile user: every case here once
// crashed, allocated without bound, raced, or loaded silently changed state.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/internal/safetensors"
	"github.com/fadam-go/fadam/optimizers"
)

func newNamed(t testing.TB, name string, cfg fadam.Config) optimizers.Optimizer {
	t.Helper()
	o, err := optimizers.New(name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func checkpointOf(t testing.TB, o optimizers.Optimizer) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := o.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// recraft decodes a checkpoint, lets edit change its metadata and tensors, and encodes it again
// with valid checksums: a file a hostile user can produce.
func recraft(t testing.TB, data []byte, edit func(meta map[string]string, ts []safetensors.Tensor) []safetensors.Tensor) []byte {
	t.Helper()
	ts, meta, err := safetensors.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	ts = edit(meta, ts)
	var b bytes.Buffer
	if err := safetensors.Encode(&b, ts, meta); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// param returns a parameter of the given shape with small deterministic values and gradients.
func param(name string, shape ...int) fadam.Param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	p := fadam.Param{Name: name, Shape: shape, Value: make([]float32, n), Grad: make([]float32, n)}
	for i := range n {
		p.Value[i] = float32(i%7)/7 - 0.4
		p.Grad[i] = float32(i%5)/5 - 0.3
	}
	return p
}

// TestHugeEmptyShapes: a tensor without elements but with huge dimensions must not allocate
// from its dimensions, neither in Step nor when a checkpoint names it (a 422-byte file once
// made Load of the factored optimizers die of out-of-memory, Step panicked in makeslice).
func TestHugeEmptyShapes(t *testing.T) {
	const limit = 1 << 20
	for _, name := range optimizers.Names {
		t.Run(name, func(t *testing.T) {
			for _, shape := range [][]int{{1 << 50, 0}, {1 << 40, 0, 1 << 40}, {0, 1 << 50}, {3, 1 << 40, 0}} {
				o := newNamed(t, name, fadam.Defaults())
				ps := []fadam.Param{param("w", 2, 3), {Name: "empty", Shape: shape}}
				var err error
				if n := allocated(func() { err = o.Step(ps) }); n > limit {
					t.Errorf("Step with shape %v allocated %d bytes", shape, n)
				}
				if err != nil {
					t.Fatalf("Step with shape %v: %v", shape, err)
				}
				if f, err := o.Fisher("empty"); err != nil || len(f) != 0 {
					t.Errorf("Fisher of the empty tensor = %v, %v", f, err)
				}
			}

			// The same through a checkpoint: save one with an empty [1, 0] tensor and rewrite
			// its dimensions to [2^40, 0].
			o := newNamed(t, name, fadam.Defaults())
			if err := o.Step([]fadam.Param{param("w", 2, 3), {Name: "p", Shape: []int{1, 0}}}); err != nil {
				t.Fatal(err)
			}
			huge := recraft(t, checkpointOf(t, o), func(meta map[string]string, ts []safetensors.Tensor) []safetensors.Tensor {
				meta["params"] = strings.Replace(meta["params"], "[1,0]", "[1099511627776,0]", 1)
				for i := range ts {
					if slices.Equal(ts[i].Shape, []int{1, 0}) {
						ts[i].Shape = []int{1 << 40, 0}
					}
				}
				return ts
			})
			fresh := newNamed(t, name, fadam.Defaults())
			var err error
			if n := allocated(func() { err = fresh.Unmarshal(huge) }); n > limit+8*uint64(len(huge)) {
				t.Errorf("Unmarshal of a %d-byte checkpoint allocated %d bytes", len(huge), n)
			}
			if err != nil {
				t.Fatalf("a checkpoint with an empty [2^40, 0] tensor: %v", err)
			}
			if err := fresh.Step([]fadam.Param{param("w", 2, 3), {Name: "p", Shape: []int{1 << 40, 0}}}); err != nil {
				t.Errorf("Step after loading it: %v", err)
			}
		})
	}
}

// smallStepped returns the named optimizer after one step on two small parameters, one of
// them with options.
func smallStepped(t testing.TB, name string) optimizers.Optimizer {
	t.Helper()
	o := newNamed(t, name, fadam.Defaults())
	if err := o.SetParamOptions("b", fadam.ParamOptions{NoWeightDecay: true, LRScale: 0.5}); err != nil {
		t.Fatal(err)
	}
	if err := o.Step([]fadam.Param{param("w", 2, 3), param("b", 3)}); err != nil {
		t.Fatal(err)
	}
	return o
}

// expectCheckpointError asserts that loading data fails with ErrCheckpoint, mentions want, and
// leaves o's state as it was.
func expectCheckpointError(t *testing.T, o optimizers.Optimizer, data []byte, want string) {
	t.Helper()
	before := checkpointOf(t, o)
	err := o.Unmarshal(data)
	if !errors.Is(err, fadam.ErrCheckpoint) {
		t.Fatalf("Unmarshal = %v, want ErrCheckpoint", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not mention %q", err, want)
	}
	if !bytes.Equal(before, checkpointOf(t, o)) {
		t.Error("a failed Unmarshal changed the state")
	}
}

// TestStepCountBounded: a checkpoint claiming 2^63−1 steps once loaded, and the next Step
// wrapped the counter negative (Adam then wrote NaN). Counts beyond 2^53 are refused; at 2^53
// Step refuses to go further and changes nothing; just below, it steps to finite values.
func TestStepCountBounded(t *testing.T) {
	for _, name := range optimizers.Names {
		t.Run(name, func(t *testing.T) {
			o := newNamed(t, name, fadam.Defaults())
			ps := []fadam.Param{param("w", 2, 3), param("b", 3)}
			if err := o.Step(ps); err != nil {
				t.Fatal(err)
			}
			good := checkpointOf(t, o)
			withStep := func(step string) []byte {
				return recraft(t, good, func(meta map[string]string, ts []safetensors.Tensor) []safetensors.Tensor {
					meta["step"] = step
					return ts
				})
			}
			for _, bad := range []string{"9223372036854775807", "9007199254740993", "-1", "+1", "01", "1e3", ""} {
				t.Run(bad, func(t *testing.T) { expectCheckpointError(t, o, withStep(bad), "step") })
			}

			if err := o.Unmarshal(withStep("9007199254740991")); err != nil { // 2^53 − 1
				t.Fatal(err)
			}
			if err := o.Step(ps); err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				for _, v := range p.Value {
					if isBad(v) {
						t.Fatalf("non-finite value after step 2^53")
					}
				}
			}
			if o.Steps() != 1<<53 {
				t.Fatalf("Steps = %d, want 2^53", o.Steps())
			}
			before := checkpointOf(t, o)
			values := slices.Clone(ps[0].Value)
			err := o.Step(ps)
			if !errors.Is(err, fadam.ErrInvalidConfig) || !strings.Contains(err.Error(), "maximum") {
				t.Errorf("Step beyond 2^53 = %v, want ErrInvalidConfig naming the maximum", err)
			}
			if !bytes.Equal(before, checkpointOf(t, o)) || !slices.Equal(values, ps[0].Value) {
				t.Error("the refused Step changed something")
			}
		})
	}
}

// TestEffectiveLROverflow: LR = 1e300 and LRScale = 1e300 are each valid, but their product
// overflows; Step once turned the values into NaN without an error.
func TestEffectiveLROverflow(t *testing.T) {
	for _, name := range optimizers.Names {
		t.Run(name, func(t *testing.T) {
			cfg := fadam.Defaults()
			cfg.LR = 1e300
			o := newNamed(t, name, cfg)
			ps := []fadam.Param{param("w", 2, 3), param("b", 3)}
			if err := o.SetParamOptions("b", fadam.ParamOptions{LRScale: 1e300}); err != nil {
				t.Fatal(err)
			}
			before := checkpointOf(t, o)
			values := slices.Clone(ps[0].Value)
			err := o.Step(ps)
			if !errors.Is(err, fadam.ErrInvalidConfig) || !strings.Contains(err.Error(), `"b"`) || !strings.Contains(err.Error(), "LRScale") {
				t.Fatalf("Step = %v, want ErrInvalidConfig naming b's LRScale", err)
			}
			if !bytes.Equal(before, checkpointOf(t, o)) || !slices.Equal(values, ps[0].Value) || o.Steps() != 0 {
				t.Error("the refused Step changed something")
			}
			// A product that stays finite is fine, however large.
			if err := o.SetParamOptions("b", fadam.ParamOptions{LRScale: 1e8}); err != nil {
				t.Fatal(err)
			}
			if err := o.Step(ps); err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				for _, v := range p.Value {
					if isBad(v) {
						t.Fatalf("%s: non-finite value", p.Name)
					}
				}
			}
		})
	}
}

// TestOverlappingBuffers: a Grad overlapping its own Value without starting at the same element
// was accepted (and raced); so were buffers shared between parameters. Every overlap with a
// Value is refused and changes nothing; Grads may share memory (they are only read).
func TestOverlappingBuffers(t *testing.T) {
	buf := make([]float32, 64)
	for i := range buf {
		buf[i] = float32(i%9) / 9
	}
	cases := []struct {
		name string
		ps   []fadam.Param
		want string // "" for accepted
	}{
		{"grad inside own value", []fadam.Param{{Name: "w", Shape: []int{6}, Value: buf[0:6], Grad: buf[1:7]}}, `the Grad of parameter "w" overlaps the Value of parameter "w"`},
		{"value inside own grad", []fadam.Param{{Name: "w", Shape: []int{6}, Value: buf[5:11], Grad: buf[0:6]}}, `overlaps the Grad of parameter "w"`},
		{"same start", []fadam.Param{{Name: "w", Shape: []int{6}, Value: buf[0:6], Grad: buf[0:6]}}, `parameter "w" overlaps`},
		{"values of two parameters", []fadam.Param{
			{Name: "a", Shape: []int{4}, Value: buf[0:4], Grad: buf[20:24]},
			{Name: "b", Shape: []int{4}, Value: buf[3:7], Grad: buf[30:34]}}, `the Value of parameter "b" overlaps the Value of parameter "a"`},
		{"value over another's grad", []fadam.Param{
			{Name: "a", Shape: []int{4}, Value: buf[0:4], Grad: buf[20:24]},
			{Name: "b", Shape: []int{4}, Value: buf[23:27], Grad: buf[30:34]}}, `overlaps the Grad of parameter "a"`},
		{"far apart in a long list", []fadam.Param{
			{Name: "a", Shape: []int{24}, Value: buf[0:24], Grad: buf[40:64]},
			{Name: "b", Shape: []int{2}, Value: buf[24:26], Grad: buf[26:28]},
			{Name: "c", Shape: []int{2}, Value: buf[28:30], Grad: buf[30:32]},
			{Name: "d", Shape: []int{2}, Value: buf[20:22], Grad: buf[32:34]}}, `the Value of parameter "d" overlaps the Value of parameter "a"`},
		{"shared grads", []fadam.Param{
			{Name: "a", Shape: []int{4}, Value: buf[0:4], Grad: buf[20:24]},
			{Name: "b", Shape: []int{4}, Value: buf[4:8], Grad: buf[20:24]}}, ""},
		{"adjacent", []fadam.Param{
			{Name: "a", Shape: []int{4}, Value: buf[0:4], Grad: buf[4:8]},
			{Name: "b", Shape: []int{4}, Value: buf[8:12], Grad: buf[12:16]}}, ""},
	}
	for _, tc := range cases {
		for _, name := range optimizers.Names {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				o := newNamed(t, name, fadam.Defaults())
				before := slices.Clone(buf)
				err := o.Step(tc.ps)
				if tc.want == "" {
					if err != nil {
						t.Fatal(err)
					}
					copy(buf, before)
					return
				}
				if !errors.Is(err, fadam.ErrInvalidParam) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Step = %v, want ErrInvalidParam with %q", err, tc.want)
				}
				if !slices.Equal(before, buf) || o.Steps() != 0 {
					t.Error("the refused Step changed something")
				}
			})
		}
	}
}

// TestLoadNonRegularFile: Load of /dev/zero once read until memory ran out; a directory is
// refused as well. Both fail with ErrCheckpoint, naming the path, and change nothing.
func TestLoadNonRegularFile(t *testing.T) {
	paths := []string{t.TempDir()}
	if _, err := os.Stat("/dev/zero"); err == nil {
		paths = append(paths, "/dev/zero")
	}
	for _, name := range optimizers.Names {
		o := newNamed(t, name, fadam.Defaults())
		if err := o.Step([]fadam.Param{param("w", 2, 3)}); err != nil {
			t.Fatal(err)
		}
		before := checkpointOf(t, o)
		for _, path := range paths {
			err := o.Load(path)
			if !errors.Is(err, fadam.ErrCheckpoint) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s: Load(%s) = %v, want ErrCheckpoint naming the path and saying it is not a regular file", name, path, err)
			}
		}
		if !bytes.Equal(before, checkpointOf(t, o)) {
			t.Errorf("%s: a failed Load changed the state", name)
		}
	}
}

// TestSaveRemovesStaleTemporaries: a killed Save left its temporary (up to the checkpoint's
// size) behind forever; the next Save of the same path removes it.
func TestSaveRemovesStaleTemporaries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	stale := filepath.Join(dir, ".ckpt.safetensors.tmp-1234567")
	if err := os.WriteFile(stale, make([]byte, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	o := newNamed(t, "fadam", fadam.Defaults())
	if err := o.Step([]fadam.Param{param("w", 2, 3)}); err != nil {
		t.Fatal(err)
	}
	if err := o.Save(path); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "ckpt.safetensors" {
		t.Errorf("directory after Save: %v, want only the checkpoint", entries)
	}
}

// TestHeaderBitFlips flips, one at a time, every bit of a small checkpoint's header length and
// header. The header was not checksummed once, and 4.3% of these flips loaded silently with a
// changed state ("LR" → "MR" set the learning rate to 0). Each must now fail with ErrCheckpoint
// and leave the optimizer as it was, or load to exactly the saved state; with the whole file
// checksummed, every one fails.
func TestHeaderBitFlips(t *testing.T) {
	for _, name := range optimizers.Names {
		t.Run(name, func(t *testing.T) {
			src := smallStepped(t, name)
			good := checkpointOf(t, src)
			headerEnd := 8 + int(binary.LittleEndian.Uint64(good))
			dst := newNamed(t, name, fadam.Defaults())
			if err := dst.Unmarshal(good); err != nil {
				t.Fatal(err)
			}
			failed, identical := 0, 0
			for bit := range 8 * headerEnd {
				b := bytes.Clone(good)
				b[bit/8] ^= 1 << (bit % 8)
				err := dst.Unmarshal(b)
				switch {
				case errors.Is(err, fadam.ErrCheckpoint):
					failed++
				case err != nil:
					t.Fatalf("bit %d of byte %d: error %v is not ErrCheckpoint", bit%8, bit/8, err)
				default:
					identical++
				}
				if !bytes.Equal(checkpointOf(t, dst), good) {
					t.Fatalf("bit %d of byte %d (%q in %.40q…): the state changed (err = %v)", bit%8, bit/8, good[bit/8], good[max(8, bit/8-20):], err)
				}
			}
			t.Logf("%d header bits: %d flips refused, %d loaded the identical state", 8*headerEnd, failed, identical)
			if identical != 0 {
				t.Errorf("%d flips went unnoticed although the checksum covers the header", identical)
			}
		})
	}
}

// TestStrictMetadata: checkpoints crafted with valid checksums but metadata that Save never
// writes. encoding/json would take the last of duplicate keys, match keys case-insensitively,
// and leave absent, null or unknown fields at zero; every one of these is refused.
func TestStrictMetadata(t *testing.T) {
	replace := func(key, old, new string) func(map[string]string) {
		return func(meta map[string]string) {
			if !strings.Contains(meta[key], old) {
				t.Fatalf("%s %q has no %q", key, meta[key], old)
			}
			meta[key] = strings.Replace(meta[key], old, new, 1)
		}
	}
	cases := []struct {
		name string
		edit func(map[string]string)
		want string
	}{
		{"renamed config field", replace("config", `"LR"`, `"MR"`), `unknown field "MR"`},
		{"case-folded config field", replace("config", `"LR"`, `"lr"`), `unknown field "lr"`},
		{"missing config field", replace("config", `,"Rho":0.5`, ``), `missing field "Rho"`},
		{"duplicate config field", replace("config", `{`, `{"LR":0,`), `duplicate field "LR"`},
		{"null config field", replace("config", `"LR":0.001`, `"LR":null`), `LR is null`},
		{"config field of another type", replace("config", `"Variant":0`, `"Variant":0.5`), `Variant is 0.5`},
		{"duplicate parameter field", replace("params", `{"name":"w"`, `{"name":"b","name":"w"`), `[0]: duplicate field "name"`},
		{"missing parameter shape", replace("params", `,"shape":[3]`, ``), `[1]: missing field "shape"`},
		{"duplicate options", replace("options", `{`, `{"b":{"NoWeightDecay":false,"LRScale":0},`), `duplicate key "b"`},
		{"missing option field", replace("options", `"NoWeightDecay":true,`, ``), `["b"]: missing field "NoWeightDecay"`},
		{"unknown metadata key", func(meta map[string]string) { meta["comment"] = "hi" }, `unknown metadata key "comment"`},
		{"missing metadata key", func(meta map[string]string) { delete(meta, "options") }, `missing metadata key "options"`},
		{"format version 1", func(meta map[string]string) { meta["format_version"] = "1" }, "version 1 is no longer read"},
		{"other format version", func(meta map[string]string) { meta["format_version"] = "3" }, `format version "3"`},
	}
	for _, name := range optimizers.Names {
		src := smallStepped(t, name)
		good := checkpointOf(t, src)
		for _, tc := range cases {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				bad := recraft(t, good, func(meta map[string]string, ts []safetensors.Tensor) []safetensors.Tensor {
					tc.edit(meta)
					return ts
				})
				expectCheckpointError(t, src, bad, tc.want)
			})
		}
	}
}
