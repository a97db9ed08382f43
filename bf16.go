package fadam

import (
	"fmt"
	"math"

	"github.com/fadam-go/fadam/internal/safetensors"
)

// StateDType is the storage type of an optimizer's state arrays: the momentum m and the square
// roots of the Fisher estimates (√f; Adam's √v; the factored √R and √C). Arithmetic is float64
// either way; only the stored values differ.
type StateDType int

const (
	// Float32 stores the state as float32 (the default): 8 bytes per parameter for FAdam and
	// Adam, about 4 for FAdafactor and Adafactor on matrices.
	Float32 StateDType = iota
	// BFloat16 stores the state as bfloat16 (float32's 8-bit exponent, 8 significant bits):
	// 4 bytes per parameter for FAdam and Adam, about 2 for FAdafactor and Adafactor on
	// matrices. Every store rounds stochastically (see [Config.RoundingSeed]), so that on
	// average the stored value is the computed one and small updates are not lost to rounding.
	BFloat16
)

// String is "float32" or "bfloat16".
func (d StateDType) String() string {
	switch d {
	case Float32:
		return "float32"
	case BFloat16:
		return "bfloat16"
	}
	return fmt.Sprintf("StateDType(%d)", int(d))
}

// MarshalText encodes d by name (checkpoints store the configuration as JSON).
func (d StateDType) MarshalText() ([]byte, error) {
	if !d.known() {
		return nil, fmt.Errorf("%w: unknown StateDType %d", ErrInvalidConfig, int(d))
	}
	return []byte(d.String()), nil
}

// UnmarshalText decodes "float32" or "bfloat16".
func (d *StateDType) UnmarshalText(b []byte) error {
	switch string(b) {
	case "float32":
		*d = Float32
	case "bfloat16":
		*d = BFloat16
	default:
		return fmt.Errorf("%w: unknown StateDType %q (want float32 or bfloat16)", ErrInvalidConfig, b)
	}
	return nil
}

func (d StateDType) known() bool { return d == Float32 || d == BFloat16 }

// bytes is the size of one stored element.
func (d StateDType) bytes() int64 {
	if d == BFloat16 {
		return 2
	}
	return 4
}

// bfloat16 conversions. A bfloat16 is the upper half of a float32's bits.
const (
	bf16MaxBits = 0x7f7f          // the largest finite bfloat16, about 3.39e38
	bf16Mag     = 0x7fffffff      // float32 magnitude mask
	bf16Ceiling = 0x7f7fffff      // float32 bits that truncate to bf16MaxBits
	bf16Sign    = uint32(1) << 31 // float32 sign bit
)

// bf16ToFloat is the float32 value of bfloat16 bits h (exact).
func bf16ToFloat(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// roundBF16 rounds x to bfloat16 stochastically with the 16 random bits r (r < 2^16): it adds r
// to the 16 bits that bfloat16 drops and truncates, so x rounds away from zero with probability
// equal to the dropped fraction of the last kept bit, and E[result] = x. The magnitude
// saturates at the largest finite bfloat16 instead of reaching Inf (an Inf or NaN x, which the
// kernels never produce, also saturates). Zero and subnormals round the same way; ±0 stays ±0.
func roundBF16(x float32, r uint32) uint16 {
	b := math.Float32bits(x)
	mag := min((b&bf16Mag)+r, bf16Ceiling)
	return uint16((b&bf16Sign | mag) >> 16)
}

// roundKey selects the random stream of one state array at one step: the 16 random bits of
// element i are randomBits(key, i). It is a counter-based generator: the bits depend only on
// (seed, step, tensor index, array, element index), never on the order of evaluation, so
// rounding is the same for any GOMAXPROCS and in the assembly and Go loops.
type roundKey struct {
	mul uint32 // odd
	add uint32
}

// splitmix64 is SplitMix64's output function, a bijective 64-bit mixer.
func splitmix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// State arrays of a kernel, for roundKey: each gets its own stream.
const (
	streamM     = 1 // momentum
	streamFirst = 2 // √f, √v, √R
	streamOther = 3 // √C
)

// newRoundKey derives the stream of array stream of tensor number tensor at step t.
func newRoundKey(seed uint64, t int64, tensor int, stream int) roundKey {
	z := splitmix64(seed ^ splitmix64(uint64(t)^splitmix64(uint64(tensor)<<2|uint64(stream))))
	return roundKey{mul: uint32(z) | 1, add: uint32(z >> 32)}
}

// randomBits returns 16 random bits for element i: the element index (modulo 2^32) is spread
// by the key's affine map and then mixed by the first two rounds of Chris Wellons' lowbias32
// hash, whose upper half is kept. Four 32-bit multiplies-and-shifts: cheap in SIMD lanes.
func randomBits(k roundKey, i int) uint32 {
	x := uint32(i)*k.mul + k.add
	x ^= x >> 16
	x *= 0x7feb352d
	x ^= x >> 15
	x *= 0x846ca68b
	return x >> 16
}

// storeBF16 rounds the float64 x (first saturated to float32's range, then rounded to nearest
// float32) stochastically into s[i] with the bits of element idx of stream k, and returns the
// stored value: later arithmetic uses what the state holds.
func storeBF16(s []uint16, i int, x float64, k roundKey, idx int) float64 {
	h := roundBF16(float32(clampFloat32(x)), randomBits(k, idx))
	s[i] = h
	return float64(bf16ToFloat(h))
}

// bf16State is what every kernel with bfloat16 state keeps: which tensor it is (for the
// random streams), the seed, and this step's keys.
type bf16State struct {
	tensor int
	seed   uint64
	keyM   roundKey // momentum
	keyF   roundKey // √f, √v or √R
	keyC   roundKey // √C
}

// rekey sets the streams of step t.
func (b *bf16State) rekey(t int64) {
	b.keyM = newRoundKey(b.seed, t, b.tensor, streamM)
	b.keyF = newRoundKey(b.seed, t, b.tensor, streamFirst)
	b.keyC = newRoundKey(b.seed, t, b.tensor, streamOther)
}

// bf16Keyed is implemented by kernels that may hold bfloat16 state: newTensorsWith tells
// each its tensor index, which keys its random streams.
type bf16Keyed interface {
	setTensorIndex(i int)
}

// newBF16 returns n bfloat16 elements set to init (exact in bfloat16: 0 or 1).
func newBF16(n int, init float32) []uint16 {
	s := make([]uint16, n)
	if h := uint16(math.Float32bits(init) >> 16); h != 0 {
		for i := range s {
			s[i] = h
		}
	}
	return s
}

// bf16Valid reports whether h is finite, and not negative when nonNegative is set (for
// checkpoint validation).
func bf16Valid(h uint16, nonNegative bool) bool {
	if h&0x7f80 == 0x7f80 {
		return false
	}
	return !nonNegative || h&0x8000 == 0 || h == 0x8000
}

// restoreBF16 copies a checkpoint tensor into the bfloat16 state array s, after checking that
// it is BF16, of the right size, finite, and not negative where s must not be.
func restoreBF16(s stateTensor, src safetensors.Tensor) error {
	if src.BF16 == nil || len(src.BF16) != len(s.bf16) {
		return fmt.Errorf("has %d F32 and %d BF16 elements, want %d BF16", len(src.Data), len(src.BF16), len(s.bf16))
	}
	for j, h := range src.BF16 {
		if !bf16Valid(h, s.nonNegative) {
			return fmt.Errorf("element %d is %v", j, bf16ToFloat(h))
		}
	}
	copy(s.bf16, src.BF16)
	return nil
}
