package report

import (
	"math"
	"strconv"
	"testing"
)

// Over a narrow range every major tick label must read back as its own value.
func TestLinearTicksLabelEachValue(t *testing.T) {
	for _, r := range [][2]float64{{2.98, 3.11}, {0, 1000}, {-0.5, 0.5}, {1e-4, 3e-4}, {2.4781, 2.4962}} {
		seen := map[string]bool{}
		for _, tk := range (linearTicks{}).Ticks(r[0], r[1]) {
			if tk.Label == "" {
				continue
			}
			if seen[tk.Label] {
				t.Errorf("range %v: label %q twice", r, tk.Label)
			}
			seen[tk.Label] = true
			v, err := strconv.ParseFloat(tk.Label, 64)
			if err != nil || math.Abs(v-tk.Value) > 1e-9*math.Max(1, math.Abs(tk.Value)) {
				t.Errorf("range %v: tick %v labelled %q", r, tk.Value, tk.Label)
			}
		}
	}
}
