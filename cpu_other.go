//go:build !amd64 || purego

package fadam

// useAVX is false: this build has no assembly.
var useAVX = false
