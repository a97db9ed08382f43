package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/text"
	"github.com/fadam-go/fadam/experiment/ablate"
	"github.com/fadam-go/fadam/experiment/lm"
	"github.com/fadam-go/fadam/models/gpt"
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
	ablateSteps = 300
	ablateSeeds = 2
)

func runAblate(ctx context.Context, args []string) error {
	usage := "usage: fadam ablate " + strings.Join(ablate.Names(), "|") + " [flags]"
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(os.Stderr, usage)
			return flag.ErrHelp
		}
		return errors.New(usage)
	}
	sw, ok := ablate.Sweeps[args[0]]
	if !ok {
		return fmt.Errorf("unknown sweep %q; %s", args[0], usage)
	}
	fs := flag.NewFlagSet("ablate "+sw.Name, flag.ContinueOnError)
	steps := fs.Int("steps", ablateSteps, "optimizer steps per run")
	seeds := fs.Int("seeds", ablateSeeds, "seeds per value")
	values := fs.String("values", strings.Join(sw.Default, ","), "comma-separated values to sweep")
	out := fs.String("out", "./fadam-out", "directory for the report, CSV and plot")
	parallel := fs.Int("parallel", runtime.GOMAXPROCS(0), "runs trained at once")
	quiet := fs.Bool("quiet", false, "no progress bar")
	mf := bindModelFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *seeds <= 0 || *parallel <= 0 {
		return fmt.Errorf("--seeds (%d) and --parallel (%d) must be positive", *seeds, *parallel)
	}
	cfg := mf.config(*steps)
	if err := cfg.Validate(); err != nil {
		return err
	}
	var vals []string
	for _, v := range strings.Split(*values, ",") {
		if v = strings.TrimSpace(v); v != "" {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return errors.New("--values is empty")
	}
	factories := ablate.Factories{}
	for _, name := range []string{"fadam", "adamw"} {
		lib := map[string]string{"fadam": "fadam", "adamw": "adam"}[name]
		factories[name] = func(c fadam.Config) (fadam.Stepper, error) { return optimizers.New(lib, c) }
	}
	settings, err := sw.Build(vals, cfg.Opt, factories)
	if err != nil {
		return err
	}
	corpus, err := mf.corpus()
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
	fmt.Fprintf(os.Stderr, "fadam ablate %s: %d values, %d runs of %d steps (%d at a time), model %s\n",
		sw.Name, len(settings), runs, *steps, *parallel, mf.describe())
	bar := report.NewProgress(runs**steps, "ablate "+sw.Name, *quiet)
	var done atomic.Int64
	start := time.Now()
	outcomes, runErr := ablate.Run(ctx, corpus, cfg, settings, seedList, *parallel, func() {
		bar.Set(int(done.Add(1)), "")
	})
	bar.Finish()
	in := ablate.ReportInput{Sweep: sw, Outcomes: outcomes, Config: cfg, Seeds: seedList,
		Command: commandLine(), Elapsed: time.Since(start)}
	if runErr != nil {
		in.Note = "the sweep was interrupted (" + runErr.Error() + "); the table holds what finished."
	}
	path, err := ablate.WriteReport(*out, in)
	if err != nil {
		return err
	}
	fmt.Println(ablate.Table(sw, outcomes, *steps).Markdown())
	for _, pt := range sw.Paper {
		fmt.Println(pt.Caption)
		fmt.Println(pt.Table.Markdown())
	}
	fmt.Printf("report: %s (%s)\n", path, time.Since(start).Round(time.Second))
	return runErr
}

// modelFlags are the byte-level GPT and training flags shared with compare.
type modelFlags struct {
	lr                              *float64
	d, layers, heads, ctx, batch    *int
	evalEvery, evalBatches, warmupN *int
	corpusPath                      *string
}

func bindModelFlags(fs *flag.FlagSet) *modelFlags {
	return &modelFlags{
		lr:          fs.Float64("lr", 3e-3, "peak learning rate (same for every optimizer)"),
		warmupN:     fs.Int("warmup", 30, "linear warmup steps"),
		d:           fs.Int("d", 64, "embedding width"),
		layers:      fs.Int("layers", 2, "transformer blocks"),
		heads:       fs.Int("heads", 4, "attention heads"),
		ctx:         fs.Int("ctx", 64, "context length"),
		batch:       fs.Int("batch", 16, "sequences per batch"),
		evalEvery:   fs.Int("eval-every", 100, "evaluate every N steps"),
		evalBatches: fs.Int("eval-batches", 16, "validation batches per evaluation"),
		corpusPath:  fs.String("corpus", "", "text file or directory (default: the Go standard library source)"),
	}
}

func (m *modelFlags) config(steps int) lm.Config {
	opt := fadam.Defaults()
	opt.LR, opt.Beta1, opt.Beta2, opt.WeightDecay = *m.lr, 0.9, 0.99, 0.001
	return lm.Config{
		Model:       gpt.Config{D: *m.d, Layers: *m.layers, Heads: *m.heads, Ctx: *m.ctx, Batch: *m.batch},
		Steps:       steps,
		Warmup:      *m.warmupN,
		Opt:         opt,
		MinLRFrac:   0.1,
		EvalEvery:   *m.evalEvery,
		EvalBatches: *m.evalBatches,
	}
}

func (m *modelFlags) describe() string {
	return fmt.Sprintf("d=%d layers=%d heads=%d ctx=%d batch=%d", *m.d, *m.layers, *m.heads, *m.ctx, *m.batch)
}

func (m *modelFlags) corpus() (*text.Corpus, error) {
	if *m.corpusPath == "" {
		return text.LoadGoSource()
	}
	return text.Load(*m.corpusPath)
}

// commandLine is the command as the user typed it, for reports.
func commandLine() string {
	args := append([]string{"fadam"}, os.Args[1:]...)
	for i, a := range args {
		if strings.ContainsAny(a, " \t\"'") {
			args[i] = fmt.Sprintf("%q", a)
		}
	}
	return strings.Join(args, " ")
}
