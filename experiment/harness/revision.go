package harness

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
)

// Revision is the version-control revision of the code this program was built from, as Go
// stamps it into binaries built inside a repository: the first 12 hex digits of the commit,
// with "+dirty" when the work tree had uncommitted changes. It is empty when the build carries
// no revision (`go run`, `go test`, or a build outside the repository). Every run a sweep
// trains records it (Result.Code), so a report can say which code produced its numbers even
// though the run store reuses a run whenever its configuration matches.
func Revision() string { return revision() }

var revision = sync.OnceValue(func() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	return revisionOf(info.Settings)
})

// revisionOf reads the revision out of a build's settings.
func revisionOf(settings []debug.BuildSetting) string {
	var rev string
	dirty := false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return ""
	}
	rev = rev[:min(len(rev), 12)]
	if dirty {
		rev += "+dirty"
	}
	return rev
}

// Revisions summarises which code produced o's runs: "code revision abc123def456" when one
// revision trained them all, else each revision with its number of runs, and the runs that
// carry none (trained by a build without a revision, or before runs recorded it). It is empty
// when no run records a revision.
func (o *Outcome) Revisions() string {
	count := map[string]int{}
	for _, r := range o.Runs {
		if r.Result.Steps > 0 || r.Result.Diverged() {
			count[r.Result.Code]++
		}
	}
	var revs []string
	for rev := range count {
		if rev != "" {
			revs = append(revs, rev)
		}
	}
	if len(revs) == 0 {
		return ""
	}
	slices.Sort(revs)
	if len(revs) == 1 && count[""] == 0 {
		return "code revision " + revs[0]
	}
	parts := make([]string, 0, len(revs)+1)
	for _, rev := range revs {
		parts = append(parts, fmt.Sprintf("%s (%s)", rev, runs(count[rev])))
	}
	if n := count[""]; n > 0 {
		parts = append(parts, fmt.Sprintf("no recorded revision (%s)", runs(n)))
	}
	return "code revisions " + strings.Join(parts, ", ")
}

// runs is "1 run" or "n runs".
func runs(n int) string {
	if n == 1 {
		return "1 run"
	}
	return fmt.Sprintf("%d runs", n)
}
