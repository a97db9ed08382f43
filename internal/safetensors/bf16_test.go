package safetensors

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// TestBF16RoundTrip: BF16 tensors (an empty one and a scalar included) beside F32 ones come
// back with the same bits and dtypes, laid out as 2-byte little-endian values under dtype
// "BF16", as Python's safetensors writes torch.bfloat16.
func TestBF16RoundTrip(t *testing.T) {
	ts := []Tensor{
		{Name: "m", Shape: []int{2, 3}, BF16: []uint16{0x3f80, 0xbf80, 0x7f7f, 0x0001, 0x8000, 0x7fc0}},
		{Name: "f", Shape: []int{2}, Data: []float32{1.5, -2}},
		{Name: "s", Shape: []int{}, BF16: []uint16{0x4049}},
		{Name: "e", Shape: []int{0}, BF16: []uint16{}},
	}
	data := encode(t, ts, map[string]string{"k": "v"})
	if !bytes.Contains(data, []byte(`"m":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]}`)) {
		t.Errorf("header does not describe m as BF16 at [0, 12]: %s", data[8:8+binary.LittleEndian.Uint64(data)])
	}
	got, meta, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if meta["k"] != "v" || len(got) != len(ts) {
		t.Fatalf("got %d tensors, metadata %v", len(got), meta)
	}
	for i, want := range ts {
		g := got[i]
		if g.Name != want.Name || !slices.Equal(g.Shape, want.Shape) || !slices.Equal(g.BF16, want.BF16) || !slices.Equal(g.Data, want.Data) {
			t.Errorf("tensor %d: got %+v, want %+v", i, g, want)
		}
		if (g.BF16 == nil) != (want.BF16 == nil) {
			t.Errorf("tensor %q: dtype changed in the round trip", want.Name)
		}
	}
	hlen := binary.LittleEndian.Uint64(data)
	body := data[8+hlen:]
	if binary.LittleEndian.Uint16(body[0:]) != 0x3f80 || binary.LittleEndian.Uint16(body[2:]) != 0xbf80 {
		t.Errorf("BF16 data is not little-endian 16-bit: % x", body[:4])
	}
}

// TestBF16Errors: a tensor with both kinds of data, or the wrong count, is refused; a BF16
// entry whose byte span is not twice its element count is refused.
func TestBF16Errors(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, []Tensor{{Name: "x", Shape: []int{1}, Data: []float32{1}, BF16: []uint16{1}}}, nil); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("Data and BF16 both set: %v", err)
	}
	if err := Encode(&buf, []Tensor{{Name: "x", Shape: []int{2}, BF16: []uint16{1}}}, nil); err == nil || !strings.Contains(err.Error(), "BF16 has 1") {
		t.Errorf("BF16 count mismatch: %v", err)
	}
	data := encode(t, []Tensor{{Name: "x", Shape: []int{2}, BF16: []uint16{1, 2}}}, nil)
	bad := bytes.Replace(data, []byte(`"shape":[2]`), []byte(`"shape":[1]`), 1)
	if _, _, err := Decode(bad); err == nil || !strings.Contains(err.Error(), "needs 2 bytes") {
		t.Errorf("BF16 span of 4 bytes for 1 element: %v", err)
	}
	bad = bytes.Replace(data, []byte(`"BF16"`), []byte(`"F16" `), 1)
	if _, _, err := Decode(bad); err == nil || !strings.Contains(err.Error(), "unsupported dtype") {
		t.Errorf("dtype F16: %v", err)
	}
}
