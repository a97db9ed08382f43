package text_test

import (
	"fmt"
	"strings"

	"github.com/fadam-go/fadam/data/text"
)

func ExampleSampler() {
	data := []byte(strings.Repeat("hello, world. ", 4))
	s, err := text.NewSampler(data, 2, 8, 1)
	if err != nil {
		panic(err)
	}
	in, tg := make([]int32, 16), make([]int32, 16)
	s.Next(in, tg)
	for r := range 2 {
		var a, b strings.Builder
		for i := range 8 {
			a.WriteByte(byte(in[r*8+i]))
			b.WriteByte(byte(tg[r*8+i]))
		}
		fmt.Printf("%q -> %q\n", a.String(), b.String())
	}
	// Output:
	// "orld. he" -> "rld. hel"
	// "o, world" -> ", world."
}
