package atomicfile

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteReplacesOrLeavesAlone(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	put := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	if err := Write(path, put("one")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error { io.WriteString(w, "partial"); return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("writer's error not returned: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "one" {
		t.Fatalf("failed write changed the file to %q", got)
	}
	if err := Write(path, put("two")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "two" {
		t.Fatalf("file holds %q, want two", got)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %d entries", len(entries))
	}
	if err := Write(filepath.Join(dir, "no", "such", "f"), put("x")); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

func TestIsTemporary(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{".f.txt.tmp-123", true},
		{".f.txt.tmp-0", true},
		{".f.txt.tmp-", false},
		{".f.txt.tmp-12a", false},
		{"f.txt.tmp-123", false},
		{".g.txt.tmp-123", false},
		{".f.txt.tmp-123.bak", false},
		{".f.txt", false},
	} {
		if got := isTemporary(tc.name, "f.txt"); got != tc.want {
			t.Errorf("isTemporary(%q, f.txt) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestStaleTemporariesRemoved: a killed Write leaves its temporary behind; the next Write of the
// same target removes it, and nothing else: not a recent temporary, not one a live writer
// holds locked, not another target's, not a file that only looks similar, not a directory.
func TestStaleTemporariesRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	old := time.Now().Add(-2 * StaleAfterUnlocked)
	mk := func(name string, mtime time.Time) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := mk(".f.txt.tmp-111", old)
	recent := mk(".f.txt.tmp-222", time.Now())
	locked := mk(".f.txt.tmp-333", old)
	other := mk(".g.txt.tmp-444", old)
	lookalike := mk(".f.txt.tmp-55x", old)
	if err := os.Mkdir(filepath.Join(dir, ".f.txt.tmp-666"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, filepath.Join(dir, ".f.txt.tmp-777")); err != nil {
		t.Fatal(err)
	}
	if canLock { // a live writer: this process holds the lock through another descriptor
		f, err := os.Open(locked)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := lockFile(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := Write(path, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }
	if exists(stale) {
		t.Error("the stale temporary is still there")
	}
	keep := []string{recent, other, lookalike, filepath.Join(dir, ".f.txt.tmp-666"), filepath.Join(dir, ".f.txt.tmp-777"), path}
	if canLock {
		keep = append(keep, locked)
	}
	for _, p := range keep {
		if !exists(p) {
			t.Errorf("%s was removed", filepath.Base(p))
		}
	}
}

// TestKilledWriter runs a real writer in a child process that blocks halfway through its write:
// while it lives, its temporary stays (even when old); once it is killed, the next Write of the
// same target removes what it left.
func TestKilledWriter(t *testing.T) {
	if target := os.Getenv("ATOMICFILE_TEST_CHILD"); target != "" {
		Write(target, func(w io.Writer) error {
			io.WriteString(w, "partial")
			time.Sleep(time.Hour) // until killed
			return nil
		})
		return
	}
	if !canLock {
		t.Skip("without file locks only the age tells stale temporaries apart (TestStaleTemporariesRemoved)")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt")
	child := exec.Command(os.Args[0], "-test.run=^TestKilledWriter$")
	child.Env = append(os.Environ(), "ATOMICFILE_TEST_CHILD="+path)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	var tmp string
	for deadline := time.Now().Add(20 * time.Second); tmp == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		matches, _ := filepath.Glob(filepath.Join(dir, ".ckpt.tmp-*"))
		if len(matches) == 1 {
			if st, err := os.Stat(matches[0]); err == nil && st.Size() > 0 {
				tmp = matches[0]
			}
		}
	}
	if tmp == "" {
		t.Fatal("the child's temporary file did not appear")
	}
	old := time.Now().Add(-2 * StaleAfter)
	put := func() {
		if err := os.Chtimes(tmp, old, old); err != nil {
			t.Fatal(err)
		}
		if err := Write(path, func(w io.Writer) error { _, err := io.WriteString(w, "whole"); return err }); err != nil {
			t.Fatal(err)
		}
	}
	put()
	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("a live writer's temporary was removed: %v", err)
	}
	child.Process.Kill()
	child.Wait()
	put()
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the killed writer's temporary is still there: %v", err)
	}
}
