package safetensors

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func sampleTensors() []Tensor {
	return []Tensor{
		{Name: "layer.0.w", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, float32(math.Copysign(0, -1)), 1e-30}},
		{Name: "bias", Shape: []int{3}, Data: []float32{float32(math.NaN()), float32(math.Inf(1)), -7}},
		{Name: "step", Shape: []int{}, Data: []float32{42}},
		{Name: "empty", Shape: []int{0, 4}, Data: []float32{}},
		{Name: "cube", Shape: []int{2, 1, 2}, Data: []float32{1, 2, 3, 4}},
	}
}

func encode(t testing.TB, ts []Tensor, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, ts, meta); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.Bytes()
}

// sameTensors compares names, shapes and the exact bits of the data.
func sameTensors(t testing.TB, got, want []Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d tensors, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || fmt.Sprint(g.Shape) != fmt.Sprint(w.Shape) || len(g.Data) != len(w.Data) {
			t.Fatalf("tensor %d: got %q %v (%d values), want %q %v (%d values)", i, g.Name, g.Shape, len(g.Data), w.Name, w.Shape, len(w.Data))
		}
		for j := range w.Data {
			if math.Float32bits(g.Data[j]) != math.Float32bits(w.Data[j]) {
				t.Fatalf("tensor %q element %d: got %v, want %v", w.Name, j, g.Data[j], w.Data[j])
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	want := sampleTensors()
	meta := map[string]string{"format_version": "1", "optimizer": "fadam", "unicode": "ε̂ ≤ ε"}
	data := encode(t, want, meta)

	hlen := binary.LittleEndian.Uint64(data)
	if (8+hlen)%8 != 0 {
		t.Errorf("data section starts at %d, not 8-byte aligned", 8+hlen)
	}
	got, gotMeta, err := Decode(data)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	sameTensors(t, got, want)
	if fmt.Sprint(gotMeta) != fmt.Sprint(meta) {
		t.Errorf("metadata: got %v, want %v", gotMeta, meta)
	}
	// Deterministic: the same input encodes to the same bytes.
	if again := encode(t, want, meta); !bytes.Equal(again, data) {
		t.Error("two encodings of the same tensors differ")
	}
	// No metadata at all still round-trips, to an empty map.
	_, m, err := Decode(encode(t, want[:1], nil))
	if err != nil || m == nil || len(m) != 0 {
		t.Errorf("nil metadata: got %v, %v; want an empty map", m, err)
	}
}

// TestGolden builds a two-tensor file by hand, byte by byte, and checks Encode produces exactly
// it and Decode reads it back.
func TestGolden(t *testing.T) {
	data := []byte{
		0x00, 0x00, 0x80, 0x3f, // 1.0
		0x00, 0x00, 0x00, 0xc0, // -2.0
		0x00, 0x00, 0x00, 0x3f, // 0.5
	}
	header := `{"__metadata__":{"file_crc32c":"00000000","k":"v"},` +
		`"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},` +
		`"s":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}`
	for len(header)%8 != 0 {
		header += " "
	}
	var want []byte
	want = binary.LittleEndian.AppendUint64(want, uint64(len(header)))
	want = append(want, header...)
	want = append(want, data...)
	// The checksum covers the whole file with its own digits as zeros.
	crc := fmt.Sprintf("%08x", crc32.Checksum(want, crc32.MakeTable(crc32.Castagnoli)))
	want = bytes.Replace(want, []byte("00000000"), []byte(crc), 1)

	ts := []Tensor{
		{Name: "a", Shape: []int{2}, Data: []float32{1, -2}},
		{Name: "s", Shape: nil, Data: []float32{0.5}},
	}
	got := encode(t, ts, map[string]string{"k": "v"})
	if !bytes.Equal(got, want) {
		t.Fatalf("Encode:\n got %q\nwant %q", got, want)
	}
	dec, meta, err := Decode(want)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	ts[1].Shape = []int{}
	sameTensors(t, dec, ts)
	if len(meta) != 1 || meta["k"] != "v" {
		t.Errorf("metadata: got %v", meta)
	}
}

// rawFile assembles a file from a header string and a data section, without padding or CRC.
func rawFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func TestDecodeErrors(t *testing.T) {
	eight := make([]byte, 8)
	f32 := func(dtype string, shape string, from, to int) string {
		return fmt.Sprintf(`{"dtype":%q,"shape":%s,"data_offsets":[%d,%d]}`, dtype, shape, from, to)
	}
	valid := encode(t, sampleTensors(), nil)
	flipped := bytes.Clone(valid)
	flipped[len(flipped)-1] ^= 1

	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "truncated file"},
		{"short length", []byte{1, 2, 3}, "truncated file"},
		{"header beyond file", rawFile(`{}`, nil)[:9], "header length 2 beyond file"},
		{"huge header length", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), "beyond file"},
		{"not an object", rawFile(`[1, 2]`, nil), "invalid JSON"},
		{"broken JSON", rawFile(`{"a":`, nil), "invalid JSON"},
		{"data after object", rawFile(`{} {}`, nil), "after the closing"},
		{"tensor not object", rawFile(`{"a":3}`, nil), "not an object"},
		{"unknown field", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}`, eight), `unknown field "x"`},
		{"missing offsets", rawFile(`{"a":{"dtype":"F32","shape":[2]}}`, eight), `no "data_offsets"`},
		{"three offsets", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}`, eight), "not a pair"},
		{"null shape", rawFile(`{"a":{"dtype":"F32","shape":null,"data_offsets":[0,8]}}`, eight), "shape"},
		{"fractional shape", rawFile(`{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}`, eight), "shape"},
		{"unsupported dtype", rawFile(`{"a":`+f32("F16", "[4]", 0, 8)+`}`, eight), `unsupported dtype "F16"`},
		{"negative dim", rawFile(`{"a":`+f32("F32", "[-2]", 0, 8)+`}`, eight), "negative dimension"},
		{"shape offset mismatch", rawFile(`{"a":`+f32("F32", "[3]", 0, 8)+`}`, eight), "shape [3] needs 12 bytes"},
		{"reversed offsets", rawFile(`{"a":`+f32("F32", "[1]", 4, 0)+`}`, eight), "invalid data_offsets"},
		{"overlap", rawFile(`{"a":`+f32("F32", "[2]", 0, 8)+`,"b":`+f32("F32", "[1]", 4, 8)+`}`, eight), "overlap"},
		{"gap", rawFile(`{"a":`+f32("F32", "[1]", 0, 4)+`,"b":`+f32("F32", "[1]", 8, 12)+`}`, make([]byte, 12)), "gap"},
		{"data past end", rawFile(`{"a":`+f32("F32", "[4]", 0, 16)+`}`, eight), "truncated file"},
		{"duplicate name", rawFile(`{"a":`+f32("F32", "[1]", 0, 4)+`,"a":`+f32("F32", "[1]", 4, 8)+`}`, eight), `duplicate tensor name "a"`},
		{"duplicate field", rawFile(`{"a":{"dtype":"F32","shape":[2],"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": duplicate key "shape"`},
		{"metadata not strings", rawFile(`{"__metadata__":{"k":1}}`, nil), "not a string"},
		{"metadata not object", rawFile(`{"__metadata__":[]}`, nil), "must be an object"},
		{"duplicate metadata key", rawFile(`{"__metadata__":{"k":"1","k":"2"}}`, nil), `duplicate metadata key "k"`},
		{"trailing garbage", append(bytes.Clone(valid), 0, 0, 0, 0), "trailing garbage: 4 bytes"},
		{"truncated data", valid[:len(valid)-3], "truncated file"},
		{"checksum mismatch", flipped, "checksum mismatch"},
		{"old data checksum mismatch", rawFile(`{"__metadata__":{"data_crc32c":"00000000"},"a":`+f32("F32", "[2]", 0, 8)+`}`, eight), "CRC mismatch"},
		{"checksum not hex", rawFile(`{"__metadata__":{"file_crc32c":"0000000g"}}`, nil), "8 lowercase hex digits"},
		{"checksum upper case", rawFile(`{"__metadata__":{"file_crc32c":"0000000A"}}`, nil), "8 lowercase hex digits"},
		{"checksum escaped", rawFile(`{"__metadata__":{"file_crc32c":"0000000\u0030"}}`, nil), "without escapes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, meta, err := Decode(tt.file)
			if err == nil {
				t.Fatalf("Decode succeeded with %d tensors, %v; want error containing %q", len(ts), meta, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// TestDecodeForeign accepts what other writers produce: entries in any key order, no CRC, no
// padding, a trailing-space padded header.
func TestDecodeForeign(t *testing.T) {
	data := []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0x40}
	file := rawFile(`{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"shape":[1,1],"data_offsets":[0,4],"dtype":"F32"}}   `, data)
	ts, meta, err := Decode(file)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, ts, []Tensor{{Name: "a", Shape: []int{1, 1}, Data: []float32{1}}, {Name: "b", Shape: []int{1}, Data: []float32{2}}})
	if len(meta) != 0 {
		t.Errorf("metadata: got %v, want none", meta)
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    string
	}{
		{"empty name", []Tensor{{Shape: []int{1}, Data: []float32{1}}}, nil, "empty name"},
		{"reserved name", []Tensor{{Name: "__metadata__", Shape: []int{1}, Data: []float32{1}}}, nil, "reserved"},
		{"duplicate", []Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}}, {Name: "a", Shape: []int{1}, Data: []float32{1}}}, nil, "duplicate"},
		{"shape mismatch", []Tensor{{Name: "a", Shape: []int{2, 2}, Data: []float32{1}}}, nil, "holds 4 elements but Data has 1"},
		{"negative dim", []Tensor{{Name: "a", Shape: []int{-1}, Data: nil}}, nil, "negative dimension"},
		{"reserved metadata", nil, map[string]string{CRCKey: "0"}, "reserved"},
		{"reserved file checksum", nil, map[string]string{FileCRCKey: "0"}, "reserved"},
		{"name not UTF-8", []Tensor{{Name: "a\xff", Shape: []int{1}, Data: []float32{1}}}, nil, "not valid UTF-8"},
		{"metadata key not UTF-8", nil, map[string]string{"k\xfe": "v"}, "not valid UTF-8"},
		{"metadata value not UTF-8", nil, map[string]string{"k": "v\xfe"}, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Encode(&bytes.Buffer{}, tt.tensors, tt.meta)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	first := sampleTensors()
	if err := WriteFile(path, first, map[string]string{"v": "1"}); err != nil {
		t.Fatal(err)
	}
	got, meta, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, got, first)
	if meta["v"] != "1" {
		t.Errorf("metadata: %v", meta)
	}

	// A failing write leaves the old file untouched and no temporary file behind.
	bad := []Tensor{{Name: "x", Shape: []int{3}, Data: []float32{1}}}
	if err := WriteFile(path, bad, nil); err == nil {
		t.Fatal("WriteFile with a bad tensor succeeded")
	}
	got, _, err = ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, got, first)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after a failed write, want 1", len(entries))
	}

	// Overwriting replaces the contents.
	second := first[2:3]
	if err := WriteFile(path, second, nil); err != nil {
		t.Fatal(err)
	}
	got, _, err = ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, got, second)

	if _, _, err := ReadFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("ReadFile of a missing file succeeded")
	}
	if err := WriteFile(filepath.Join(dir, "no", "such", "dir"), first, nil); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encode(f, sampleTensors(), map[string]string{"a": "b"}))
	f.Add(encode(f, nil, nil))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[1073741824,1073741824],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, meta, err := Decode(data)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode (when Encode accepts it) to something that decodes
		// to the same tensors.
		var buf bytes.Buffer
		if Encode(&buf, ts, meta) != nil {
			return
		}
		again, _, err := Decode(buf.Bytes())
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		sameTensors(t, again, ts)
	})
}

// TestReadFileBounded: ReadFile refuses what is not a regular file (reading /dev/zero once ran
// until memory ran out) and allocates nothing for data the header claims but the file lacks.
func TestReadFileBounded(t *testing.T) {
	dir := t.TempDir()
	special := []string{dir}
	if _, err := os.Stat("/dev/zero"); err == nil {
		special = append(special, "/dev/zero")
	}
	for _, path := range special {
		if _, _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("ReadFile(%s) = %v, want an error saying it is not a regular file", path, err)
		}
	}

	// A 100-byte file whose header claims a tensor of 2^40 bytes.
	claim := rawFile(`{"a":{"dtype":"F32","shape":[268435456,1024],"data_offsets":[0,1099511627776]}}`, make([]byte, 16))
	path := filepath.Join(dir, "claims-a-terabyte")
	if err := os.WriteFile(path, claim, 0o644); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := ReadFile(path)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "truncated file") {
		t.Errorf("ReadFile = %v, want a truncated-file error", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("ReadFile of a %d-byte file allocated %d bytes", len(claim), n)
	}
	// Bytes the header does not describe are refused before the data is read, too.
	if err := os.WriteFile(path, append(encode(t, sampleTensors(), nil), 1, 2, 3), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "trailing garbage: 3 bytes") {
		t.Errorf("ReadFile with 3 extra bytes = %v", err)
	}
}

// TestEveryBitFlipDetected: the checksum covers the whole file, so flipping any one bit of an
// encoded file (length, header, padding, data) makes DecodeChecked fail. (Decode cannot tell a
// damaged checksum key, "gile_crc32c", from metadata of a file that has no checksum.)
func TestEveryBitFlipDetected(t *testing.T) {
	file := encode(t, sampleTensors()[:3], map[string]string{"k": "v"})
	for i := range 8 * len(file) {
		b := bytes.Clone(file)
		b[i/8] ^= 1 << (i % 8)
		if ts, meta, err := DecodeChecked(b); err == nil {
			t.Fatalf("flipping bit %d of byte %d (%q) went unnoticed: %d tensors, %v", i%8, i/8, file[i/8], len(ts), meta)
		}
	}
}

// TestChecked: DecodeChecked and ReadFileChecked require the whole-file checksum, which Decode
// and ReadFile only verify when present; files with the older data-only checksum still decode.
func TestChecked(t *testing.T) {
	data := []byte{0, 0, 0x80, 0x3f}
	crc := fmt.Sprintf("%08x", crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	foreign := rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, data)
	older := rawFile(`{"__metadata__":{"data_crc32c":"`+crc+`"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, data)
	ours := encode(t, []Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}}}, nil)
	dir := t.TempDir()
	for name, file := range map[string][]byte{"foreign": foreign, "older": older, "ours": ours} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, file, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, read := range []struct {
			name    string
			checked bool
			f       func() ([]Tensor, map[string]string, error)
		}{
			{"Decode", false, func() ([]Tensor, map[string]string, error) { return Decode(file) }},
			{"DecodeChecked", true, func() ([]Tensor, map[string]string, error) { return DecodeChecked(file) }},
			{"ReadFile", false, func() ([]Tensor, map[string]string, error) { return ReadFile(path) }},
			{"ReadFileChecked", true, func() ([]Tensor, map[string]string, error) { return ReadFileChecked(path) }},
		} {
			ts, meta, err := read.f()
			if read.checked && name != "ours" {
				if err == nil || !strings.Contains(err.Error(), `no "file_crc32c"`) {
					t.Errorf("%s of the %s file = %v, want an error about the missing checksum", read.name, name, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s of the %s file: %v", read.name, name, err)
				continue
			}
			sameTensors(t, ts, []Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}}})
			if len(meta) != 0 {
				t.Errorf("%s of the %s file: metadata %v, want none (checksums removed)", read.name, name, meta)
			}
		}
	}
}
