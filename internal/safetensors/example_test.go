package safetensors_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/fadam-go/fadam/internal/safetensors"
)

func Example() {
	dir, err := os.MkdirTemp("", "safetensors")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "state.safetensors")

	tensors := []safetensors.Tensor{
		{Name: "w", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}},
		{Name: "step", Shape: []int{}, Data: []float32{10}},
	}
	if err := safetensors.WriteFile(path, tensors, map[string]string{"format_version": "1"}); err != nil {
		log.Fatal(err)
	}
	got, meta, err := safetensors.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range got {
		fmt.Println(t.Name, t.Shape, t.Data)
	}
	fmt.Println(meta)
	// Output:
	// w [2 2] [1 2 3 4]
	// step [] [10]
	// map[format_version:1]
}
