package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// ErrMalformedWAV is wrapped by every error DecodeWAV returns for input that is not a valid
// 16-bit PCM mono WAV file.
var ErrMalformedWAV = errors.New("malformed WAV")

// Clip is a mono recording: samples in [-1, 1) at SampleRate samples per second.
type Clip struct {
	SampleRate int
	Samples    []float32
}

// Duration returns the clip's length in seconds.
func (c Clip) Duration() float64 {
	if c.SampleRate <= 0 {
		return 0
	}
	return float64(len(c.Samples)) / float64(c.SampleRate)
}

// ReadWAVFile reads and decodes the WAV file at path (see DecodeWAV).
func ReadWAVFile(path string) (Clip, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Clip{}, fmt.Errorf("audio: %w", err)
	}
	c, err := DecodeWAV(data)
	if err != nil {
		return Clip{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("audio: %w: %s", ErrMalformedWAV, fmt.Sprintf(format, args...))
}

// DecodeWAV parses a RIFF/WAVE file holding uncompressed 16-bit PCM mono audio (format tag 1).
// Chunks other than "fmt " and "data" are skipped. It returns an error wrapping ErrMalformedWAV
// that names the problem for anything else: a missing or truncated header, a truncated chunk,
// another sample format, several channels, or a data chunk before the format chunk.
func DecodeWAV(data []byte) (Clip, error) {
	le := binary.LittleEndian
	if len(data) < 12 {
		return Clip{}, malformed("%d bytes is too short for a RIFF header", len(data))
	}
	if string(data[0:4]) != "RIFF" {
		return Clip{}, malformed("missing RIFF tag (got %q)", data[0:4])
	}
	if string(data[8:12]) != "WAVE" {
		return Clip{}, malformed("missing WAVE tag (got %q)", data[8:12])
	}
	var (
		haveFmt bool
		rate    int
	)
	pos := 12
	for {
		if pos == len(data) {
			return Clip{}, malformed("no data chunk")
		}
		if len(data)-pos < 8 {
			return Clip{}, malformed("truncated chunk header at byte %d", pos)
		}
		id := string(data[pos : pos+4])
		size := int(le.Uint32(data[pos+4 : pos+8]))
		body := pos + 8
		if size > len(data)-body {
			return Clip{}, malformed("chunk %q at byte %d declares %d bytes but only %d remain", id, pos, size, len(data)-body)
		}
		chunk := data[body : body+size]
		switch id {
		case "fmt ":
			if size < 16 {
				return Clip{}, malformed("fmt chunk of %d bytes, need 16", size)
			}
			format := le.Uint16(chunk[0:2])
			channels := le.Uint16(chunk[2:4])
			rate = int(le.Uint32(chunk[4:8]))
			bits := le.Uint16(chunk[14:16])
			if format != 1 {
				return Clip{}, malformed("sample format %d, want 1 (PCM)", format)
			}
			if channels != 1 {
				return Clip{}, malformed("%d channels, want mono", channels)
			}
			if bits != 16 {
				return Clip{}, malformed("%d bits per sample, want 16", bits)
			}
			if rate <= 0 || rate > 1_000_000 {
				return Clip{}, malformed("sample rate %d", rate)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return Clip{}, malformed("data chunk before fmt chunk")
			}
			if size%2 != 0 {
				return Clip{}, malformed("data chunk of %d bytes is not whole 16-bit samples", size)
			}
			s := make([]float32, size/2)
			for i := range s {
				s[i] = float32(int16(le.Uint16(chunk[2*i:]))) / 32768
			}
			return Clip{SampleRate: rate, Samples: s}, nil
		}
		pos = body + size + size%2 // chunks are padded to even length
		if pos > len(data) {
			pos = len(data)
		}
	}
}

// EncodeWAV returns c as a 16-bit PCM mono WAV file. Samples are clipped to [-1, 1].
func EncodeWAV(c Clip) []byte {
	le := binary.LittleEndian
	n := len(c.Samples)
	b := make([]byte, 44+2*n)
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16)
	le.PutUint16(b[20:], 1)
	le.PutUint16(b[22:], 1)
	le.PutUint32(b[24:], uint32(c.SampleRate))
	le.PutUint32(b[28:], uint32(2*c.SampleRate))
	le.PutUint16(b[32:], 2)
	le.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(2*n))
	for i, v := range c.Samples {
		x := math.Round(float64(v) * 32768)
		x = max(-32768, min(32767, x))
		le.PutUint16(b[44+2*i:], uint16(int16(x)))
	}
	return b
}

// WriteWAV writes c to w as a 16-bit PCM mono WAV file.
func WriteWAV(w io.Writer, c Clip) error {
	_, err := w.Write(EncodeWAV(c))
	return err
}
