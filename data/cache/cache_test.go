package cache

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRootPrecedence(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", home) // os.UserCacheDir on Linux
	t.Setenv("HOME", home)
	t.Setenv(EnvVar, "")
	env := t.TempDir()
	flagDir := t.TempDir()
	user, err := os.UserCacheDir()
	if err != nil {
		t.Skip("no user cache directory on this system:", err)
	}
	cases := []struct {
		name, env, override, want string
	}{
		{"default", "", "", filepath.Join(user, "fadam-go")},
		{"environment", env, "", env},
		{"flag beats environment", env, flagDir, flagDir},
	}
	for _, c := range cases {
		t.Setenv(EnvVar, c.env)
		got, err := Root(c.override)
		if err != nil || got != c.want {
			t.Errorf("%s: Root(%q) = %q, %v; want %q", c.name, c.override, got, err, c.want)
		}
	}
}

func TestDirCreates(t *testing.T) {
	root := t.TempDir()
	d, err := Dir(root, "asr-digits")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(d); err != nil || !st.IsDir() || d != filepath.Join(root, "asr-digits") {
		t.Fatalf("Dir = %q, %v", d, err)
	}
	for _, bad := range []string{"", "../x", "/abs"} {
		if _, err := Dir(root, bad); err == nil {
			t.Errorf("Dir(%q) accepted", bad)
		}
	}
}
