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
	out, err := ParseFloats(s, func(lr float64) error {
		if !(lr > 0) {
			return fmt.Errorf("learning rate %v must be positive and finite", lr)
		}
		return nil
	})
	if err != nil {
		return err
	}
	*l = out
	return nil
}

// ParseFloats parses a comma-separated list of finite numbers, keeping their order, refusing an
// empty list, a repeated value and any value check rejects (check may be nil).
func ParseFloats(list string, check func(float64) error) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%q is not a finite number", f)
		}
		if check != nil {
			if err := check(v); err != nil {
				return nil, err
			}
		}
		if slices.Contains(out, v) {
			return nil, fmt.Errorf("%q listed twice", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no number in %q", list)
	}
	return out, nil
}
