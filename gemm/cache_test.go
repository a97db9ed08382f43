package gemm

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// GEMM_BLOCKS=kc,mc,nc runs the tests and benchmarks under another cache blocking, to tune
// blockingFor on a new machine, e.g.
// GEMM_BLOCKS=384,128,1024 go test ./gemm -run=^$ -bench=GPTStep -cpu=1
func init() {
	v := os.Getenv("GEMM_BLOCKS")
	if v == "" {
		return
	}
	var b blocking
	if n, err := fmt.Sscanf(v, "%d,%d,%d", &b.kc, &b.mc, &b.nc); n != 3 || err != nil || b.kc <= 0 || b.mc <= 0 || b.nc <= 0 {
		panic(fmt.Sprintf("GEMM_BLOCKS=%q: want three positive sizes kc,mc,nc", v))
	}
	blocks = b
}

// TestL2Size compares the L2 size read from CPUID with the one Linux reports in sysfs.
func TestL2Size(t *testing.T) {
	got := l2Size()
	if len(asmKernels()) == 0 {
		if got != 0 {
			t.Fatalf("l2Size() = %d in a build without assembly, want 0", got)
		}
		return
	}
	dirs, _ := filepath.Glob("/sys/devices/system/cpu/cpu0/cache/index*")
	for _, d := range dirs {
		level, err1 := os.ReadFile(filepath.Join(d, "level"))
		kind, err2 := os.ReadFile(filepath.Join(d, "type"))
		size, err3 := os.ReadFile(filepath.Join(d, "size"))
		if err1 != nil || err2 != nil || err3 != nil || strings.TrimSpace(string(level)) != "2" || strings.TrimSpace(string(kind)) == "Instruction" {
			continue
		}
		kib, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(string(size)), "K"))
		if err != nil {
			t.Fatalf("sysfs L2 size %q: %v", size, err)
		}
		if got != kib<<10 {
			t.Fatalf("l2Size() = %d, sysfs says %d KiB", got, kib)
		}
		return
	}
	if got != 0 && (got < 64<<10 || got > 64<<20) {
		t.Fatalf("l2Size() = %d, not a plausible L2 size", got)
	}
	t.Logf("no sysfs L2 entry; l2Size() = %d", got)
}

func TestBlockingFor(t *testing.T) {
	sapphire := blocking{kc: 256, mc: 192, nc: 1024}
	zen4 := blocking{kc: 512, mc: 96, nc: 1024}
	for _, c := range []struct {
		l2   int
		want blocking
	}{{0, sapphire}, {512 << 10, zen4}, {1 << 20, zen4}, {2 << 20, sapphire}, {4 << 20, sapphire}} {
		if got := blockingFor(c.l2); got != c.want {
			t.Errorf("blockingFor(%d) = %+v, want %+v", c.l2, got, c.want)
		}
	}
}

// TestSgemmEveryBlocking runs the shapes that cross block edges under each blocking
// blockingFor can choose, whichever this machine uses, and checks that the result does not
// depend on it beyond rounding: changing the depth block changes only where partial sums are
// stored to C.
func TestSgemmEveryBlocking(t *testing.T) {
	saved := blocks
	defer func() { blocks = saved }()
	for _, l2 := range []int{0, 1 << 20} {
		blocks = blockingFor(l2)
		for si, s := range shapes {
			for _, ta := range []bool{false, true} {
				tc := gemmCase{transA: ta, transB: !ta, m: s[0], n: s[1], k: s[2], alpha: 1, beta: 0.5, pad: si % 3}
				check(t, []Kernel{Fast{}}, tc, uint64(si))
			}
		}
		check(t, []Kernel{Fast{}}, gemmCase{transA: true, m: 100, n: 1050, k: 530, alpha: 1, beta: 1, pad: 512 - 100}, 5)
	}
}
