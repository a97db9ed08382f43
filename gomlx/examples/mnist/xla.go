//go:build xla

package main

// Built with -tags xla, the example also links GoMLX's XLA backend; select it with
// GOMLX_BACKEND=xla:cpu (or xla:cuda).
import _ "github.com/gomlx/gomlx/backends/xla"
