package ablate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/report"
)

// Comparison is one paired comparison of an ablation: a value against the sweep's reference
// (or the previous stage), or two contenders at one value.
type Comparison struct {
	Label    string // what is compared, as the report names it
	Interval harness.Interval
}

// sameValue reports whether two value labels name the same value: equal as text, or as numbers
// ("1e-2" and "0.01").
func sameValue(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if strings.EqualFold(a, b) {
		return true
	}
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	return errA == nil && errB == nil && x == y
}

// Comparisons pairs the outcomes by seed on the test metric: for each contender, every value
// against the sweep's reference value (every stage against the previous one and the last
// against the first when the sweep has no reference); and, when a sweep has several
// contenders, the first against each other at every value. It returns nil, false when the
// reference value is not among the outcomes.
func Comparisons(sw Sweep, outcomes []Outcome) ([]Comparison, bool) {
	if len(outcomes) == 0 {
		return nil, true
	}
	contenders := outcomes[0].Setting.Contenders
	var out []Comparison
	add := func(a, b Outcome, ci int) {
		iv := harness.Paired(a.Cells[ci], b.Cells[ci])
		label := fmt.Sprintf("%s = %s − %s = %s", sw.Symbol, a.Setting.Label, sw.Symbol, b.Setting.Label)
		if sw.Reference == "" { // stages name themselves
			label = a.Setting.Label + " − " + b.Setting.Label
		}
		if len(contenders) > 1 {
			label = contenders[ci].Name + ": " + label
		}
		out = append(out, Comparison{Label: label, Interval: iv})
	}
	found := true
	if sw.Reference == "" {
		for ci := range contenders {
			for i := 1; i < len(outcomes); i++ {
				add(outcomes[i], outcomes[i-1], ci)
			}
			if len(outcomes) > 2 {
				add(outcomes[len(outcomes)-1], outcomes[0], ci)
			}
		}
	} else {
		ref := -1
		for i, o := range outcomes {
			if sameValue(o.Setting.Label, sw.Reference) {
				ref = i
				break
			}
		}
		found = ref >= 0
		for ci := range contenders {
			for i := 0; found && i < len(outcomes); i++ {
				if i != ref {
					add(outcomes[i], outcomes[ref], ci)
				}
			}
		}
	}
	for ci := 1; ci < len(contenders); ci++ {
		for _, o := range outcomes {
			iv := harness.Paired(o.Cells[0], o.Cells[ci])
			label := fmt.Sprintf("%s − %s at %s = %s", contenders[0].Name, contenders[ci].Name, sw.Symbol, o.Setting.Label)
			out = append(out, Comparison{Label: label, Interval: iv})
		}
	}
	return out, found
}

// inWords is a comparison's result in a few words.
func inWords(iv harness.Interval) string {
	switch {
	case iv.N() < 2:
		return "no interval (fewer than two paired seeds)"
	case iv.Hi < 0:
		return "first lower"
	case iv.Lo > 0:
		return "first higher"
	}
	return "no difference resolved"
}

// ComparisonTable is the paired comparisons as a table: the difference in test loss with its
// 95% Student-t interval over the seeds both sides completed.
func ComparisonTable(cs []Comparison) report.Table {
	t := report.Table{Header: []string{"comparison (first − second)", "test loss difference [95% interval]", "paired seeds", "result"}}
	for _, c := range cs {
		t.Rows = append(t.Rows, []string{c.Label, c.Interval.String(4), strconv.Itoa(c.Interval.N()), inWords(c.Interval)})
	}
	return t
}
