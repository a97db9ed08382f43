package harness

import (
	"runtime/debug"
	"testing"
)

func TestRevisionOf(t *testing.T) {
	for _, c := range []struct {
		name     string
		settings []debug.BuildSetting
		want     string
	}{
		{"none", nil, ""},
		{"clean", []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "false"}}, "0123456789ab"},
		{"dirty", []debug.BuildSetting{{Key: "vcs.modified", Value: "true"}, {Key: "vcs.revision", Value: "0123456789abcdef0123"}}, "0123456789ab+dirty"},
		{"short", []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}}, "abc"},
		{"modified without revision", []debug.BuildSetting{{Key: "vcs.modified", Value: "true"}}, ""},
	} {
		if got := revisionOf(c.settings); got != c.want {
			t.Errorf("%s: revisionOf = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestOutcomeRevisions(t *testing.T) {
	run := func(code string, steps, diverged int) Run {
		return Run{Result: Result{Code: code, Steps: steps, DivergedAt: diverged}}
	}
	for _, c := range []struct {
		name string
		runs []Run
		want string
	}{
		{"none recorded", []Run{run("", 10, 0), run("", 10, 0)}, ""},
		{"one revision", []Run{run("aaa", 10, 0), run("aaa", 3, 3)}, "code revision aaa"},
		{"never started runs are not counted", []Run{run("aaa", 10, 0), run("", 0, 0)}, "code revision aaa"},
		{"mixed", []Run{run("bbb", 10, 0), run("aaa", 10, 0), run("", 10, 0), run("bbb", 10, 0)},
			"code revisions aaa (1 run), bbb (2 runs), no recorded revision (1 run)"},
	} {
		o := &Outcome{Runs: c.runs}
		if got := o.Revisions(); got != c.want {
			t.Errorf("%s: Revisions = %q, want %q", c.name, got, c.want)
		}
	}
}
