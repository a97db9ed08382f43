//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package atomicfile

import "os"

// canLock reports whether this platform has flock(2); here it has not, and the age of a
// temporary alone decides whether it is stale.
const canLock = false

func lockFile(*os.File) error { return nil }

// removeIfUnlocked removes the file at path if it is still the regular file info describes.
func removeIfUnlocked(path string, info os.FileInfo) {
	if now, err := os.Lstat(path); err != nil || !now.Mode().IsRegular() || !os.SameFile(now, info) {
		return
	}
	os.Remove(path)
}
