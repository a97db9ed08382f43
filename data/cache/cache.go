// Package cache locates where the experiments keep data they can rebuild but would rather not:
// the synthesised speech corpus (data/digits) and the MNIST feature classifier of the VQ-VAE
// experiment. Caches live outside any output directory, so that every run, whatever its --out,
// reuses them.
//
// The root is, in order of precedence: a directory given explicitly (the commands' --cache
// flag), the FADAM_CACHE environment variable, or "fadam-go" inside os.UserCacheDir()
// ($XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS, %LocalAppData% on Windows).
package cache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EnvVar names the environment variable that overrides the default root.
const EnvVar = "FADAM_CACHE"

// Root returns the cache root: override when it is not empty, otherwise $FADAM_CACHE when set,
// otherwise os.UserCacheDir()/fadam-go. It does not create the directory.
func Root(override string) (string, error) {
	if override != "" {
		return override, nil
	}
	if d := os.Getenv(EnvVar); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache: no user cache directory (%w); set %s or pass --cache", err, EnvVar)
	}
	return filepath.Join(d, "fadam-go"), nil
}

// Dir returns the cache directory sub inside Root(override), creating it if needed.
func Dir(override, sub string) (string, error) {
	if sub == "" || filepath.IsAbs(sub) || !filepath.IsLocal(sub) {
		return "", errors.New("cache: sub-directory must be a relative path inside the cache, got " + fmt.Sprintf("%q", sub))
	}
	root, err := Root(override)
	if err != nil {
		return "", err
	}
	d := filepath.Join(root, sub)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	return d, nil
}
