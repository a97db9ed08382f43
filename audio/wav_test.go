package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// audioTestWAV builds a WAV file by hand from its parts, so tests can break any one of them.
func audioTestWAV(format, channels uint16, rate uint32, bits uint16, data []byte, extra ...[]byte) []byte {
	le := binary.LittleEndian
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(0)) // patched below
	b.WriteString("WAVE")
	for _, e := range extra {
		b.Write(e)
	}
	b.WriteString("fmt ")
	binary.Write(&b, le, uint32(16))
	binary.Write(&b, le, format)
	binary.Write(&b, le, channels)
	binary.Write(&b, le, rate)
	binary.Write(&b, le, rate*uint32(channels)*uint32(bits)/8)
	binary.Write(&b, le, channels*bits/8)
	binary.Write(&b, le, bits)
	b.WriteString("data")
	binary.Write(&b, le, uint32(len(data)))
	b.Write(data)
	out := b.Bytes()
	le.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

func TestDecodeWAV(t *testing.T) {
	pcm := []byte{0x00, 0x40, 0x00, 0xc0, 0xff, 0x7f, 0x00, 0x80} // 0.5, -0.5, 32767/32768, -1
	listChunk := append([]byte("LIST\x03\x00\x00\x00abc"), 0)     // odd size, padded
	good := audioTestWAV(1, 1, 22050, 16, pcm)
	c, err := DecodeWAV(good)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0.5, -0.5, 32767.0 / 32768, -1}
	if c.SampleRate != 22050 || len(c.Samples) != 4 {
		t.Fatalf("got rate %d, %d samples", c.SampleRate, len(c.Samples))
	}
	for i := range want {
		if c.Samples[i] != want[i] {
			t.Fatalf("sample %d = %v, want %v", i, c.Samples[i], want[i])
		}
	}
	if c2, err := DecodeWAV(audioTestWAV(1, 1, 16000, 16, pcm, listChunk)); err != nil || len(c2.Samples) != 4 {
		t.Fatalf("extra chunk: %v, %d samples", err, len(c2.Samples))
	}
	// Round trip through EncodeWAV.
	c3, err := DecodeWAV(EncodeWAV(c))
	if err != nil || c3.SampleRate != 22050 {
		t.Fatal(err)
	}
	for i := range want {
		if c3.Samples[i] != want[i] {
			t.Fatalf("round trip sample %d = %v", i, c3.Samples[i])
		}
	}

	bad := []struct {
		name, want string
		data       []byte
	}{
		{"empty", "too short", nil},
		{"not riff", "missing RIFF", append([]byte("RIFX"), good[4:]...)},
		{"not wave", "missing WAVE", append(append(append([]byte{}, good[:8]...), "AVI "...), good[12:]...)},
		{"float", "sample format 3", audioTestWAV(3, 1, 16000, 16, pcm)},
		{"stereo", "2 channels", audioTestWAV(1, 2, 16000, 16, pcm)},
		{"8 bit", "8 bits", audioTestWAV(1, 1, 16000, 8, pcm)},
		{"zero rate", "sample rate 0", audioTestWAV(1, 1, 0, 16, pcm)},
		{"truncated data", "declares 8 bytes", good[:len(good)-3]},
		{"truncated header", "truncated chunk header", good[:40]},
		{"odd data", "not whole 16-bit", audioTestWAV(1, 1, 16000, 16, pcm[:3])},
		{"no data", "no data chunk", good[:36]},
		{"data first", "before fmt", append(append([]byte{}, good[:12]...), []byte("data\x00\x00\x00\x00")...)},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeWAV(tc.data)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrMalformedWAV) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want ErrMalformedWAV mentioning %q", err, tc.want)
			}
		})
	}
}
