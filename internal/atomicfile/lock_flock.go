//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package atomicfile

import (
	"os"
	"syscall"
)

// canLock reports whether this platform has flock(2), which tells a live writer's temporary
// from a dead one's.
const canLock = true

// lockFile takes an exclusive lock on f, held until f is closed or its process ends.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// removeIfUnlocked removes the file at path if it is still the regular file info describes
// and no process holds a lock on it. It holds the lock while removing, so a writer cannot
// take the file back in between.
func removeIfUnlocked(path string, info os.FileInfo) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if now, err := f.Stat(); err != nil || !now.Mode().IsRegular() || !os.SameFile(now, info) {
		return
	}
	if lockFile(f) != nil {
		return // a live writer holds it
	}
	os.Remove(path)
}
