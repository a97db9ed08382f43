package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fadam-go/fadam/experiment/ablate"
	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/experiment/lm"
)

func init() {
	register(command{
		name:    "ablate",
		summary: "sweep FAdam's ρ, ε, ε₂, λ, or trace AdamW → FAdam (paper Appendix C.1)",
		run:     func(ctx context.Context, args []string) error { return runAblate(ctx, args, os.Stdout) },
	})
}

// Ablation defaults: a smaller budget per run than compare, since a sweep trains many runs.
const (
	ablateSteps = 600
	ablateSeeds = 3
)

func runAblate(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprintf(usageOut, "usage: fadam ablate SWEEP [flags]\n\n%s\n\nsweeps: %s\nRun `fadam ablate SWEEP -h` for the flags of a sweep.\n",
				commands["ablate"].summary, strings.Join(ablate.Names(), ", "))
			return flag.ErrHelp
		}
		return usagef("name a sweep: fadam ablate %s [flags]", strings.Join(ablate.Names(), "|"))
	}
	sw, ok := ablate.Sweeps[args[0]]
	if !ok {
		return usagef("unknown sweep %q (want %s)", args[0], strings.Join(ablate.Names(), ", "))
	}
	fs := flag.NewFlagSet("ablate "+sw.Name, flag.ContinueOnError)
	values := fs.String("values", strings.Join(sw.Default, ","), "comma-separated values to sweep")
	mf := addLMFlags(fs, ablateSteps, compareDefaultLR, ablateSeeds)
	fs.StringVar(&mf.out, "out", "./fadam-out", "directory for the report, CSV, plot and the run store runs/ (rerunning the same command reuses finished runs)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	var vals []string
	for _, v := range strings.Split(*values, ",") {
		if v = strings.TrimSpace(v); v != "" {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return usagef("--values is empty")
	}
	lrs, err := mf.lrList()
	if err != nil {
		return asUsage(err)
	}
	if len(lrs) != 1 {
		return usagef("--lr: an ablation runs at one learning rate, got %d", len(lrs))
	}
	settings, err := sw.Build(vals, harness.SharedConfig())
	if err != nil {
		return asUsage(err)
	}
	if err := mf.prepare(); err != nil {
		return err
	}
	corpus, err := mf.loadCorpus()
	if err != nil {
		return err
	}
	task, err := lm.NewTask(corpus, mf.taskConfig())
	if err != nil {
		return err
	}
	opts := sw.Optimizers(settings)
	h, runErr := mf.sweep(ctx, stdout, "ablate "+sw.Name, task, mf.loop(), opts, lrs)
	if h == nil {
		return runErr
	}
	outcomes := sw.Outcomes(h, settings)
	in := ablate.ReportInput{Sweep: sw, Harness: h, Outcomes: outcomes, Task: task, Command: commandLine("ablate", args)}
	if ctx.Err() != nil {
		in.Note = fmt.Sprintf("the sweep was interrupted (%v) with %d of %d runs unfinished; the table holds what finished, and the same command resumes.", ctx.Err(), h.Unfinished(), len(h.Runs))
	}
	path, err := ablate.WriteReport(mf.out, in)
	if err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Fprintln(stdout, ablate.Table(sw, outcomes).Markdown())
	if cs, _ := ablate.Comparisons(sw, outcomes); len(cs) > 0 {
		fmt.Fprintln(stdout, ablate.ComparisonTable(cs).Markdown())
	}
	for _, pt := range sw.Paper {
		fmt.Fprintln(stdout, pt.Caption)
		fmt.Fprintln(stdout, pt.Table.Markdown())
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return finish(ctx, h, runErr)
}
