// Package atomicfile writes files so that readers see either the old contents or the complete
// new ones, never a partial file.
//
// # Temporary files
//
// Write streams the new contents into a temporary file in the target's directory, named
// ".<target>.tmp-<digits>" (a hidden file beside the target, <digits> random), and renames it
// over the target when it is complete. A write that fails removes its temporary; one whose
// process is killed leaves it behind. Every Write therefore first removes stale temporaries of
// the same target: regular files whose names match that pattern exactly, unmodified for
// [StaleAfter], and, where the platform has flock(2) (Linux, macOS, the BSDs), not locked: a
// writer holds an exclusive lock on its temporary while it writes, and the lock dies with its
// process. Without flock the age alone decides, with a longer bound ([StaleAfterUnlocked]).
// Temporaries of other targets and other files are never touched.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// StaleAfter is how long an unlocked temporary must have gone unmodified before a Write of the
// same target removes it, where the platform has file locks. It covers the moment between
// creating a temporary and locking it.
const StaleAfter = time.Minute

// StaleAfterUnlocked is that age on platforms without file locks, where a temporary of a
// writer that is merely slow cannot be told from a dead one's by its lock.
const StaleAfterUnlocked = time.Hour

// tempInfix separates the target's name from the random digits in a temporary's name.
const tempInfix = ".tmp-"

// Write calls write with a temporary file in path's directory, syncs it, makes it readable
// (0644) and renames it over path; the rename is then synced too where the platform allows.
// On any error, including one returned by write, the temporary file is removed, path is left
// as it was, and the error is returned wrapped with path. Stale temporaries of path left by
// killed writers are removed first (see the package documentation).
func Write(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	removeStale(dir, base, time.Now())
	f, err := os.CreateTemp(dir, "."+base+tempInfix+"*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	lockFile(f) // best effort: without the lock, the age bound still protects the file
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	// Make the rename itself durable; not every platform can sync a directory, so ignore errors.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// isTemporary reports whether name (a base name) is that of a temporary Write creates for the
// target named base: "." + base + ".tmp-" followed by one or more decimal digits.
func isTemporary(name, base string) bool {
	digits, ok := strings.CutPrefix(name, "."+base+tempInfix)
	if !ok || digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// removeStale removes the stale temporaries of target base in dir, ignoring every error: the
// cleaning is a courtesy and must never make a Write fail.
func removeStale(dir, base string, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	staleAfter := StaleAfterUnlocked
	if canLock {
		staleAfter = StaleAfter
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isTemporary(e.Name(), base) {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < staleAfter {
			continue
		}
		removeIfUnlocked(filepath.Join(dir, e.Name()), info)
	}
}
