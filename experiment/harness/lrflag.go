package harness

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// LRList is a flag.Value holding a comma-separated list of peak learning rates, such as
// "1e-3,3e-3,1e-2". Every rate must be a positive finite number (NaN, 0, negative and infinite
// rates are refused when the flag is parsed) and none may repeat; the list keeps the order given.
type LRList []float64

// String formats the list as the flag takes it.
func (l *LRList) String() string {
	if l == nil {
		return ""
	}
	s := make([]string, len(*l))
	for i, lr := range *l {
		s[i] = strconv.FormatFloat(lr, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

// Set parses a comma-separated list, replacing the current one.
func (l *LRList) Set(s string) error {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		lr, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return fmt.Errorf("learning rate %q is not a number", f)
		}
		if !(lr > 0) || math.IsInf(lr, 0) {
			return fmt.Errorf("learning rate %q must be positive and finite", f)
		}
		if slices.Contains(out, lr) {
			return fmt.Errorf("learning rate %q listed twice", f)
		}
		out = append(out, lr)
	}
	if len(out) == 0 {
		return fmt.Errorf("no learning rate in %q", s)
	}
	*l = out
	return nil
}
