// Package safetensors reads and writes float32 (F32) and bfloat16 (BF16) tensors in the safetensors file format
// (https://huggingface.co/docs/safetensors), so checkpoints written here open in Python's
// safetensors library and vice versa for F32 files.
//
// A file is an 8-byte little-endian header length N, an N-byte JSON header mapping each tensor
// name to {"dtype", "shape", "data_offsets"} (plus an optional "__metadata__" object of strings),
// and then the raw little-endian tensor data. Encode pads the header with spaces so the data
// starts on an 8-byte boundary, and records a CRC-32C of the data section in the metadata under
// [CRCKey]; Decode verifies it when present.
package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/fadam-go/fadam/internal/atomicfile"
	"hash/crc32"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// CRCKey is the metadata key under which Encode stores the CRC-32C (Castagnoli) of the data
// section, as 8 lowercase hex digits. Decode checks it when present and removes it from the
// metadata it returns; callers may not set it themselves.
const CRCKey = "data_crc32c"

// metadataKey is the header entry the format reserves for free-form string metadata.
const metadataKey = "__metadata__"

// maxHeaderLen bounds the JSON header (the reference implementation uses the same limit).
const maxHeaderLen = 100 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Tensor is one named tensor: float32 values in Data (dtype F32), or the raw bits of bfloat16
// values in BF16 (dtype BF16, see bf16.go), never both. Shape lists its dimensions in row-major
// order; the product of Shape (1 for an empty Shape, a scalar) must equal the number of values.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
	BF16  []uint16
}

// headerEntry is one tensor's description in the JSON header.
type headerEntry struct {
	Dtype       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// numElements returns the product of shape, or an error for a negative dimension or overflow.
func numElements(shape []int) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %v", d, shape)
		}
		if d != 0 && n > math.MaxInt64/4/int64(d) {
			return 0, fmt.Errorf("shape %v is too large", shape)
		}
		n *= int64(d)
	}
	return n, nil
}

// Encode writes tensors and metadata to w in the safetensors format. Tensor data is laid out in
// the order given (so Decode returns the tensors in that order); header keys are sorted, so the
// output is deterministic. Names must be non-empty, unique and not "__metadata__"; metadata may
// be nil and may not contain [CRCKey].
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	if _, ok := metadata[CRCKey]; ok {
		return fmt.Errorf("safetensors: metadata key %q is reserved for the data checksum", CRCKey)
	}
	header := make(map[string]any, len(tensors)+1)
	crc := crc32.New(castagnoli)
	var offset int64
	for i, t := range tensors {
		if t.Name == "" {
			return fmt.Errorf("safetensors: tensor %d has an empty name", i)
		}
		if t.Name == metadataKey {
			return fmt.Errorf("safetensors: tensor %d: name %q is reserved", i, metadataKey)
		}
		if _, dup := header[t.Name]; dup {
			return fmt.Errorf("safetensors: duplicate tensor name %q", t.Name)
		}
		n, err := numElements(t.Shape)
		if err != nil {
			return fmt.Errorf("safetensors: tensor %q: %w", t.Name, err)
		}
		if err := t.checkData(n); err != nil {
			return err
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{} // a scalar is "shape": [], never null
		}
		size := elemSize(t.dtype()) * n
		header[t.Name] = headerEntry{Dtype: t.dtype(), Shape: shape, DataOffsets: [2]int64{offset, offset + size}}
		offset += size
		crc.Write(t.bytes())
	}
	meta := make(map[string]string, len(metadata)+1)
	for k, v := range metadata {
		meta[k] = v
	}
	meta[CRCKey] = fmt.Sprintf("%08x", crc.Sum32())
	header[metadataKey] = meta

	js, err := json.Marshal(header) // map keys come out sorted
	if err != nil {
		return fmt.Errorf("safetensors: encoding header: %w", err)
	}
	// Pad with spaces so the data section starts 8-byte aligned (8 + len is a multiple of 8).
	if pad := (8 - len(js)%8) % 8; pad > 0 {
		js = append(js, bytes.Repeat([]byte{' '}, pad)...)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	bw.Write(lenBuf[:])
	bw.Write(js)
	for _, t := range tensors {
		bw.Write(t.bytes())
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("safetensors: writing: %w", err)
	}
	return nil
}

// float32Bytes returns the little-endian bytes of xs (a copy, so it works on any host).
func float32Bytes(xs []float32) []byte {
	b := make([]byte, 4*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// Decode parses a complete safetensors file held in data. It is strict: it rejects a truncated
// file, a header length beyond the file, invalid or duplicate-keyed JSON, dtypes other than F32 and BF16,
// shapes that disagree with their data offsets, offsets that overlap, leave gaps or run past the
// data, bytes after the last tensor, and a data section whose CRC-32C disagrees with [CRCKey].
// Tensors come back in the order of their data offsets; the metadata map (never nil) excludes
// [CRCKey].
func Decode(data []byte) ([]Tensor, map[string]string, error) {
	if len(data) < 8 {
		return nil, nil, fmt.Errorf("safetensors: truncated file: %d bytes, need at least 8 for the header length", len(data))
	}
	hlen := binary.LittleEndian.Uint64(data[:8])
	if hlen > uint64(len(data)-8) {
		return nil, nil, fmt.Errorf("safetensors: header length %d beyond file of %d bytes", hlen, len(data))
	}
	if hlen > maxHeaderLen {
		return nil, nil, fmt.Errorf("safetensors: header length %d exceeds the limit of %d", hlen, maxHeaderLen)
	}
	headerBytes := data[8 : 8+hlen]
	body := data[8+hlen:]

	entries, meta, err := parseHeader(headerBytes)
	if err != nil {
		return nil, nil, err
	}

	// Offsets must tile the data section exactly, in some order of the entries.
	slices.SortFunc(entries, func(a, b namedEntry) int {
		if c := cmpInt64(a.DataOffsets[0], b.DataOffsets[0]); c != 0 {
			return c
		}
		return cmpInt64(a.DataOffsets[1], b.DataOffsets[1])
	})
	var end int64
	for _, e := range entries {
		begin, stop := e.DataOffsets[0], e.DataOffsets[1]
		if begin < 0 || stop < begin {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: invalid data_offsets [%d, %d]", e.name, begin, stop)
		}
		if begin < end {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] overlap the previous tensor, which ends at %d", e.name, begin, stop, end)
		}
		if begin > end {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] leave a gap after offset %d", e.name, begin, stop, end)
		}
		n, err := numElements(e.Shape)
		if err != nil {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w", e.name, err)
		}
		if size := elemSize(e.Dtype) * n; size != stop-begin {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: shape %v needs %d bytes but data_offsets [%d, %d] span %d", e.name, e.Shape, size, begin, stop, stop-begin)
		}
		if stop > int64(len(body)) {
			return nil, nil, fmt.Errorf("safetensors: truncated file: tensor %q ends at data offset %d but the data section has %d bytes", e.name, stop, len(body))
		}
		end = stop
	}
	if end != int64(len(body)) {
		return nil, nil, fmt.Errorf("safetensors: trailing garbage: %d bytes after the last tensor", int64(len(body))-end)
	}

	if want, ok := meta[CRCKey]; ok {
		got := fmt.Sprintf("%08x", crc32.Checksum(body, castagnoli))
		if !strings.EqualFold(want, got) {
			return nil, nil, fmt.Errorf("safetensors: CRC mismatch: data section has CRC-32C %s, header says %s", got, want)
		}
		delete(meta, CRCKey)
	}

	tensors := make([]Tensor, len(entries))
	for i, e := range entries {
		shape := make([]int, len(e.Shape))
		copy(shape, e.Shape)
		tensors[i] = tensorOf(e.name, shape, e.Dtype, body[e.DataOffsets[0]:e.DataOffsets[1]])
	}
	return tensors, meta, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type namedEntry struct {
	name string
	headerEntry
}

// parseHeader walks the header object token by token, so duplicate keys are caught (encoding/json
// would silently keep the last), and decodes each entry strictly.
func parseHeader(h []byte) ([]namedEntry, map[string]string, error) {
	trimmed := bytes.TrimRight(h, " ")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, nil, errors.New("safetensors: invalid JSON header: does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("safetensors: invalid JSON header: %w", err)
	}
	seen := map[string]bool{}
	var entries []namedEntry
	meta := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("safetensors: invalid JSON header: %w", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("safetensors: invalid JSON header: key %v is not a string", tok)
		}
		if seen[name] {
			return nil, nil, fmt.Errorf("safetensors: duplicate tensor name %q in header", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("safetensors: invalid JSON header at %q: %w", name, err)
		}
		if name == metadataKey {
			if err := decodeMetadata(raw, meta); err != nil {
				return nil, nil, err
			}
			continue
		}
		e, err := decodeEntry(name, raw)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, nil, fmt.Errorf("safetensors: invalid JSON header: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("safetensors: invalid JSON header: data after the closing '}'")
	}
	return entries, meta, nil
}

func decodeMetadata(raw json.RawMessage, meta map[string]string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("safetensors: invalid JSON header: %q must be an object of strings", metadataKey)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("safetensors: invalid JSON header in %q: %w", metadataKey, err)
		}
		key := tok.(string) // inside an object the decoder only yields string keys
		if _, dup := meta[key]; dup {
			return fmt.Errorf("safetensors: duplicate metadata key %q in header", key)
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("safetensors: invalid JSON header: metadata %q is not a string: %w", key, err)
		}
		meta[key] = v
	}
	return nil
}

func decodeEntry(name string, raw json.RawMessage) (namedEntry, error) {
	// First check the keys and the dtype, so the error names the real problem.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return namedEntry{}, fmt.Errorf("safetensors: invalid JSON header: tensor %q is not an object: %w", name, err)
	}
	for k := range fields {
		if k != "dtype" && k != "shape" && k != "data_offsets" {
			return namedEntry{}, fmt.Errorf("safetensors: invalid JSON header: tensor %q has unknown field %q", name, k)
		}
	}
	for _, k := range []string{"dtype", "shape", "data_offsets"} {
		if _, ok := fields[k]; !ok {
			return namedEntry{}, fmt.Errorf("safetensors: invalid JSON header: tensor %q has no %q", name, k)
		}
	}
	var dtype string
	if err := json.Unmarshal(fields["dtype"], &dtype); err != nil {
		return namedEntry{}, fmt.Errorf("safetensors: invalid JSON header: tensor %q dtype: %w", name, err)
	}
	if elemSize(dtype) == 0 {
		return namedEntry{}, fmt.Errorf("safetensors: tensor %q: unsupported dtype %q (F32 and BF16 are supported)", name, dtype)
	}
	e := namedEntry{name: name, headerEntry: headerEntry{Dtype: dtype}}
	if err := json.Unmarshal(fields["shape"], &e.Shape); err != nil || e.Shape == nil {
		return namedEntry{}, fmt.Errorf("safetensors: invalid JSON header: tensor %q shape %s is not a list of integers", name, fields["shape"])
	}
	if err := json.Unmarshal(fields["data_offsets"], &e.DataOffsets); err != nil || !isPair(fields["data_offsets"]) {
		return namedEntry{}, fmt.Errorf("safetensors: invalid JSON header: tensor %q data_offsets %s is not a pair of integers", name, fields["data_offsets"])
	}
	return e, nil
}

// isPair reports whether raw is a JSON array of exactly two elements (encoding/json fills a
// [2]int64 from shorter or longer arrays without complaint).
func isPair(raw json.RawMessage) bool {
	var xs []json.RawMessage
	return json.Unmarshal(raw, &xs) == nil && len(xs) == 2
}

// WriteFile encodes tensors and metadata to path atomically: it writes a temporary file in the
// same directory, syncs it, and renames it over path, so path holds either the old contents or
// the complete new file, never a partial one.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return Encode(w, tensors, metadata) }); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// ReadFile reads and decodes the safetensors file at path (see [Decode]).
func ReadFile(path string) ([]Tensor, map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	ts, meta, err := Decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return ts, meta, nil
}
