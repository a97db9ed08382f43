package report

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Progress is a progress bar for a training loop, drawn on stderr. A Progress created quiet,
// or when stderr is not a terminal, draws nothing and its methods do nothing, so loops can
// update it unconditionally. A nil *Progress is also valid and silent.
type Progress struct {
	bar  *progressbar.ProgressBar
	desc string
}

// NewProgress starts a progress bar over total steps labelled description (for example
// "adamw seed 2"). It draws nothing when quiet is true (set it in tests and for --quiet) or
// when stderr is not a terminal.
func NewProgress(total int, description string, quiet bool) *Progress {
	visible := !quiet && term.IsTerminal(int(os.Stderr.Fd()))
	return newProgress(os.Stderr, total, description, visible)
}

func newProgress(w io.Writer, total int, description string, visible bool) *Progress {
	p := &Progress{desc: description}
	if !visible {
		return p
	}
	p.bar = progressbar.NewOptions(max(total, 1),
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(description),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("step"),
		progressbar.OptionShowIts(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	return p
}

// Set moves the bar to step (the number of steps done) and shows extra after the description,
// for example "loss 2.314". An empty extra shows the description alone.
func (p *Progress) Set(step int, extra string) {
	if p == nil || p.bar == nil {
		return
	}
	if extra != "" {
		p.bar.Describe(p.desc + "  " + extra)
	} else {
		p.bar.Describe(p.desc)
	}
	p.bar.Set(step)
}

// Finish ends the bar's line, leaving the bar where the last Set put it, so a run stopped early
// shows how far it got. Call it once, when the loop is done or abandoned.
func (p *Progress) Finish() {
	if p == nil || p.bar == nil {
		return
	}
	if !p.bar.IsFinished() {
		p.bar.Exit() // runs the completion hook, which ends the line
	}
}
