package gpt

import (
	"math"
	"runtime"
	"testing"

	"github.com/fadam-go/fadam/nn"
)

func TestParamCountAndMemory(t *testing.T) {
	for _, c := range []Config{
		{D: 16, Layers: 1, Heads: 2, Ctx: 8, Batch: 2},
		{D: 64, Layers: 2, Heads: 4, Ctx: 64, Batch: 16},
		{D: 32, Layers: 3, Heads: 4, Ctx: 256, Batch: 4},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m, err := New(c, 1)
		if err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		if got := nn.Count(m.Params()); got != c.ParamCount() {
			t.Errorf("%+v: ParamCount %d, model has %d", c, c.ParamCount(), got)
		}
		// The estimate covers the model's own buffers; layers keep small scratch of their own.
		alloc := float64(after.TotalAlloc - before.TotalAlloc)
		if est := c.MemoryBytes(); math.Abs(est-alloc)/alloc > 0.25 {
			t.Errorf("%+v: estimate %.0f bytes, New allocated %.0f", c, est, alloc)
		}
		runtime.KeepAlive(m)
	}
	huge := Config{D: 64, Layers: 2, Heads: 4, Ctx: 10000000, Batch: 16}
	if est := huge.MemoryBytes(); !(est > 1e12) {
		t.Fatalf("ctx 10⁷: estimate %g bytes", est)
	}
}
