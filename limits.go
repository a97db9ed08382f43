package fadam

import (
	"fmt"
	"unicode/utf8"
)

// MaxSteps is the largest step count an optimizer reaches: Step refuses to go further and Load
// refuses a checkpoint beyond it. Up to 2^53 the step number t and t−1 are exact and distinct
// in float64, which the bias corrections β^t need; a counter near 2^63 would wrap negative.
const MaxSteps = 1 << 53

// checkStepLimit reports whether one more step may be taken after step completed ones.
func checkStepLimit(step int64) error {
	if step >= MaxSteps {
		return fmt.Errorf("%w: the step count %d has reached the maximum of %d steps", ErrInvalidConfig, step, int64(MaxSteps))
	}
	return nil
}

// checkName validates a parameter name: non-empty and valid UTF-8 (a checkpoint stores names
// as JSON strings, where invalid bytes would come back as U+FFFD, another name).
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty name", ErrInvalidParam)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: name %q is not valid UTF-8", ErrInvalidParam, name)
	}
	return nil
}
