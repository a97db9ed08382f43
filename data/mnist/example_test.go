package mnist_test

import (
	"bytes"
	"fmt"

	"github.com/fadam-go/fadam/data/mnist"
)

// ExampleReadLabels parses a raw (not gzipped) IDX file of three labels.
func ExampleReadLabels() {
	idx := []byte{
		0, 0, 8, 1, // magic: unsigned bytes, rank 1
		0, 0, 0, 3, // three items
		7, 2, 1,
	}
	labels, err := mnist.ReadLabels(bytes.NewReader(idx))
	fmt.Println(labels, err)

	_, err = mnist.ReadLabels(bytes.NewReader(idx[:9]))
	fmt.Println(err)
	// Output:
	// [7 2 1] <nil>
	// mnist: malformed IDX file: truncated data: 1 of 3 bytes: unexpected EOF
}
