package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/experiment/ablate"
	"github.com/fadam-go/fadam/optimizers"
	"github.com/fadam-go/fadam/report"
)

func init() {
	register(command{
		name:    "ablate",
		summary: "sweep FAdam's ρ, ε, ε₂, λ, or trace AdamW → FAdam (paper Appendix C.1)",
		run:     runAblate,
	})
}

// Ablation defaults: a smaller budget per run than compare, since a sweep trains many runs.
const (
	ablateSteps = 600
	ablateSeeds = 3
)

func runAblate(ctx context.Context, args []string) error {
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
	seeds := fs.Int("seeds", ablateSeeds, "seeds per value")
	values := fs.String("values", strings.Join(sw.Default, ","), "comma-separated values to sweep")
	out := fs.String("out", "./fadam-out", "directory for the report, CSV and plot")
	parallel := fs.Int("parallel", runtime.GOMAXPROCS(0), "runs trained at once")
	quiet := fs.Bool("quiet", false, "no progress bar")
	mf := addLMFlags(fs, ablateSteps)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *seeds <= 0 || *parallel <= 0 {
		return usagef("--seeds (%d) and --parallel (%d) must be positive", *seeds, *parallel)
	}
	cfg, err := mf.config()
	if err != nil {
		return asUsage(err)
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
	// The swept values are applied to the shared configuration before these factories run, so
	// they set only what compare's lm.NamedOptimizer sets and the sweeps leave alone: AdamW is
	// PyTorch's, without update clipping; FAdam keeps Algorithm 1's constants from the shared
	// configuration (fadam.Defaults).
	factories := ablate.Factories{
		"fadam": func(c fadam.Config) (fadam.Stepper, error) { return optimizers.New("fadam", c) },
		"adamw": func(c fadam.Config) (fadam.Stepper, error) {
			c.Eps, c.Clip = 1e-8, 0
			return optimizers.New("adam", c)
		},
	}
	settings, err := sw.Build(vals, cfg.Opt, factories)
	if err != nil {
		return asUsage(err)
	}
	corpus, err := mf.loadCorpus()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("creating --out: %w", err)
	}
	seedList := make([]uint64, *seeds)
	for i := range seedList {
		seedList[i] = uint64(i + 1)
	}
	runs := 0
	for _, s := range settings {
		runs += len(s.Contenders) * *seeds
	}
	fmt.Fprintf(os.Stderr, "fadam ablate %s: %d values, %d runs of %d steps (%d at a time), model %+v\n",
		sw.Name, len(settings), runs, mf.steps, *parallel, cfg.Model)
	bar := report.NewProgress(runs*mf.steps, "ablate "+sw.Name, *quiet)
	var done atomic.Int64
	start := time.Now()
	outcomes, runErr := ablate.Run(ctx, corpus, cfg, settings, seedList, *parallel, func() {
		bar.Set(int(done.Add(1)), "")
	})
	bar.Finish()
	in := ablate.ReportInput{Sweep: sw, Outcomes: outcomes, Config: cfg, Seeds: seedList,
		Command: commandLine("ablate", args), Elapsed: time.Since(start)}
	if runErr != nil {
		in.Note = "the sweep was interrupted (" + runErr.Error() + "); the table holds what finished."
	}
	path, err := ablate.WriteReport(*out, in)
	if err != nil {
		return err
	}
	fmt.Println(ablate.Table(sw, outcomes, mf.steps).Markdown())
	for _, pt := range sw.Paper {
		fmt.Println(pt.Caption)
		fmt.Println(pt.Table.Markdown())
	}
	fmt.Printf("report: %s (%s)\n", path, time.Since(start).Round(time.Second))
	return runErr
}
