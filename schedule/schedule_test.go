package schedule

import (
	"math"
	"strings"
	"testing"
)

// mustSchedule(t)(constructor(...)) fails the test when the constructor returns an error.
func mustSchedule(t *testing.T) func(Schedule, error) Schedule {
	return func(s Schedule, err error) Schedule {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// TestValues checks each schedule against values worked out by hand.
func TestValues(t *testing.T) {
	c := mustSchedule(t)(Constant(0.5))
	w := mustSchedule(t)(LinearWarmup(1, 4))
	w0 := mustSchedule(t)(LinearWarmup(2, 0))
	// Cosine(1, 0, 4): t=1 → (1+cos(π/4))/2 = 0.853553…, t=2 → 0.5, t=3 → 0.146446…, t=4 → 0.
	cos := mustSchedule(t)(Cosine(1, 0, 4))
	// WarmupCosine(1, 0.2, 2, 6): warmup 0.5 at t=1, peak at t=2; then p=(t-2)/4:
	// t=4 → 0.2+0.8·0.5 = 0.6; t=6 → 0.2; t=3 → 0.2+0.8·(1+cos(π/4))/2 = 0.882842….
	wc := mustSchedule(t)(WarmupCosine(1, 0.2, 2, 6))
	// LinearDecay(1, 0, 2, 6): t=1 → 0.5, t=2 → 1, t=3 → 0.75, t=4 → 0.5, t=6 → 0.
	ld := mustSchedule(t)(LinearDecay(1, 0, 2, 6))

	tests := []struct {
		name string
		s    Schedule
		step int
		want float64
	}{
		{"constant t=1", c, 1, 0.5},
		{"constant t=1000", c, 1000, 0.5},
		{"warmup t=0 clamps", w, 0, 0.25},
		{"warmup t=1", w, 1, 0.25},
		{"warmup t=3", w, 3, 0.75},
		{"warmup t=4", w, 4, 1},
		{"warmup t=9", w, 9, 1},
		{"no warmup", w0, 1, 2},
		{"cosine t=1", cos, 1, 0.8535533905932737},
		{"cosine t=2", cos, 2, 0.5},
		{"cosine t=3", cos, 3, 0.14644660940672624},
		{"cosine t=4", cos, 4, 0},
		{"cosine t=5", cos, 5, 0},
		{"warmup-cosine t=1", wc, 1, 0.5},
		{"warmup-cosine t=2", wc, 2, 1},
		{"warmup-cosine t=3", wc, 3, 0.8828427124746190},
		{"warmup-cosine t=4", wc, 4, 0.6},
		{"warmup-cosine t=6", wc, 6, 0.2},
		{"warmup-cosine t=100", wc, 100, 0.2},
		{"linear-decay t=1", ld, 1, 0.5},
		{"linear-decay t=2", ld, 2, 1},
		{"linear-decay t=3", ld, 3, 0.75},
		{"linear-decay t=4", ld, 4, 0.5},
		{"linear-decay t=6", ld, 6, 0},
		{"linear-decay t=7", ld, 7, 0},
		{"func", Func(func(t int) float64 { return float64(t) / 10 }), 3, 0.3},
	}
	for _, tt := range tests {
		if got := tt.s.LR(tt.step); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: LR(%d) = %.15g, want %.15g", tt.name, tt.step, got, tt.want)
		}
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"negative constant", second(Constant(-1)), "non-negative"},
		{"NaN constant", second(Constant(math.NaN())), "finite"},
		{"infinite peak", second(LinearWarmup(math.Inf(1), 3)), "finite"},
		{"negative warmup", second(LinearWarmup(1, -1)), "warmup"},
		{"floor above peak", second(Cosine(0.1, 0.2, 10)), "above the peak"},
		{"negative floor", second(Cosine(0.1, -0.2, 10)), "floor"},
		{"zero total", second(Cosine(1, 0, 0)), "total steps (0) must exceed warmup steps (0)"},
		{"total below warmup", second(WarmupCosine(1, 0, 10, 5)), "must exceed warmup"},
		{"negative warmup cosine", second(WarmupCosine(1, 0, -1, 5)), "warmup"},
		{"linear decay total", second(LinearDecay(1, 0, 3, 3)), "must exceed warmup"},
	}
	for _, tt := range tests {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: got error %v, want one containing %q", tt.name, tt.err, tt.want)
		}
	}
}

func second(_ Schedule, err error) error { return err }

// TestMonotone checks warmup never decreases and decay never increases the rate.
func TestMonotone(t *testing.T) {
	for _, s := range []Schedule{
		mustSchedule(t)(WarmupCosine(3e-4, 3e-5, 50, 500)),
		mustSchedule(t)(LinearDecay(3e-4, 0, 50, 500)),
	} {
		prev := 0.0
		for step := 1; step <= 600; step++ {
			lr := s.LR(step)
			if step <= 50 && lr < prev || step > 50 && lr > prev {
				t.Fatalf("%v: LR(%d) = %g after %g breaks monotonicity", s, step, lr, prev)
			}
			prev = lr
		}
	}
}
