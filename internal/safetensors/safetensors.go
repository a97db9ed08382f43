// Package safetensors reads and writes float32 tensors in the safetensors file format
// (https://huggingface.co/docs/safetensors), so checkpoints written here open in Python's
// safetensors library and vice versa for F32 files.
//
// # Layout
//
// A file is an 8-byte little-endian header length N, an N-byte JSON header, and the data
// section: the raw little-endian tensor data, every tensor's bytes back to back. The header
// maps each tensor name to {"dtype", "shape", "data_offsets"} (offsets into the data section,
// [begin, end)), plus an optional "__metadata__" object of string values. [Encode] writes the
// tensors' data in the order given, sorts the header's keys, and pads the header with spaces so
// that the data section starts 8-byte aligned.
//
// # Checksum
//
// Encode stores, in the metadata under [FileCRCKey], the CRC-32C (Castagnoli) of the whole
// file as 8 lowercase hex digits, computed with those 8 digits themselves written as "00000000".
// It covers the header length, every byte of the header (keys, shapes, offsets, metadata,
// padding) and the data, so any single-bit error anywhere in the file, and any burst of up to 32
// bits, is detected. [Decode] verifies it when present, and [DecodeChecked] and
// [ReadFileChecked] require it. Files from earlier versions of this package carry instead a
// CRC-32C of the data section only, under [CRCKey], which Decode still verifies when present.
//
// # Strictness
//
// Decoding refuses anything but exactly one well-formed file: a header length beyond the file
// or above 100 MiB, invalid JSON, a key repeated in any object of the header, unknown or
// missing fields of a tensor, dtypes other than F32, shapes that disagree with their offsets,
// offsets that overlap, leave gaps or run past the data, bytes after the last tensor, and a
// checksum that disagrees. [ReadFile] reads only regular files, and reads the data only after
// the header accounts for the file's exact size, so it allocates no more than the file holds.
//
// # Writing
//
// [WriteFile] writes atomically: into a temporary file ".<name>.tmp-<digits>" beside the
// target, synced and then renamed over it, so the target always holds a whole file. A killed
// writer's temporary is removed by the next WriteFile to the same target once it is stale
// (unmodified for a minute and not locked by a live writer; see package atomicfile).
//
// # Optimizer checkpoints
//
// The optimizers' checkpoints are files of this format whose tensors are named
// "<parameter>.<state>" ("m", "sqrt_f", "sqrt_v", "sqrt_R", "sqrt_C") and whose metadata holds
// exactly the keys "format" ("fadam-go optimizer state"), "format_version" ("2", the first
// version with the whole-file checksum; "1" is refused), "algorithm", "step", "config",
// "params" and "options" (the last three JSON, read strictly), and [FileCRCKey], which they
// require. The repository's docs/checkpoints.md describes them in full.
package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/fadam-go/fadam/internal/atomicfile"
	"github.com/fadam-go/fadam/internal/strictjson"
)

// FileCRCKey is the metadata key under which Encode stores the CRC-32C of the whole file (see
// the package documentation). Decode removes it from the metadata it returns; callers may not
// set it themselves.
const FileCRCKey = "file_crc32c"

// CRCKey is the metadata key under which earlier versions of Encode stored the CRC-32C of the
// data section alone, as 8 hex digits. Decode checks it when present and removes it from the
// metadata it returns; callers may not set it.
const CRCKey = "data_crc32c"

// crcPlaceholder stands for the file checksum's digits while the checksum is computed.
const crcPlaceholder = "00000000"

// metadataKey is the header entry the format reserves for free-form string metadata.
const metadataKey = "__metadata__"

// maxHeaderLen bounds the JSON header (the reference implementation uses the same limit).
const maxHeaderLen = 100 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Tensor is one named float32 tensor. Shape lists its dimensions in row-major order; the
// product of Shape (1 for an empty Shape, a scalar) must equal len(Data).
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
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

// Encode writes tensors and metadata to w in the safetensors format, with the whole-file
// checksum under [FileCRCKey]. Tensor data is laid out in the order given (so Decode returns
// the tensors in that order); header keys are sorted, so the output is deterministic. Names
// must be non-empty, unique, valid UTF-8 and not "__metadata__"; metadata (valid UTF-8) may be
// nil and may not contain [FileCRCKey] or [CRCKey].
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	for _, k := range []string{FileCRCKey, CRCKey} {
		if _, ok := metadata[k]; ok {
			return fmt.Errorf("safetensors: metadata key %q is reserved for the checksum", k)
		}
	}
	header := make(map[string]any, len(tensors)+1)
	var offset int64
	for i, t := range tensors {
		if t.Name == "" {
			return fmt.Errorf("safetensors: tensor %d has an empty name", i)
		}
		if t.Name == metadataKey {
			return fmt.Errorf("safetensors: tensor %d: name %q is reserved", i, metadataKey)
		}
		if !utf8.ValidString(t.Name) {
			return fmt.Errorf("safetensors: tensor %d: name %q is not valid UTF-8 (JSON would store another name)", i, t.Name)
		}
		if _, dup := header[t.Name]; dup {
			return fmt.Errorf("safetensors: duplicate tensor name %q", t.Name)
		}
		n, err := numElements(t.Shape)
		if err != nil {
			return fmt.Errorf("safetensors: tensor %q: %w", t.Name, err)
		}
		if n != int64(len(t.Data)) {
			return fmt.Errorf("safetensors: tensor %q: shape %v holds %d elements but Data has %d", t.Name, t.Shape, n, len(t.Data))
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{} // a scalar is "shape": [], never null
		}
		header[t.Name] = headerEntry{Dtype: "F32", Shape: shape, DataOffsets: [2]int64{offset, offset + 4*n}}
		offset += 4 * n
	}
	meta := make(map[string]string, len(metadata)+1)
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("safetensors: metadata %q: %q is not valid UTF-8 (JSON would store another string)", k, v)
		}
		meta[k] = v
	}
	meta[FileCRCKey] = crcPlaceholder
	header[metadataKey] = meta

	js, err := json.Marshal(header) // map keys come out sorted
	if err != nil {
		return fmt.Errorf("safetensors: encoding header: %w", err)
	}
	// Pad with spaces so the data section starts 8-byte aligned (8 + len is a multiple of 8).
	if pad := (8 - len(js)%8) % 8; pad > 0 {
		js = append(js, bytes.Repeat([]byte{' '}, pad)...)
	}
	// Find the placeholder where Decode will look for the checksum, by parsing the header as
	// Decode does.
	lay, err := parseLayout(js)
	if err != nil {
		return fmt.Errorf("safetensors: the encoded header does not parse: %w", err)
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	scratch := make([]byte, min(1<<16, 4*max(1, offset/4))) // offset is now the data size
	crc := crc32.New(castagnoli)
	crc.Write(lenBuf[:])
	crc.Write(js)
	for _, t := range tensors {
		writeFloat32s(crc, t.Data, scratch)
	}
	copy(js[lay.crcSpan[0]:lay.crcSpan[1]], fmt.Sprintf("%08x", crc.Sum32()))

	bw := bufio.NewWriterSize(w, int(min(1<<16, 8+int64(len(js))+offset)))
	bw.Write(lenBuf[:])
	bw.Write(js)
	for _, t := range tensors {
		writeFloat32s(bw, t.Data, scratch)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("safetensors: writing: %w", err)
	}
	return nil
}

// writeFloat32s writes the little-endian bytes of xs to w through scratch, a piece at a time.
// Errors are left to the caller (a bufio.Writer or a hash keeps them).
func writeFloat32s(w io.Writer, xs []float32, scratch []byte) {
	for len(xs) > 0 {
		n := min(len(xs), len(scratch)/4)
		for i, x := range xs[:n] {
			binary.LittleEndian.PutUint32(scratch[4*i:], math.Float32bits(x))
		}
		w.Write(scratch[:4*n])
		xs = xs[n:]
	}
}

// Decode parses a complete safetensors file held in data, strictly (see the package
// documentation), and verifies the checksums it carries. Tensors come back in the order of
// their data offsets; the metadata map (never nil) excludes the checksums.
func Decode(data []byte) ([]Tensor, map[string]string, error) {
	return decodeBytes(data, false)
}

// DecodeChecked is Decode for files that must carry the whole-file checksum Encode writes: it
// refuses a file without one.
func DecodeChecked(data []byte) ([]Tensor, map[string]string, error) {
	return decodeBytes(data, true)
}

func decodeBytes(data []byte, requireFileCRC bool) ([]Tensor, map[string]string, error) {
	hlen, err := headerLength(data, int64(len(data)))
	if err != nil {
		return nil, nil, err
	}
	lay, err := parseLayout(data[8 : 8+hlen])
	if err != nil {
		return nil, nil, err
	}
	if err := lay.checkSize(int64(len(data))); err != nil {
		return nil, nil, err
	}
	return lay.decode(data, requireFileCRC)
}

// headerLength reads the header length from the first 8 bytes of a file of size bytes and
// checks it against the file and the limit.
func headerLength(prefix []byte, size int64) (int64, error) {
	if size < 8 || len(prefix) < 8 {
		return 0, fmt.Errorf("safetensors: truncated file: %d bytes, need at least 8 for the header length", size)
	}
	hlen := binary.LittleEndian.Uint64(prefix[:8])
	if hlen > uint64(size-8) {
		return 0, fmt.Errorf("safetensors: header length %d beyond file of %d bytes", hlen, size)
	}
	if hlen > maxHeaderLen {
		return 0, fmt.Errorf("safetensors: header length %d exceeds the limit of %d", hlen, maxHeaderLen)
	}
	return int64(hlen), nil
}

// layout is a parsed header whose tensors tile a data section of dataLen bytes exactly.
type layout struct {
	headerLen int64
	entries   []namedEntry // in the order of their data offsets
	meta      map[string]string
	dataLen   int64
	// crcSpan is where the digits of the file checksum sit in the header, [0, 0) if absent.
	crcSpan [2]int
}

// parseLayout parses a header and checks that the tensors' offsets tile the data section.
func parseLayout(header []byte) (*layout, error) {
	entries, meta, crcSpan, err := parseHeader(header)
	if err != nil {
		return nil, err
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
			return nil, fmt.Errorf("safetensors: tensor %q: invalid data_offsets [%d, %d]", e.name, begin, stop)
		}
		if begin < end {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] overlap the previous tensor, which ends at %d", e.name, begin, stop, end)
		}
		if begin > end {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] leave a gap after offset %d", e.name, begin, stop, end)
		}
		n, err := numElements(e.Shape)
		if err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", e.name, err)
		}
		if 4*n != stop-begin {
			return nil, fmt.Errorf("safetensors: tensor %q: shape %v needs %d bytes but data_offsets [%d, %d] span %d", e.name, e.Shape, 4*n, begin, stop, stop-begin)
		}
		end = stop
	}
	return &layout{headerLen: int64(len(header)), entries: entries, meta: meta, dataLen: end, crcSpan: crcSpan}, nil
}

// checkSize checks that a file of size bytes holds exactly the header and the data it describes.
func (l *layout) checkSize(size int64) error {
	body := size - 8 - l.headerLen
	if l.dataLen > body {
		return fmt.Errorf("safetensors: truncated file: the tensors need %d bytes of data but the file holds %d", l.dataLen, body)
	}
	if l.dataLen < body {
		return fmt.Errorf("safetensors: trailing garbage: %d bytes after the last tensor", body-l.dataLen)
	}
	return nil
}

// decode verifies the checksums of the file in data (whose size checkSize accepted) and
// returns its tensors and metadata.
func (l *layout) decode(data []byte, requireFileCRC bool) ([]Tensor, map[string]string, error) {
	body := data[8+l.headerLen:]
	meta := l.meta
	if want, ok := meta[FileCRCKey]; ok {
		// The file as written, with the checksum's digits as the placeholder.
		lo, hi := 8+l.crcSpan[0], 8+l.crcSpan[1]
		crc := crc32.Update(0, castagnoli, data[:lo])
		crc = crc32.Update(crc, castagnoli, []byte(crcPlaceholder))
		crc = crc32.Update(crc, castagnoli, data[hi:])
		if got := fmt.Sprintf("%08x", crc); got != want {
			return nil, nil, fmt.Errorf("safetensors: checksum mismatch: the file has CRC-32C %s, its header says %s (the file is corrupt)", got, want)
		}
		delete(meta, FileCRCKey)
	} else if requireFileCRC {
		return nil, nil, fmt.Errorf("safetensors: the header has no %q: not a file written by this package, or its checksum was damaged", FileCRCKey)
	}
	if want, ok := meta[CRCKey]; ok {
		got := fmt.Sprintf("%08x", crc32.Checksum(body, castagnoli))
		if !strings.EqualFold(want, got) {
			return nil, nil, fmt.Errorf("safetensors: CRC mismatch: data section has CRC-32C %s, header says %s", got, want)
		}
		delete(meta, CRCKey)
	}

	tensors := make([]Tensor, len(l.entries))
	for i, e := range l.entries {
		raw := body[e.DataOffsets[0]:e.DataOffsets[1]]
		vals := make([]float32, len(raw)/4)
		for j := range vals {
			vals[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
		shape := make([]int, len(e.Shape))
		copy(shape, e.Shape)
		tensors[i] = Tensor{Name: e.name, Shape: shape, Data: vals}
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
// would silently keep the last), and decodes each entry strictly. It returns where the digits
// of the file checksum sit in h ([0, 0) without one).
func parseHeader(h []byte) ([]namedEntry, map[string]string, [2]int, error) {
	var span [2]int
	fail := func(err error) ([]namedEntry, map[string]string, [2]int, error) { return nil, nil, span, err }
	trimmed := bytes.TrimRight(h, " ")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return fail(errors.New("safetensors: invalid JSON header: does not start with '{'"))
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return fail(fmt.Errorf("safetensors: invalid JSON header: %w", err))
	}
	seen := map[string]bool{}
	var entries []namedEntry
	meta := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(fmt.Errorf("safetensors: invalid JSON header: %w", err))
		}
		name, ok := tok.(string)
		if !ok {
			return fail(fmt.Errorf("safetensors: invalid JSON header: key %v is not a string", tok))
		}
		if seen[name] {
			return fail(fmt.Errorf("safetensors: duplicate tensor name %q in header", name))
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fail(fmt.Errorf("safetensors: invalid JSON header at %q: %w", name, err))
		}
		if name == metadataKey {
			rawStart := int(dec.InputOffset()) - len(raw)
			s, err := decodeMetadata(raw, meta)
			if err != nil {
				return fail(err)
			}
			if s != [2]int{} {
				span = [2]int{rawStart + s[0], rawStart + s[1]}
			}
			continue
		}
		e, err := decodeEntry(name, raw)
		if err != nil {
			return fail(err)
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return fail(fmt.Errorf("safetensors: invalid JSON header: %w", err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail(errors.New("safetensors: invalid JSON header: data after the closing '}'"))
	}
	return entries, meta, span, nil
}

// decodeMetadata adds the string pairs of the metadata object raw to meta and returns where
// the digits of the file checksum sit in raw.
func decodeMetadata(raw json.RawMessage, meta map[string]string) ([2]int, error) {
	var span [2]int
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return span, fmt.Errorf("safetensors: invalid JSON header: %q must be an object of strings", metadataKey)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return span, fmt.Errorf("safetensors: invalid JSON header in %q: %w", metadataKey, err)
		}
		key := tok.(string) // inside an object the decoder only yields string keys
		if _, dup := meta[key]; dup {
			return span, fmt.Errorf("safetensors: duplicate metadata key %q in header", key)
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			return span, fmt.Errorf("safetensors: invalid JSON header: metadata %q is not a string: %w", key, err)
		}
		meta[key] = v
		if key == FileCRCKey {
			// The digits must be written plainly, so that they are exactly the bytes the
			// checksum left out.
			end := int(dec.InputOffset())
			if !isCRCDigits(v) || end < 10 || string(raw[end-10:end]) != `"`+v+`"` {
				return span, fmt.Errorf("safetensors: invalid JSON header: %q must be 8 lowercase hex digits, written without escapes", FileCRCKey)
			}
			span = [2]int{end - 9, end - 1}
		}
	}
	return span, nil
}

// isCRCDigits reports whether s is 8 lowercase hex digits.
func isCRCDigits(s string) bool {
	if len(s) != 8 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func decodeEntry(name string, raw json.RawMessage) (namedEntry, error) {
	if err := strictjson.CheckDuplicateKeys(raw); err != nil {
		return namedEntry{}, fmt.Errorf("safetensors: invalid JSON header: tensor %q: %w", name, err)
	}
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
	if dtype != "F32" {
		return namedEntry{}, fmt.Errorf("safetensors: tensor %q: unsupported dtype %q (only F32 is supported)", name, dtype)
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
// the complete new file, never a partial one. The temporary is named ".<name>.tmp-<digits>"
// beside path; a failed write removes it, and stale ones left by killed writers are removed by
// the next WriteFile to the same path (see package atomicfile).
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return Encode(w, tensors, metadata) }); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// ReadFile reads and decodes the safetensors file at path (see [Decode]). It reads only regular
// files (a device such as /dev/zero or a FIFO would never end) and reads the header first, so
// that it allocates no more than the file size, and only when the header describes exactly the
// file's size.
func ReadFile(path string) ([]Tensor, map[string]string, error) {
	return readAndDecode(path, false)
}

// ReadFileChecked is ReadFile for files that must carry the whole-file checksum Encode writes
// (see [DecodeChecked]).
func ReadFileChecked(path string) ([]Tensor, map[string]string, error) {
	return readAndDecode(path, true)
}

func readAndDecode(path string, requireFileCRC bool) ([]Tensor, map[string]string, error) {
	data, lay, err := readFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	ts, meta, err := lay.decode(data, requireFileCRC)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return ts, meta, nil
}

// readFile returns the contents of a regular file whose header describes exactly its size.
func readFile(path string) ([]byte, *layout, error) {
	// Stat before opening: opening a FIFO blocks until someone writes to it.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("safetensors: not a regular file (mode %v)", fi.Mode())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	if opened, err := f.Stat(); err != nil || !os.SameFile(fi, opened) || !opened.Mode().IsRegular() {
		return nil, nil, errors.New("safetensors: the file was replaced while being opened")
	}
	size := fi.Size()
	if size > math.MaxInt {
		return nil, nil, fmt.Errorf("safetensors: file of %d bytes is too large for this platform", size)
	}
	var prefix [8]byte
	if size >= 8 {
		if _, err := io.ReadFull(f, prefix[:]); err != nil {
			return nil, nil, fmt.Errorf("safetensors: reading: %w", err)
		}
	}
	hlen, err := headerLength(prefix[:], size)
	if err != nil {
		return nil, nil, err
	}
	header := make([]byte, hlen)
	if _, err := io.ReadFull(f, header); err != nil {
		return nil, nil, fmt.Errorf("safetensors: reading the header: %w", err)
	}
	lay, err := parseLayout(header)
	if err != nil {
		return nil, nil, err
	}
	if err := lay.checkSize(size); err != nil {
		return nil, nil, err
	}
	// The header accounts for every byte of the file: now read the data.
	data := make([]byte, size)
	copy(data, prefix[:])
	copy(data[8:], header)
	if _, err := io.ReadFull(f, data[8+hlen:]); err != nil {
		return nil, nil, fmt.Errorf("safetensors: reading the data: %w", err)
	}
	if n, _ := f.Read(prefix[:1]); n != 0 {
		return nil, nil, errors.New("safetensors: the file grew while being read")
	}
	return data, lay, nil
}
