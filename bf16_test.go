package fadam

import (
	"bytes"
	"errors"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/fadam-go/fadam/internal/safetensors"
)

// bf16Specs has a multi-chunk vector (assembly bulk and a tail), a matrix and a rank-3 tensor
// (factored for FAdafactor and Adafactor), a short vector and a scalar.
var bf16Specs = []struct {
	name  string
	shape []int
}{{"v", []int{chunkSize + 7}}, {"w", []int{16, 33}}, {"t3", []int{2, 5, 6}}, {"b", []int{7}}, {"s", nil}}

// bf16Params returns the parameters of bf16Specs with N(0,1) values.
func bf16Params(seed uint64) []Param {
	rng := rand.New(rand.NewPCG(seed, 1))
	ps := make([]Param, len(bf16Specs))
	for i, s := range bf16Specs {
		n, _ := numElements(s.shape)
		ps[i] = Param{Name: s.name, Shape: s.shape, Value: make([]float32, n), Grad: make([]float32, n)}
		for j := range ps[i].Value {
			ps[i].Value[j] = float32(rng.NormFloat64())
		}
	}
	return ps
}

// fillBF16Grads sets N(0, scale²) gradients from rng.
func fillBF16Grads(rng *rand.Rand, ps []Param, scale float64) {
	for _, p := range ps {
		for j := range p.Grad {
			p.Grad[j] = float32(scale * rng.NormFloat64())
		}
	}
}

func bf16Config(a Algorithm, dtype StateDType) Config {
	cfg := DefaultsFor(a)
	cfg.LR, cfg.WeightDecay, cfg.StateDType, cfg.RoundingSeed = 0.01, 0.1, dtype, 42
	return cfg
}

// runSteps takes steps steps of a with fresh gradients of varying scale (the large and tiny
// ones reach the clips and the adaptive ε̂) and returns the parameters.
func runSteps(t *testing.T, a Algorithm, cfg Config, steps int) ([]Param, *Optimizer) {
	t.Helper()
	opt, err := a.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ps := bf16Params(5)
	rng := rand.New(rand.NewPCG(6, 7))
	for s := range steps {
		fillBF16Grads(rng, ps, []float64{1, 1e-3, 1e-9, 30}[s%4])
		if err := opt.Step(ps); err != nil {
			t.Fatal(err)
		}
	}
	return ps, opt
}

// maxBF16 is the largest finite bfloat16.
var maxBF16 = float64(bf16ToFloat(bf16MaxBits))

// srModel is an independent model of a stochastically rounded bfloat16 store: x saturated and
// rounded to the nearest float32, then to one of its two neighbouring bfloat16 values, the one
// further from zero when the 16 random bits r ≥ 2^16·(1 − frac), frac being x's position
// between them, so with probability frac; saturated at the largest finite bfloat16.
func srModel(x float64, key roundKey, i int) float64 {
	x32 := float64(float32(max(-math.MaxFloat32, min(x, math.MaxFloat32))))
	a := math.Abs(x32)
	if a == 0 {
		return x32
	}
	_, e := math.Frexp(a)                      // a ∈ [2^(e−1), 2^e)
	spacing := math.Ldexp(1, max(e-1-7, -133)) // 8 significant bits; subnormals below 2^-126
	lower := math.Floor(a/spacing) * spacing
	frac := (a - lower) / spacing
	v := lower
	if frac > 0 && float64(randomBits(key, i)) >= 65536*(1-frac) {
		v = min(lower+spacing, maxBF16)
	}
	return math.Copysign(v, x32)
}

// bf16Ref is Algorithm 1 in float64, written out line by line, with the stores of m and √f
// rounded by srModel when round is set (and kept exact otherwise).
type bf16Ref struct {
	cfg             Config
	round           bool
	t               int64
	theta, m, sqrtF [][]float64
}

func newBF16Ref(cfg Config, ps []Param, round bool) *bf16Ref {
	r := &bf16Ref{cfg: cfg, round: round}
	for _, p := range ps {
		th := make([]float64, len(p.Value))
		for i, v := range p.Value {
			th[i] = float64(v)
		}
		sf := make([]float64, len(th))
		for i := range sf {
			sf[i] = 1
		}
		r.theta, r.m, r.sqrtF = append(r.theta, th), append(r.m, make([]float64, len(th))), append(r.sqrtF, sf)
	}
	return r
}

func rms64(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(len(x)))
}

func (r *bf16Ref) store(x float64, key roundKey, i int) float64 {
	if !r.round {
		return x
	}
	return srModel(x, key, i)
}

func (r *bf16Ref) step(ps []Param) {
	c := r.cfg
	r.t++
	b2 := beta2Hat(c.Beta2, r.t) // line 6
	for ti, p := range ps {
		n := len(p.Grad)
		if n == 0 {
			continue
		}
		g := make([]float64, n)
		for i, v := range p.Grad {
			g[i] = float64(v)
		}
		keyM := newRoundKey(c.RoundingSeed, r.t, ti, streamM)
		keyF := newRoundKey(c.RoundingSeed, r.t, ti, streamFirst)
		th, m, sf := r.theta[ti], r.m[ti], r.sqrtF[ti]
		for i := range g { // line 7, f kept as √f
			sf[i] = r.store(math.Sqrt(b2*sf[i]*sf[i]+(1-b2)*g[i]*g[i]), keyF, i)
		}
		epsHat := min(c.Eps, c.Eps2*rms64(g)) // line 8
		inv := make([]float64, n)
		for i := range g { // line 9's d = f^ρ + ε̂^{2ρ}, zero-denominator rule
			if d := math.Pow(sf[i], 2*c.Rho) + math.Pow(epsHat, 2*c.Rho); d > 0 {
				inv[i] = 1 / d
			}
		}
		gBar, gW := make([]float64, n), make([]float64, n)
		for i := range g {
			gBar[i], gW[i] = g[i]*inv[i], th[i]*inv[i] // lines 9 and 12
		}
		clipG := max(1, rms64(gBar)/c.Clip) // line 10
		clipW := max(1, rms64(gW)/c.Clip)   // line 13
		for i := range g {
			m[i] = r.store(c.Beta1*m[i]+(1-c.Beta1)*(gBar[i]/clipG), keyM, i) // line 11
			th[i] -= c.LR * (m[i] + c.WeightDecay*(gW[i]/clipW))              // line 14
		}
	}
}

// TestBF16AgainstModel checks FAdam with bfloat16 state against bf16Ref with the rounding
// modelled (to 1e-5 relative, as the float32 state is checked against its reference), and
// against the exact float64 algorithm: over 40 steps the parameters' displacement stays within
// 2e-2 of the exact one with bfloat16 state (1e-5 with float32 state; measured 7e-3 and 5e-6).
func TestBF16AgainstModel(t *testing.T) {
	for _, rho := range []float64{0.5, 0.4} {
		cfg := bf16Config(AlgorithmFAdam, BFloat16)
		cfg.Rho = rho
		const steps = 40
		ps := bf16Params(5)
		theta0 := make([][]float64, len(ps))
		for i, p := range ps {
			for _, v := range p.Value {
				theta0[i] = append(theta0[i], float64(v))
			}
		}
		modelled, exact := newBF16Ref(cfg, ps, true), newBF16Ref(cfg, ps, false)
		opt, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		f32cfg := cfg
		f32cfg.StateDType = Float32
		opt32, _ := New(f32cfg)
		ps32 := bf16Params(5)
		rng := rand.New(rand.NewPCG(6, 7))
		for s := range steps {
			fillBF16Grads(rng, ps, []float64{1, 1e-3, 1e-9, 30}[s%4])
			for i := range ps {
				copy(ps32[i].Grad, ps[i].Grad)
			}
			if err := opt.Step(ps); err != nil {
				t.Fatal(err)
			}
			if err := opt32.Step(ps32); err != nil {
				t.Fatal(err)
			}
			modelled.step(ps)
			exact.step(ps)
		}
		// displacement error: ‖θ − θ_exact‖ / ‖θ_exact − θ₀‖ over all parameters
		var moved, errBF16, errF32 float64
		for i, p := range ps {
			for j, v := range p.Value {
				want := modelled.theta[i][j]
				if d := math.Abs(float64(v) - want); d > 1e-5*max(math.Abs(want), 1e-2) { // θ has RMS 1
					t.Fatalf("ρ=%g %s[%d] = %v, modelled %v", rho, p.Name, j, v, want)
				}
				x := exact.theta[i][j]
				moved += (x - theta0[i][j]) * (x - theta0[i][j])
				errBF16 += (float64(v) - x) * (float64(v) - x)
				errF32 += (float64(ps32[i].Value[j]) - x) * (float64(ps32[i].Value[j]) - x)
			}
		}
		relBF16, relF32 := math.Sqrt(errBF16/moved), math.Sqrt(errF32/moved)
		t.Logf("ρ=%g: displacement error against exact float64: bfloat16 state %.3g, float32 state %.3g", rho, relBF16, relF32)
		if relBF16 > 2e-2 || relF32 > 1e-5 {
			t.Errorf("ρ=%g: displacement error bfloat16 %.3g (want ≤ 2e-2), float32 %.3g (want ≤ 1e-5)", rho, relBF16, relF32)
		}
	}
}

// stateBits is the optimizer's checkpoint: every state bit, the step count and the config.
func stateBits(t *testing.T, opt *Optimizer) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := opt.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBF16Deterministic checks, for every algorithm with bfloat16 state, that GOMAXPROCS 1
// with the Go loops and GOMAXPROCS 8 with the assembly loops (where this build has them) give
// the same parameter and state bits.
func TestBF16Deterministic(t *testing.T) {
	run := func(a Algorithm, procs int, asm bool) ([]Param, []byte) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		saved := useAVX
		useAVX = useAVX && asm
		defer func() { useAVX = saved }()
		ps, opt := runSteps(t, a, bf16Config(a, BFloat16), 6)
		return ps, stateBits(t, opt)
	}
	for _, a := range Algorithms {
		p1, s1 := run(a, 1, false)
		p8, s8 := run(a, 8, true)
		for i := range p1 {
			if !slices.Equal(p1[i].Value, p8[i].Value) {
				t.Errorf("%s %s: values differ between GOMAXPROCS 1 (Go loops) and 8 (assembly)", a, p1[i].Name)
			}
		}
		if !bytes.Equal(s1, s8) {
			t.Errorf("%s: state differs between GOMAXPROCS 1 (Go loops) and 8 (assembly)", a)
		}
	}
}

// TestBF16Golden pins a checksum of the parameters and state after a few steps of every
// algorithm with bfloat16 state. The same constants hold with and without -tags purego, so the
// assembly and the portable loops agree across builds, and a change of the rounding (key,
// generator, rounding rule) shows up here.
func TestBF16Golden(t *testing.T) {
	golden := map[Algorithm]uint32{}
	for _, a := range Algorithms {
		ps, opt := runSteps(t, a, bf16Config(a, BFloat16), 6)
		h := crc32.NewIEEE()
		for _, p := range ps {
			for _, v := range p.Value {
				h.Write([]byte{byte(math.Float32bits(v)), byte(math.Float32bits(v) >> 8), byte(math.Float32bits(v) >> 16), byte(math.Float32bits(v) >> 24)})
			}
		}
		for _, tn := range opt.tensors {
			for _, s := range tn.k.state() {
				for _, x := range s.bf16 {
					h.Write([]byte{byte(x), byte(x >> 8)})
				}
			}
		}
		golden[a] = h.Sum32()
	}
	want := map[Algorithm]uint32{
		AlgorithmFAdam:      0xcdd0fb0f,
		AlgorithmAdam:       0xc170cd1e,
		AlgorithmFAdafactor: 0x4552a54a,
		AlgorithmAdafactor:  0x366a7fc6,
	}
	for a, got := range golden {
		if w, ok := want[a]; !ok || got != w {
			t.Errorf("%s: checksum %#08x, want %#08x", a, got, w)
		}
	}
}

// TestRoundBF16Unbiased checks that the stochastic rounding is unbiased: the mean of 2^16
// roundings of x (different elements, steps and tensors) is within 5 standard errors of x,
// the standard error of a two-valued rounding being spacing·√(p(1−p)/n).
func TestRoundBF16Unbiased(t *testing.T) {
	const n = 1 << 16
	for _, x := range []float32{1.0 + 1.0/512, 1.0 + 3.0/1024, -1.0 / 3, 0.1, 3.3e38, 2e-39, -1e-40, 7e-45, 12345.678} {
		_, e := math.Frexp(math.Abs(float64(x)))
		spacing := math.Ldexp(1, max(e-1-7, -133))
		lower := math.Floor(math.Abs(float64(x))/spacing) * spacing
		p := (math.Abs(float64(x)) - lower) / spacing
		sum := 0.0
		for i := range n {
			key := newRoundKey(99, int64(1+i%7), i%3, streamM)
			v := float64(bf16ToFloat(roundBF16(x, randomBits(key, i))))
			if a := math.Abs(v); a != lower && a != lower+spacing {
				t.Fatalf("x=%v rounds to %v, not a neighbour (%v or %v)", x, v, lower, lower+spacing)
			}
			sum += v
		}
		mean := sum / n
		se := spacing * math.Sqrt(p*(1-p)/n)
		if d := math.Abs(mean - float64(x)); d > 5*se+1e-12*math.Abs(float64(x)) {
			t.Errorf("x=%v: mean of %d roundings %v, off by %.3g = %.1f standard errors (p=%.4f)", x, n, mean, d, d/se, p)
		}
	}
}

// TestRoundBF16Edges covers exact values, zeros, subnormals and saturation.
func TestRoundBF16Edges(t *testing.T) {
	for _, c := range []struct {
		x    float32
		r    uint32
		want uint16
	}{
		{0, 0xffff, 0x0000},
		{float32(math.Copysign(0, -1)), 0xffff, 0x8000},
		{1, 0xffff, 0x3f80},                                // exact: never moves
		{-2, 0xffff, 0xc000},                               // exact, negative
		{math.Float32frombits(0x3f808000), 0x7fff, 0x3f80}, // halfway, r below: down
		{math.Float32frombits(0x3f808000), 0x8000, 0x3f81}, // halfway, r at: up
		{math.Float32frombits(0xbf808000), 0x8000, 0xbf81}, // negative magnitude up
		{math.Float32frombits(0x00000001), 0xffff, 0x0001}, // smallest float32 subnormal can reach bf16's
		{math.Float32frombits(0x00000001), 0xfffe, 0x0000}, // … or 0
		{math.Float32frombits(0x007fffff), 0x0001, 0x0080}, // subnormal carries into the smallest normal
		{math.MaxFloat32, 0xffff, bf16MaxBits},             // saturates instead of Inf
		{-math.MaxFloat32, 0x0001, 0x8000 | bf16MaxBits},   // negative saturation
		{math.Float32frombits(0x7f7f0001), 0xffff, 0x7f7f}, // just above the largest bf16
		{float32(math.Inf(1)), 0, bf16MaxBits},             // never produced, but saturates
		{math.Float32frombits(0x7f7effff), 0x0001, 0x7f7f}, // carries to the largest, not past
		{math.Float32frombits(0x3f80ffff), 0x0000, 0x3f80}, // r = 0: truncation
		{math.Float32frombits(0x3f80ffff), 0x0001, 0x3f81}, // any r > 0 carries
		{math.Float32frombits(0x80000000 | 0x0001), 0xffff, 0x8001},
	} {
		if got := roundBF16(c.x, c.r); got != c.want {
			t.Errorf("roundBF16(%v [%#08x], %#04x) = %#04x, want %#04x", c.x, math.Float32bits(c.x), c.r, got, c.want)
		}
	}
	// storeBF16 saturates float64 values beyond float32 and returns what it stored.
	s := make([]uint16, 1)
	key := newRoundKey(1, 1, 0, streamM)
	for _, x := range []float64{1e300, -1e300, math.MaxFloat64} {
		got := storeBF16(s, 0, x, key, 0)
		if math.IsInf(got, 0) || math.Abs(got) != maxBF16 || float64(bf16ToFloat(s[0])) != got {
			t.Errorf("storeBF16(%g) = %v (bits %#04x), want ±%v", x, got, s[0], maxBF16)
		}
	}
	if randomBits(key, 5) >= 1<<16 {
		t.Error("randomBits returns more than 16 bits")
	}
}

// TestBF16FiniteEdges runs every algorithm with bfloat16 state on a zero-gradient tensor, a
// tensor of the largest gradients, and a tensor of subnormal gradients: everything stays
// finite, zero gradients leave m at 0, and bad values cannot appear.
func TestBF16FiniteEdges(t *testing.T) {
	for _, a := range Algorithms {
		cfg := bf16Config(a, BFloat16)
		opt, err := a.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ps := []Param{
			{Name: "zero", Shape: []int{4, 9}, Value: make([]float32, 36), Grad: make([]float32, 36)},
			{Name: "huge", Shape: []int{13}, Value: make([]float32, 13), Grad: make([]float32, 13)},
			{Name: "tiny", Shape: []int{3, 7}, Value: make([]float32, 21), Grad: make([]float32, 21)},
		}
		for i := range ps[1].Grad {
			ps[1].Grad[i] = float32(math.Copysign(math.MaxFloat32, float64(i%2)-0.5))
			ps[1].Value[i] = math.MaxFloat32 / 2
		}
		for i := range ps[2].Grad {
			ps[2].Grad[i] = math.Float32frombits(uint32(1 + i))
		}
		for range 5 {
			if err := opt.Step(ps); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range ps {
			for j, v := range p.Value {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Errorf("%s %s[%d] = %v", a, p.Name, j, v)
				}
			}
		}
		for _, tn := range opt.tensors {
			for _, s := range tn.k.state() {
				for j, h := range s.bf16 {
					if !bf16Valid(h, s.nonNegative) {
						t.Errorf("%s %s.%s[%d] = %v", a, tn.name, s.suffix, j, bf16ToFloat(h))
					}
					if tn.name == "zero" && s.suffix == "m" && h&0x7fff != 0 {
						t.Errorf("%s: zero-gradient m[%d] = %v, want 0", a, j, bf16ToFloat(h))
					}
				}
			}
		}
	}
}

// TestBF16Checkpoint checks the round trip: BF16 tensors in the file, the dtype and seed in the
// config, and a loaded optimizer continuing bit-identically to the original.
func TestBF16Checkpoint(t *testing.T) {
	for _, a := range Algorithms {
		cfg := bf16Config(a, BFloat16)
		ps, opt := runSteps(t, a, cfg, 3)
		data := stateBits(t, opt)
		ts, _, err := safetensors.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, tn := range ts {
			if tn.BF16 == nil || tn.Data != nil {
				t.Errorf("%s: checkpoint tensor %q is not BF16", a, tn.Name)
			}
		}
		loaded, _ := a.New(cfg)
		if err := loaded.Unmarshal(data); err != nil {
			t.Fatal(err)
		}
		if got := loaded.Config(); got.StateDType != BFloat16 || got.RoundingSeed != cfg.RoundingSeed {
			t.Errorf("%s: loaded StateDType %v seed %d, want bfloat16 and %d", a, got.StateDType, got.RoundingSeed, cfg.RoundingSeed)
		}
		if !bytes.Equal(stateBits(t, loaded), data) {
			t.Errorf("%s: the loaded optimizer saves different bytes", a)
		}
		ps2 := make([]Param, len(ps))
		for i, p := range ps {
			ps2[i] = Param{Name: p.Name, Shape: p.Shape, Value: slices.Clone(p.Value), Grad: slices.Clone(p.Grad)}
		}
		for range 3 {
			if err := opt.Step(ps); err != nil {
				t.Fatal(err)
			}
			if err := loaded.Step(ps2); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(stateBits(t, opt), stateBits(t, loaded)) {
			t.Errorf("%s: resumed optimizer diverges from the original", a)
		}
		for i := range ps {
			if !slices.Equal(ps[i].Value, ps2[i].Value) {
				t.Errorf("%s %s: resumed values differ", a, ps[i].Name)
			}
		}
	}
}

// TestBF16CheckpointMismatch: a float32 checkpoint into a bfloat16 optimizer and the reverse
// are refused with ErrCheckpoint, naming both dtypes, and change nothing; so are BF16 tensors
// holding NaN, ±Inf or a negative square root.
func TestBF16CheckpointMismatch(t *testing.T) {
	for _, a := range Algorithms {
		for _, from := range []StateDType{Float32, BFloat16} {
			to := BFloat16 - from
			_, src := runSteps(t, a, bf16Config(a, from), 2)
			_, dst := runSteps(t, a, bf16Config(a, to), 1)
			before := stateBits(t, dst)
			err := dst.Unmarshal(stateBits(t, src))
			if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), from.String()) || !strings.Contains(err.Error(), to.String()) {
				t.Errorf("%s: %s checkpoint into a %s optimizer: error %v", a, from, to, err)
			}
			if !bytes.Equal(before, stateBits(t, dst)) {
				t.Errorf("%s: a refused checkpoint changed the optimizer", a)
			}
		}
	}
	cfg := bf16Config(AlgorithmFAdam, BFloat16)
	_, opt := runSteps(t, AlgorithmFAdam, cfg, 1)
	ts, meta, err := safetensors.Decode(stateBits(t, opt))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tensor string
		bits   uint16
	}{{"b.sqrt_f", 0x7fc0}, {"b.sqrt_f", 0x7f80}, {"b.sqrt_f", 0xbf80}, {"b.m", 0xff80}} {
		bad := slices.Clone(ts)
		for i := range bad {
			if bad[i].Name == c.tensor {
				bad[i].BF16 = slices.Clone(bad[i].BF16)
				bad[i].BF16[2] = c.bits
			}
		}
		var buf bytes.Buffer
		if err := safetensors.Encode(&buf, bad, meta); err != nil {
			t.Fatal(err)
		}
		fresh, _ := New(cfg)
		if err := fresh.Unmarshal(buf.Bytes()); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), c.tensor) {
			t.Errorf("%s = %#04x: error %v", c.tensor, c.bits, err)
		}
	}
	// an F32 tensor where the optimizer expects BF16 (dtype and config disagree)
	bad := slices.Clone(ts)
	for i := range bad {
		if bad[i].Name == "b.m" {
			bad[i].Data, bad[i].BF16 = make([]float32, len(bad[i].BF16)), nil
		}
	}
	var buf bytes.Buffer
	if err := safetensors.Encode(&buf, bad, meta); err != nil {
		t.Fatal(err)
	}
	fresh, _ := New(cfg)
	if err := fresh.Unmarshal(buf.Bytes()); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "b.m") {
		t.Errorf("F32 momentum in a bfloat16 checkpoint: error %v", err)
	}
}

// TestStateBytesBF16: 2 bytes per state element; FAdam and Adam 4 per parameter, FAdafactor and
// Adafactor about 2 on matrices.
func TestStateBytesBF16(t *testing.T) {
	w := Param{Name: "w", Shape: []int{64, 32}, Value: make([]float32, 64*32), Grad: make([]float32, 64*32)}
	for _, c := range []struct {
		a    Algorithm
		want int64
	}{
		{AlgorithmFAdam, 4 * 64 * 32},
		{AlgorithmAdam, 4 * 64 * 32},
		{AlgorithmFAdafactor, 2*64*32 + 2*(64+32)},
		{AlgorithmAdafactor, 2*64*32 + 2*(64+32)},
	} {
		for _, d := range []StateDType{Float32, BFloat16} {
			opt, _ := c.a.New(bf16Config(c.a, d))
			if err := opt.Step([]Param{w}); err != nil {
				t.Fatal(err)
			}
			want := c.want * (4 / 2)
			if d == BFloat16 {
				want = c.want
			}
			if got := opt.StateBytes(); got != want {
				t.Errorf("%s %s: StateBytes = %d, want %d", c.a, d, got, want)
			}
		}
	}
}

// TestStepAllocatesNothing: after the first Step (which allocates the state), a Step of any
// algorithm with either dtype allocates nothing, with parallel passes.
func TestStepAllocatesNothing(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, a := range Algorithms {
		for _, d := range []StateDType{Float32, BFloat16} {
			opt, _ := a.New(bf16Config(a, d))
			ps := bf16Params(1)
			fillBF16Grads(rand.New(rand.NewPCG(1, 1)), ps, 1)
			if err := opt.Step(ps); err != nil {
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(10, func() { opt.Step(ps) }); n != 0 {
				t.Errorf("%s %s: %v allocations per Step", a, d, n)
			}
		}
	}
}

// TestStateDTypeConfig: the dtype is validated, and encoded by name.
func TestStateDTypeConfig(t *testing.T) {
	cfg := Defaults()
	cfg.StateDType = 7
	if err := cfg.Validate(AlgorithmFAdam); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("StateDType 7: Validate = %v", err)
	}
	if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("StateDType 7: New = %v", err)
	}
	var d StateDType
	if err := d.UnmarshalText([]byte("float16")); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf(`UnmarshalText("float16") = %v`, err)
	}
	for _, want := range []StateDType{Float32, BFloat16} {
		b, err := want.MarshalText()
		if err != nil || d.UnmarshalText(b) != nil || d != want {
			t.Errorf("%v: MarshalText %q, %v; back %v", want, b, err, d)
		}
	}
}

// TestBF16Fisher: Fisher is the square of the stored √f, and close to float32 state's.
func TestBF16Fisher(t *testing.T) {
	for _, a := range []Algorithm{AlgorithmFAdam, AlgorithmFAdafactor} {
		_, opt := runSteps(t, a, bf16Config(a, BFloat16), 5)
		_, opt32 := runSteps(t, a, bf16Config(a, Float32), 5)
		for _, name := range []string{"v", "w", "t3"} {
			got, err := opt.Fisher(name)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := opt32.Fisher(name)
			for i := range got {
				if d := math.Abs(float64(got[i]) - float64(want[i])); d > 0.05*float64(want[i])+1e-30 {
					t.Errorf("%s %s: Fisher[%d] = %v with bfloat16 state, %v with float32", a, name, i, got[i], want[i])
					break
				}
			}
		}
	}
}

// TestBF16CloseToFloat32: for every algorithm, 40 steps with bfloat16 state (no weight decay)
// move the parameters within 3% of where float32 state moves them (‖θ_bf16 − θ_f32‖ /
// ‖θ_f32 − θ₀‖; measured 0.6–0.7%).
func TestBF16CloseToFloat32(t *testing.T) {
	for _, a := range Algorithms {
		cfg16, cfg32 := bf16Config(a, BFloat16), bf16Config(a, Float32)
		cfg16.WeightDecay, cfg32.WeightDecay = 0, 0 // Adafactor's λθ (not scaled by η) would dominate
		ps16, _ := runSteps(t, a, cfg16, 40)
		ps32, _ := runSteps(t, a, cfg32, 40)
		ps0 := bf16Params(5)
		var moved, diff float64
		for i := range ps0 {
			for j, v0 := range ps0[i].Value {
				d := float64(ps32[i].Value[j]) - float64(v0)
				e := float64(ps16[i].Value[j]) - float64(ps32[i].Value[j])
				moved += d * d
				diff += e * e
			}
		}
		rel := math.Sqrt(diff / moved)
		t.Logf("%s: bfloat16 − float32 displacement %.3g of the displacement", a, rel)
		if !(rel <= 0.03) {
			t.Errorf("%s: bfloat16 state ends %.3g (relative) away from float32 state, want ≤ 0.03", a, rel)
		}
	}
}
