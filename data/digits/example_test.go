package digits_test

import (
	"fmt"

	"github.com/fadam-go/fadam/data/digits"
)

func ExampleMakeSpec() {
	s := digits.MakeSpec(2024, digits.Test, 0)
	labels, _ := s.Labels()
	fmt.Println(len(s.Words) >= 1 && len(s.Words) <= 7, s.File())
	fmt.Println(digits.Transcript(labels) == s.Text())
	// Output:
	// true test-00000.wav
	// true
}
