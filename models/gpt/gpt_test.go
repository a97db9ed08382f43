package gpt

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/fadam-go/fadam/gemm"
	"github.com/fadam-go/fadam/nn"
	"github.com/fadam-go/fadam/nn/gradcheck"
)

var tiny = Config{D: 8, Layers: 2, Heads: 2, Ctx: 5, Batch: 2}

func tinyBatch(cfg Config, seed uint64) (in, tg []int32) {
	rng := rand.New(rand.NewPCG(seed, 3))
	n := cfg.Batch * cfg.Ctx
	in, tg = make([]int32, n), make([]int32, n)
	for i := range in {
		in[i] = int32(rng.IntN(Vocab))
		tg[i] = int32(rng.IntN(Vocab))
	}
	return in, tg
}

// TestGradientsEndToEnd checks the whole model's backward, every parameter tensor, against
// central differences of the loss.
func TestGradientsEndToEnd(t *testing.T) {
	m, err := New(tiny, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Larger weights than the initialisation so that every path carries a visible gradient.
	rng := rand.New(rand.NewPCG(9, 9))
	for _, p := range m.Params() {
		for i := range p.Value {
			p.Value[i] += float32(rng.NormFloat64() * 0.3)
		}
	}
	in, tg := tinyBatch(tiny, 2)
	loss := func() float64 {
		l, err := m.Forward(in, tg)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	loss()
	m.Backward()
	for i, p := range m.Params() {
		r, err := gradcheck.Check(loss, p.Value, p.Grad, 1e-2, 12, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		if r.MaxRelErr > 3e-2 {
			t.Errorf("%s: analytic %.6g vs numeric %.6g at %d (rel %.3g)", p.Name, r.Analytic, r.Numeric, r.Index, r.MaxRelErr)
		}
	}
}

func TestInitialLossIsNearUniform(t *testing.T) {
	m, err := New(tiny, 3)
	if err != nil {
		t.Fatal(err)
	}
	in, tg := tinyBatch(tiny, 4)
	l, err := m.Forward(in, tg)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(l-math.Log(Vocab)) > 0.05 {
		t.Fatalf("initial loss %v, want about ln 256 = %v", l, math.Log(Vocab))
	}
}

func TestDeterministicInit(t *testing.T) {
	a, _ := New(tiny, 5)
	b, _ := New(tiny, 5)
	c, _ := New(tiny, 6)
	same, differ := true, false
	for i, p := range a.Params() {
		for j := range p.Value {
			same = same && p.Value[j] == b.Params()[i].Value[j]
			differ = differ || p.Value[j] != c.Params()[i].Value[j]
		}
	}
	if !same || !differ {
		t.Fatalf("same seed equal: %v, other seed different: %v", same, differ)
	}
}

func TestParamNamesAndDecay(t *testing.T) {
	m, _ := New(tiny, 1)
	want := map[string]bool{"wte": true, "wpe": true, "blocks.0.ln1.g": false, "blocks.1.attn.qkv.w": true,
		"blocks.1.attn.qkv.b": false, "blocks.0.mlp.proj.w": true, "lnf.b": false, "lm_head.w": true}
	seen := map[string]bool{}
	for _, p := range m.Params() {
		if seen[p.Name] {
			t.Errorf("duplicate name %q", p.Name)
		}
		seen[p.Name] = true
		if d, ok := want[p.Name]; ok && d != Decays(p) {
			t.Errorf("Decays(%s) = %v", p.Name, !d)
		}
	}
	for n := range want {
		if !seen[n] {
			t.Errorf("missing %q", n)
		}
	}
	if n := nn.Count(m.Params()); n != 256*8+5*8+2*(12*64+13*8)+2*8+256*8 {
		t.Errorf("parameter count %d", n)
	}
}

func TestBadInput(t *testing.T) {
	if _, err := New(Config{D: 10, Layers: 1, Heads: 3, Ctx: 4, Batch: 1}, 1); err == nil {
		t.Error("d not a multiple of heads accepted")
	}
	if _, err := New(Config{D: 8, Layers: 0, Heads: 2, Ctx: 4, Batch: 1}, 1); err == nil {
		t.Error("zero layers accepted")
	}
	m, _ := New(tiny, 1)
	in, tg := tinyBatch(tiny, 1)
	if _, err := m.Forward(in[:3], tg); !errors.Is(err, ErrBadBatch) {
		t.Errorf("short batch: %v", err)
	}
	in[4] = 300
	if _, err := m.Forward(in, tg); !errors.Is(err, ErrBadBatch) {
		t.Errorf("token 300: %v", err)
	}
}

// serialKernel is a plain triple loop, used to measure the substrate's own allocations apart from
// whatever the configured GEMM kernel does inside.
type serialKernel struct{}

func (serialKernel) Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := range m {
		for j := range n {
			var s float32
			for p := range k {
				var av, bv float32
				if tA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}

func TestTrainingStepDoesNotAllocate(t *testing.T) {
	cfg := Config{D: 16, Layers: 2, Heads: 2, Ctx: 32, Batch: 16} // large enough to split work
	m, _ := New(cfg, 1)
	in, tg := tinyBatch(cfg, 1)
	step := func() {
		if _, err := m.Forward(in, tg); err != nil {
			t.Fatal(err)
		}
		m.Backward()
	}
	saved := gemm.Default
	defer func() { gemm.Default = saved }()
	gemm.Default = serialKernel{}
	var pt PhaseTimes
	m.SetPhaseTimes(&pt) // the breakdown's clock reads must not allocate either
	if n := testing.AllocsPerRun(3, step); n != 0 {
		t.Errorf("substrate allocates %v times per step", n)
	}
	gemm.Default = saved
	t.Logf("with gemm.Default %T: %v allocations per step", saved, testing.AllocsPerRun(3, step))
}

// TestSerialKernelAgrees guards the allocation test's kernel: it must compute the same step.
func TestSerialKernelAgrees(t *testing.T) {
	m, _ := New(tiny, 1)
	in, tg := tinyBatch(tiny, 1)
	want, _ := m.Forward(in, tg)
	saved := gemm.Default
	defer func() { gemm.Default = saved }()
	gemm.Default = serialKernel{}
	got, _ := m.Forward(in, tg)
	if math.Abs(got-want) > 1e-5 {
		t.Fatalf("serial kernel loss %v, default %v", got, want)
	}
}

func TestFlopsPerToken(t *testing.T) {
	// d=128, 4 layers, ctx 128: linear 6·(4·12·128² + 256·128) = 4,915,200; attention
	// 4 layers · 6 products · 2·128·(32·(32+64+96+128))/128 = 491,520.
	c := Config{D: 128, Layers: 4, Heads: 4, Ctx: 128, Batch: 32}
	if got := c.FlopsPerToken(); got != 4915200+491520 {
		t.Fatalf("FlopsPerToken = %v", got)
	}
}

// stepHashEnv, when set, makes TestStepHashChild print the hash of a training step: the child
// half of TestStepBitIdenticalAcrossGOMAXPROCS.
const stepHashEnv = "FADAM_GPT_STEP_HASH_CHILD"

// TestStepHashChild prints the SHA-256 of the loss and every gradient of one training step of a
// model with 1,536 tokens per batch (enough for the weight gradients' depth split and for every
// layer to split its work), when run by TestStepBitIdenticalAcrossGOMAXPROCS.
func TestStepHashChild(t *testing.T) {
	if os.Getenv(stepHashEnv) == "" {
		t.Skip("run by TestStepBitIdenticalAcrossGOMAXPROCS in a child process")
	}
	cfg := Config{D: 32, Layers: 2, Heads: 2, Ctx: 64, Batch: 24}
	in, tg := tinyBatch(cfg, 4)
	m, err := New(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for range 2 { // two steps, the second on weights an SGD step changed
		loss, err := m.Forward(in, tg)
		if err != nil {
			t.Fatal(err)
		}
		m.Backward()
		binary.Write(h, binary.LittleEndian, loss)
		for _, p := range m.Params() {
			binary.Write(h, binary.LittleEndian, p.Grad)
			for i := range p.Value {
				p.Value[i] -= 0.1 * p.Grad[i]
			}
		}
	}
	fmt.Printf("step hash %x\n", h.Sum(nil))
}

// TestStepBitIdenticalAcrossGOMAXPROCS checks that the loss and every gradient of a step do not
// depend on how many threads run it. The worker pools of nn and gemm are sized when first used,
// so each GOMAXPROCS runs in a fresh process (this test binary, running TestStepHashChild).
func TestStepBitIdenticalAcrossGOMAXPROCS(t *testing.T) {
	if os.Getenv(stepHashEnv) != "" {
		return
	}
	hashes := map[int]string{}
	for _, procs := range []int{1, 2, 3} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStepHashChild$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), stepHashEnv+"=1", fmt.Sprintf("GOMAXPROCS=%d", procs))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("GOMAXPROCS=%d: %v\n%s", procs, err, out)
		}
		i := strings.Index(string(out), "step hash ")
		if i < 0 {
			t.Fatalf("GOMAXPROCS=%d: no hash in\n%s", procs, out)
		}
		hashes[procs] = strings.Fields(string(out[i:]))[2]
	}
	for _, procs := range []int{2, 3} {
		if hashes[procs] != hashes[1] {
			t.Errorf("GOMAXPROCS=%d: step hash %s, GOMAXPROCS=1 gives %s", procs, hashes[procs], hashes[1])
		}
	}
}

// TestPhaseTimes checks that the breakdown covers the step: every phase that runs gets time,
// their sum is at most the wall time of the calls, and timing does not allocate.
func TestPhaseTimes(t *testing.T) {
	m, _ := New(tiny, 1)
	in, tg := tinyBatch(tiny, 1)
	var pt PhaseTimes
	m.SetPhaseTimes(&pt)
	start := time.Now()
	if _, err := m.Forward(in, tg); err != nil {
		t.Fatal(err)
	}
	m.Backward()
	wall := time.Since(start)
	var sum time.Duration
	for p, d := range pt {
		if d <= 0 && runtime.GOOS == "linux" { // Linux clocks have ns resolution
			t.Errorf("phase %v got %v", Phase(p), d)
		}
		sum += d
	}
	if sum > wall {
		t.Errorf("phases sum to %v, more than the %v the calls took", sum, wall)
	}
	if Phase(2).String() != "GELU" || Phase(99).String() != "Phase(99)" {
		t.Errorf("phase names: %q, %q", Phase(2), Phase(99))
	}
	m.SetPhaseTimes(nil)
	before := pt
	if _, err := m.Forward(in, tg); err != nil {
		t.Fatal(err)
	}
	if pt != before {
		t.Errorf("SetPhaseTimes(nil) did not stop timing")
	}
}
