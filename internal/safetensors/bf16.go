package safetensors

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Dtypes this package reads and writes: F32 (Tensor.Data) and BF16 (Tensor.BF16, the upper 16
// bits of a float32, as PyTorch's torch.bfloat16 stores it).
const (
	DtypeF32  = "F32"
	DtypeBF16 = "BF16"
)

// elemSize is the byte size of one element of dtype, 0 for an unsupported dtype.
func elemSize(dtype string) int64 {
	switch dtype {
	case DtypeF32:
		return 4
	case DtypeBF16:
		return 2
	}
	return 0
}

// dtype is the tensor's dtype: BF16 when it holds bfloat16 values, else F32.
func (t Tensor) dtype() string {
	if t.BF16 != nil {
		return DtypeBF16
	}
	return DtypeF32
}

// checkData reports a tensor whose values do not number n, or that sets both Data and BF16.
func (t Tensor) checkData(n int64) error {
	if t.BF16 != nil && t.Data != nil {
		return fmt.Errorf("safetensors: tensor %q has both float32 Data and BF16 values", t.Name)
	}
	field, got := "Data", int64(len(t.Data))
	if t.BF16 != nil {
		field, got = "BF16", int64(len(t.BF16))
	}
	if n != got {
		return fmt.Errorf("safetensors: tensor %q: shape %v holds %d elements but %s has %d", t.Name, t.Shape, n, field, got)
	}
	return nil
}

// write writes the tensor's data in little-endian bytes to w through scratch (a multiple of 4
// bytes long), a piece at a time, so it works on any host without a copy of the tensor. Errors
// are left to the caller (a bufio.Writer or a hash keeps them).
func (t Tensor) write(w io.Writer, scratch []byte) {
	if t.BF16 == nil {
		writeFloat32s(w, t.Data, scratch)
		return
	}
	xs := t.BF16
	for len(xs) > 0 {
		n := min(len(xs), len(scratch)/2)
		for i, h := range xs[:n] {
			binary.LittleEndian.PutUint16(scratch[2*i:], h)
		}
		w.Write(scratch[:2*n])
		xs = xs[n:]
	}
}

// tensorOf decodes the raw little-endian data of a tensor of a supported dtype.
func tensorOf(name string, shape []int, dtype string, raw []byte) Tensor {
	t := Tensor{Name: name, Shape: shape}
	if dtype == DtypeBF16 {
		t.BF16 = make([]uint16, len(raw)/2)
		for j := range t.BF16 {
			t.BF16[j] = binary.LittleEndian.Uint16(raw[2*j:])
		}
		return t
	}
	t.Data = make([]float32, len(raw)/4)
	for j := range t.Data {
		t.Data[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
	}
	return t
}
