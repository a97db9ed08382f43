package fadam_test

// Regression tests for checkpoints and input crafted by a hostile user: every case here once
// crashed, allocated without bound, raced, or loaded silently changed state.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
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
			o := newNamed(t, name, cfg)
			ps := []fadam.Param{param("w", 2, 3), param("b", 3)}
			if err := o.SetParamOptions("b", fadam.ParamOptions{LRScale: 1e300}); err != nil {
				t.Fatal(err)
			}
			// Either factor may change after the other: the learning rate of a schedule here.
			o.SetLR(1e300)
			if err := o.SetParamOptions("w", fadam.ParamOptions{LRScale: 1e300}); !errors.Is(err, fadam.ErrInvalidConfig) {
				t.Errorf("SetParamOptions with LR × LRScale overflowing = %v, want ErrInvalidConfig", err)
			}
			values := slices.Clone(ps[0].Value)
			err := o.Step(ps)
			if !errors.Is(err, fadam.ErrInvalidConfig) || !strings.Contains(err.Error(), `"b"`) || !strings.Contains(err.Error(), "LRScale") {
				t.Fatalf("Step = %v, want ErrInvalidConfig naming b's LRScale", err)
			}
			if _, err := o.Fisher("w"); !slices.Equal(values, ps[0].Value) || o.Steps() != 0 || err == nil {
				t.Error("the refused Step changed something")
			}
			// Nor can such a state be saved (Load would refuse it).
			if _, err := o.WriteTo(io.Discard); !errors.Is(err, fadam.ErrInvalidConfig) {
				t.Errorf("WriteTo = %v, want ErrInvalidConfig", err)
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
		{"duplicate options", replace("options", `{`, `{"b":{"NoWeightDecay":false,"LRScale":0,"WeightDecay":0,"HasWeightDecay":false},`), `duplicate key "b"`},
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

// TestSaveRefusesWhatLoadRefuses: SetLR(-1) then Save once overwrote a good checkpoint with
// one Load refuses. Save now fails, names the problem, writes nothing and leaves the old file
// as it was; so does WriteTo.
func TestSaveRefusesWhatLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, name := range optimizers.Names {
		path := filepath.Join(dir, name+".safetensors")
		breakers := []struct {
			what     string
			spoil    func(o optimizers.Optimizer)
			sentinel error
			want     string
		}{
			{"negative LR", func(o optimizers.Optimizer) { o.SetLR(-1) }, fadam.ErrInvalidConfig, "LR = -1"},
			{"NaN LR", func(o optimizers.Optimizer) { o.SetLR(math.NaN()) }, fadam.ErrInvalidConfig, "LR = NaN"},
			{"huge LR × LRScale", func(o optimizers.Optimizer) { o.SetLR(1e300) }, fadam.ErrInvalidConfig, "overflows"},
			{"negative LRScale by rule", func(o optimizers.Optimizer) {
				o.SetParamOptionsFunc(func(string, []int) fadam.ParamOptions { return fadam.ParamOptions{LRScale: -2} })
			}, fadam.ErrInvalidConfig, `parameter "w": invalid hyperparameter: LRScale = -2`},
		}
		for _, b := range breakers {
			t.Run(name+"/"+b.what, func(t *testing.T) {
				o := smallStepped(t, name)
				if err := o.SetParamOptions("b", fadam.ParamOptions{LRScale: 1e10}); err != nil {
					t.Fatal(err)
				}
				if err := o.Save(path); err != nil {
					t.Fatal(err)
				}
				good, _ := os.ReadFile(path)
				b.spoil(o)
				err := o.Save(path)
				if !errors.Is(err, b.sentinel) || !strings.Contains(err.Error(), b.want) {
					t.Errorf("Save = %v, want %v mentioning %q", err, b.sentinel, b.want)
				}
				if now, _ := os.ReadFile(path); !bytes.Equal(now, good) {
					t.Error("the refused Save changed the file")
				}
				if entries, _ := os.ReadDir(dir); len(entries) != slices.Index(optimizers.Names, name)+1 {
					t.Errorf("the refused Save left files behind: %v", entries)
				}
				var buf bytes.Buffer
				if _, err := o.WriteTo(&buf); !errors.Is(err, b.sentinel) || buf.Len() != 0 {
					t.Errorf("WriteTo = %v after writing %d bytes, want %v and nothing written", err, buf.Len(), b.sentinel)
				}
			})
		}
	}
}

// TestNamesMustBeUTF8: a name that is not valid UTF-8 came back from a checkpoint as another
// name (JSON replaces the bad bytes with U+FFFD). Step and SetParamOptions refuse it.
func TestNamesMustBeUTF8(t *testing.T) {
	for _, name := range optimizers.Names {
		o := newNamed(t, name, fadam.Defaults())
		ps := []fadam.Param{param("w", 2, 3), param("b\xff", 3)}
		if err := o.Step(ps); !errors.Is(err, fadam.ErrInvalidParam) || !strings.Contains(err.Error(), "UTF-8") || o.Steps() != 0 {
			t.Errorf("%s: Step with a non-UTF-8 name = %v (steps %d), want ErrInvalidParam", name, err, o.Steps())
		}
		if err := o.SetParamOptions("b\xff", fadam.ParamOptions{LRScale: 2}); !errors.Is(err, fadam.ErrInvalidParam) {
			t.Errorf("%s: SetParamOptions with a non-UTF-8 name = %v, want ErrInvalidParam", name, err)
		}
		// Any valid UTF-8 is fine, and survives a checkpoint.
		ps[1].Name = "ε̂\x00\"<&>\u2028層"
		if err := o.Step(ps); err != nil {
			t.Fatal(err)
		}
		fresh := newNamed(t, name, fadam.Defaults())
		if err := fresh.Unmarshal(checkpointOf(t, o)); err != nil {
			t.Fatal(err)
		}
		if _, err := fresh.Fisher(ps[1].Name); err != nil {
			t.Errorf("%s: the name did not survive the checkpoint: %v", name, err)
		}
	}
}

// TestUnusedFieldsFinite: the baselines ignore ρ, but a NaN there once made every Save fail
// (JSON has no NaN). Every algorithm refuses non-finite values in every field, at New as at
// Load, and a checkpoint keeps a valid value of a field the algorithm ignores.
func TestUnusedFieldsFinite(t *testing.T) {
	for _, name := range optimizers.Names {
		for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			for _, field := range []string{"Rho", "Eps2", "Clip"} {
				cfg := fadam.Defaults()
				reflect.ValueOf(&cfg).Elem().FieldByName(field).SetFloat(bad)
				if _, err := optimizers.New(name, cfg); !errors.Is(err, fadam.ErrInvalidConfig) || !strings.Contains(err.Error(), field) {
					t.Errorf("%s with %s = %v: %v, want ErrInvalidConfig naming %s", name, field, bad, err, field)
				}
			}
		}
		if name == "adam" || name == "adafactor" {
			cfg := fadam.Defaults()
			cfg.Rho = 3 // ignored
			o := newNamed(t, name, cfg)
			if err := o.Step([]fadam.Param{param("w", 2, 3)}); err != nil {
				t.Fatal(err)
			}
			if err := newNamed(t, name, fadam.Defaults()).Unmarshal(checkpointOf(t, o)); err != nil {
				t.Errorf("%s: a checkpoint with an ignored ρ = 3: %v", name, err)
			}
		}
	}
}

// TestSaveLoadProperty applies random sequences of valid operations (steps with gradients of
// any magnitude, learning-rate changes, per-parameter options, option rules, parameters of any
// rank including empty ones, names in any UTF-8) to every optimizer and checks after each
// Save: Load into a fresh optimizer succeeds, and it is then bit-identical to the original (its
// checkpoint is the same bytes, and the next step gives the same values and state). Invalid
// learning rates are mixed in: Save must then fail and leave the last file intact.
func TestSaveLoadProperty(t *testing.T) {
	dir := t.TempDir()
	names := []string{"w", "b", "ε̂.0", "层/gain", "a \"quoted\" <name>", "z\x00"}
	resumed, stepped := 0, 0
	for ai, alg := range optimizers.Names {
		rng := rand.New(rand.NewPCG(uint64(ai), 77))
		path := filepath.Join(dir, alg)
		for trial := range 12 {
			cfg := randomConfig(rng, alg)
			o := newNamed(t, alg, cfg)
			ps := make([]fadam.Param, 1+rng.IntN(4))
			for i := range ps {
				shape := make([]int, rng.IntN(4))
				for d := range shape {
					shape[d] = rng.IntN(5)
				}
				ps[i] = param(names[(trial+i)%len(names)], shape...)
			}
			saved := false
			for op := range 12 {
				switch rng.IntN(6) {
				case 0, 1:
					scale := math.Pow(10, float64(rng.IntN(60)-30))
					for _, p := range ps {
						for j := range p.Grad {
							p.Grad[j] = float32(rng.NormFloat64() * scale)
						}
					}
					if err := o.Step(ps); err != nil {
						t.Fatalf("%s trial %d op %d: Step: %v", alg, trial, op, err)
					}
				case 2:
					o.SetLR(randomConfig(rng, alg).LR)
				case 3:
					p := ps[rng.IntN(len(ps))]
					if err := o.SetParamOptions(p.Name, randomOptions(rng)); err != nil {
						t.Fatal(err)
					}
				case 4:
					if o.Steps() > 0 { // a rule is code: only the options it gave registered parameters are saved
						opts := randomOptions(rng)
						o.SetParamOptionsFunc(func(string, []int) fadam.ParamOptions { return opts })
					}
				case 5: // an invalid learning rate: Save must refuse it and keep the last file
					lr := o.LR()
					o.SetLR([]float64{-1, math.NaN(), math.Inf(1)}[rng.IntN(3)])
					var before []byte
					if saved {
						before, _ = os.ReadFile(path)
					}
					if err := o.Save(path); !errors.Is(err, fadam.ErrInvalidConfig) {
						t.Fatalf("%s trial %d op %d: Save with LR %v = %v", alg, trial, op, o.LR(), err)
					}
					if now, _ := os.ReadFile(path); saved && !bytes.Equal(now, before) {
						t.Fatalf("%s trial %d op %d: a refused Save changed the file", alg, trial, op)
					}
					o.SetLR(lr)
					continue
				}
				if rng.IntN(3) > 0 {
					continue
				}
				if err := o.Save(path); err != nil {
					t.Fatalf("%s trial %d op %d: Save: %v", alg, trial, op, err)
				}
				saved = true
				if checkResume(t, o, alg, path, ps, rng) {
					stepped++
				}
				resumed++
			}
		}
	}
	t.Logf("%d round trips, %d of them also compared after a step", resumed, stepped)
	if resumed < 50 || stepped < 25 {
		t.Errorf("only %d round trips (%d with a step): the random operations no longer exercise resuming", resumed, stepped)
	}
}

// checkResume loads path into a fresh optimizer (built with other hyperparameters) and checks
// it is bit-identical to o, then and after one more step of both (which it reports: not before
// the first step).
func checkResume(t *testing.T, o optimizers.Optimizer, alg, path string, ps []fadam.Param, rng *rand.Rand) bool {
	t.Helper()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fresh := newNamed(t, alg, randomConfig(rng, alg))
	if err := fresh.Load(path); err != nil {
		t.Fatalf("%s: Load of what Save wrote: %v", alg, err)
	}
	if !bytes.Equal(checkpointOf(t, o), file) || !bytes.Equal(checkpointOf(t, fresh), file) {
		t.Fatalf("%s: checkpoints differ after Save and Load", alg)
	}
	if o.Config() != fresh.Config() || o.Steps() != fresh.Steps() {
		t.Fatalf("%s: loaded %+v at step %d, saved %+v at step %d", alg, fresh.Config(), fresh.Steps(), o.Config(), o.Steps())
	}
	if o.Steps() == 0 {
		return false // the parameters are registered by the first step, with options from rules
	}
	a, b := make([]fadam.Param, len(ps)), make([]fadam.Param, len(ps))
	for i, p := range ps {
		a[i] = fadam.Param{Name: p.Name, Shape: p.Shape, Value: slices.Clone(p.Value), Grad: slices.Clone(p.Grad)}
		b[i] = fadam.Param{Name: p.Name, Shape: p.Shape, Value: slices.Clone(p.Value), Grad: slices.Clone(p.Grad)}
	}
	if err := o.Step(a); err != nil {
		t.Fatal(err)
	}
	if err := fresh.Step(b); err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if !slices.EqualFunc(a[i].Value, b[i].Value, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }) {
			t.Fatalf("%s: %q differs after a step of the original and of the loaded copy", alg, a[i].Name)
		}
	}
	if !bytes.Equal(checkpointOf(t, o), checkpointOf(t, fresh)) {
		t.Fatalf("%s: states differ after a step of the original and of the loaded copy", alg)
	}
	return true
}

// randomConfig returns valid hyperparameters for alg, from ordinary to extreme.
func randomConfig(rng *rand.Rand, alg string) fadam.Config {
	pick := func(xs ...float64) float64 { return xs[rng.IntN(len(xs))] }
	cfg := fadam.Config{
		LR:          pick(0, 1e-3, rng.Float64(), 1e-30, 10),
		Beta1:       pick(0, 0.9, rng.Float64()),
		Beta2:       pick(0, 0.999, rng.Float64()),
		Eps:         pick(0, 1e-8, 1e-30, rng.Float64()),
		Eps2:        pick(0, 0.01, rng.Float64()),
		Clip:        pick(1, 1e-3, 1e10, 10*rng.Float64()+1e-9),
		WeightDecay: pick(0, 1e-3, rng.Float64()),
		Rho:         pick(0.5, 0.25, 1, 2*rng.Float64()+1e-9),
		Variant:     fadam.Variant(rng.IntN(2)),
		Maximize:    rng.IntN(2) == 0,
	}
	if alg == "adam" || alg == "adafactor" {
		cfg.Clip = pick(0, cfg.Clip)
		cfg.Rho = pick(cfg.Rho, 3, 0) // ignored
	}
	return cfg
}

func randomOptions(rng *rand.Rand) fadam.ParamOptions {
	return fadam.ParamOptions{NoWeightDecay: rng.IntN(2) == 0, LRScale: []float64{0, 1, rng.Float64() * 10, 1e10, 1e-20}[rng.IntN(5)]}
}

// FuzzCheckpointMetadata fuzzes the metadata of a checkpoint whose checksum is valid, as a
// hostile user would craft it (FuzzLoad's random bytes rarely get past the checksum). Unmarshal
// must never panic; a failure must be ErrCheckpoint and change nothing; a success must give a
// state that saves again to a file that loads to the same state, and that steps to finite
// values.
func FuzzCheckpointMetadata(f *testing.F) {
	for i, name := range optimizers.Names {
		_, meta, err := safetensors.Decode(checkpointOf(f, smallStepped(f, name)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), meta["step"], meta["config"], meta["params"], meta["options"])
	}
	f.Add(uint8(1), "3", `{"LR":1e300,"Beta1":0,"Beta2":0,"Eps":0,"Eps2":0,"Clip":1e-300,"WeightDecay":1e300,"Rho":4,"Variant":1,"Maximize":true}`,
		`[{"name":"w","shape":[2,3]},{"name":"b","shape":[3]},{"name":"e","shape":[1099511627776,0]}]`, `{"b":{"NoWeightDecay":true,"LRScale":1e300}}`)
	f.Fuzz(func(t *testing.T, which uint8, step, config, params, options string) {
		name := optimizers.Names[int(which)%len(optimizers.Names)]
		src := smallStepped(t, name)
		ts, meta, err := safetensors.Decode(checkpointOf(t, src))
		if err != nil {
			t.Fatal(err)
		}
		meta["step"], meta["config"], meta["params"], meta["options"] = step, config, params, options
		var b bytes.Buffer
		if err := safetensors.Encode(&b, ts, meta); err != nil {
			return // metadata that is not valid UTF-8: no file of this format holds it
		}
		before := checkpointOf(t, src)
		if err := src.Unmarshal(b.Bytes()); err != nil {
			if !errors.Is(err, fadam.ErrCheckpoint) {
				t.Fatalf("error %v is not ErrCheckpoint", err)
			}
			if !bytes.Equal(before, checkpointOf(t, src)) {
				t.Fatal("a failed Unmarshal changed the state")
			}
			return
		}
		var again bytes.Buffer
		if _, err := src.WriteTo(&again); err != nil {
			t.Fatalf("a loaded state does not save: %v", err)
		}
		fresh := newNamed(t, name, fadam.Defaults())
		if err := fresh.Unmarshal(again.Bytes()); err != nil {
			t.Fatalf("what a loaded state saves does not load: %v", err)
		}
		if !bytes.Equal(checkpointOf(t, fresh), again.Bytes()) {
			t.Fatal("saving and loading a loaded state changed it")
		}
		ps := []fadam.Param{param("w", 2, 3), param("b", 3)}
		if err := src.Step(ps); err != nil {
			return // another parameter set, or a step count at its limit
		}
		for _, p := range ps {
			for _, v := range p.Value {
				if isBad(v) {
					t.Fatalf("%s: non-finite value after load and step", p.Name)
				}
			}
		}
	})
}
