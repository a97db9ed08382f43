package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/gemm"
	"github.com/fadam-go/fadam/models/gpt"
	"github.com/fadam-go/fadam/nn"
	"github.com/fadam-go/fadam/optimizers"
	"github.com/fadam-go/fadam/report"
)

// defaultTrainSizes are the models `fadam bench --train` times: the `compare` default and three
// larger ones, as d×layers×ctx×batch.
const defaultTrainSizes = "64x2x64x16,128x4x128x32,256x6x256x16,512x8x256x8"

// wantsTrainBench reports whether bench's arguments ask for the training benchmark.
func wantsTrainBench(args []string) bool {
	for _, a := range args {
		switch a {
		case "-train", "--train", "-train=true", "--train=true":
			return true
		}
	}
	return false
}

// trainBenchFlags are the flags of `fadam bench --train`.
type trainBenchFlags struct {
	sizes      string
	heads      int
	steps      int
	warmup     int
	optimizer  string
	peakTime   time.Duration
	cpuProfile string
}

// trainBenchResult is the measurement of one model.
type trainBenchResult struct {
	cfg       gpt.Config
	step      time.Duration // median over the timed steps
	best      time.Duration // fastest timed step
	tokensSec float64
	gflops    float64 // FlopsPerToken × tokens/s
	phases    gpt.PhaseTimes
	optimizer time.Duration // summed over the timed steps, like phases
	total     time.Duration // wall time of the timed steps
	steps     int           // timed steps
	cpu       time.Duration // CPU time of the process over the timed steps (0 if unknown)
}

// benchTrain is `fadam bench --train`: training-step throughput of the byte-level GPT at
// several sizes, against the machine's measured float32 peak, with the step broken down by
// layer kind.
func benchTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench --train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f trainBenchFlags
	fs.Bool("train", true, "time training steps of the byte-level GPT (this benchmark)")
	fs.StringVar(&f.sizes, "sizes", defaultTrainSizes, "comma-separated models as d×layers×ctx×batch (x or × between the numbers)")
	fs.IntVar(&f.heads, "heads", 4, "attention heads (the compare default)")
	fs.IntVar(&f.steps, "steps", 10, "timed steps per model (tokens/s uses the median step)")
	fs.IntVar(&f.warmup, "warmup", 2, "untimed steps before timing")
	fs.StringVar(&f.optimizer, "optimizer", "adamw", "optimizer of the step: "+strings.Join(optimizers.Names, ", ")+" or adamw")
	fs.DurationVar(&f.peakTime, "peak-time", 300*time.Millisecond, "duration of each float32 peak measurement (before and after the models; the higher counts)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed steps to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if f.steps < 1 || f.warmup < 0 || f.heads < 1 {
		return fmt.Errorf("--steps and --heads must be at least 1 and --warmup at least 0 (got %d, %d, %d)", f.steps, f.heads, f.warmup)
	}
	if f.peakTime < 10*time.Millisecond {
		return fmt.Errorf("--peak-time %v is too short to time the FMA loop (want at least 10ms)", f.peakTime)
	}
	cfgs, err := parseTrainSizes(f.sizes, f.heads)
	if err != nil {
		return err
	}
	if _, err := newBenchOptimizer(f.optimizer); err != nil {
		return err
	}
	if f.cpuProfile != "" {
		out, err := os.Create(f.cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	fmt.Fprintf(stdout, "training step (forward, backward, %s) of the byte-level GPT, %d heads; kernel %s; %s\n",
		f.optimizer, f.heads, gemm.Name(gemm.Default), report.Machine())
	peak := gemm.PeakGFLOPS(f.peakTime)
	var results []trainBenchResult
	for _, cfg := range cfgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := timeTraining(cfg, f)
		if err != nil {
			return fmt.Errorf("d=%d: %w", cfg.D, err)
		}
		results = append(results, r)
	}
	peak = max(peak, gemm.PeakGFLOPS(f.peakTime))
	for _, r := range results {
		writeTrainResult(stdout, r, peak)
	}
	if peak > 0 {
		fmt.Fprintf(stdout, "peak %.0f GFLOP/s: float32 FMA throughput of all threads, the higher of two measurements of %v\n", peak, f.peakTime)
	}
	fmt.Fprintln(stdout, "share of peak = FLOP/token × tokens/s ÷ peak (wall time); GFLOP/core-s divides by the process's CPU time instead, which other load on the machine disturbs less")
	return nil
}

// parseTrainSizes reads "d×layers×ctx×batch,…".
func parseTrainSizes(s string, heads int) ([]gpt.Config, error) {
	var cfgs []gpt.Config
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		parts := strings.FieldsFunc(item, func(r rune) bool { return r == 'x' || r == '×' })
		if len(parts) != 4 {
			return nil, fmt.Errorf("--sizes: %q is not d×layers×ctx×batch", item)
		}
		var n [4]int
		for i, p := range parts {
			v, err := strconv.Atoi(p)
			if err != nil {
				return nil, fmt.Errorf("--sizes: %q: %w", item, err)
			}
			n[i] = v
		}
		cfg := gpt.Config{D: n[0], Layers: n[1], Heads: heads, Ctx: n[2], Batch: n[3]}
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("--sizes: %q: %w", item, err)
		}
		cfgs = append(cfgs, cfg)
	}
	return cfgs, nil
}

// newBenchOptimizer builds the step's optimizer with PyTorch's AdamW defaults (β₂ = 0.999,
// ε = 1e-8, λ = 0.01 on every tensor, no update clipping), the settings of the PyTorch
// comparison script; FAdam and the factored optimizers keep their own ε and clipping.
func newBenchOptimizer(name string) (optimizers.Optimizer, error) {
	c := fadam.Defaults()
	c.WeightDecay = 0.01
	if name == "adamw" || name == "adam" {
		c.Clip = 0
	}
	o, err := optimizers.New(name, c)
	if err != nil {
		return nil, fmt.Errorf("--optimizer: %w", err)
	}
	return o, nil
}

// timeTraining runs warmup then timed training steps of a fresh model on one random batch.
func timeTraining(cfg gpt.Config, f trainBenchFlags) (trainBenchResult, error) {
	m, err := gpt.New(cfg, 1)
	if err != nil {
		return trainBenchResult{}, err
	}
	opt, err := newBenchOptimizer(f.optimizer)
	if err != nil {
		return trainBenchResult{}, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	bt := cfg.Batch * cfg.Ctx
	in, tg := make([]int32, bt), make([]int32, bt)
	for i := range in {
		in[i], tg[i] = int32(rng.IntN(gpt.Vocab)), int32(rng.IntN(gpt.Vocab))
	}
	params := nn.Values(m.Params())
	r := trainBenchResult{cfg: cfg, steps: f.steps}
	var phases gpt.PhaseTimes
	steps := make([]time.Duration, 0, f.steps)
	var cpu0 time.Duration
	cpuOK := false
	for i := range f.warmup + f.steps {
		timed := i >= f.warmup
		if i == f.warmup {
			m.SetPhaseTimes(&phases)
			cpu0, cpuOK = gemm.ProcessCPU()
		}
		start := time.Now()
		if _, err := m.Forward(in, tg); err != nil {
			return r, err
		}
		m.Backward()
		optStart := time.Now()
		if err := opt.Step(params); err != nil {
			return r, fmt.Errorf("optimizer: %w", err)
		}
		end := time.Now()
		if timed {
			steps = append(steps, end.Sub(start))
			r.optimizer += end.Sub(optStart)
			r.total += end.Sub(start)
		}
	}
	if cpu1, ok := gemm.ProcessCPU(); cpuOK && ok {
		r.cpu = cpu1 - cpu0
	}
	r.phases = phases
	slices.Sort(steps)
	r.step, r.best = steps[len(steps)/2], steps[0]
	r.tokensSec = float64(bt) / r.step.Seconds()
	r.gflops = cfg.FlopsPerToken() * r.tokensSec / 1e9
	return r, nil
}

// writeTrainResult prints one model: the tokens/s line (the same as the PyTorch script's), the
// rate against the peak, and the breakdown as shares of the timed steps' wall time.
func writeTrainResult(w io.Writer, r trainBenchResult, peak float64) {
	c := r.cfg
	fmt.Fprintf(w, "fadam-go  d=%d layers=%d heads=%d ctx=%d batch=%d  tokens/s %.0f  step %.2f ms (fastest %.2f)\n",
		c.D, c.Layers, c.Heads, c.Ctx, c.Batch, r.tokensSec, float64(r.step.Microseconds())/1e3, float64(r.best.Microseconds())/1e3)
	share := "n/a"
	if peak > 0 {
		share = fmt.Sprintf("%.1f%%", 100*r.gflops/peak)
	}
	perCore := ""
	if r.cpu > 0 {
		flops := c.FlopsPerToken() * float64(c.Batch*c.Ctx*r.steps)
		perCore = fmt.Sprintf("  %.1f GFLOP/core-s", flops/r.cpu.Seconds()/1e9)
		if peak > 0 {
			perCore += fmt.Sprintf(" (%.1f%% of a core's peak)", 100*flops/r.cpu.Seconds()/1e9/(peak/float64(runtime.GOMAXPROCS(0))))
		}
	}
	fmt.Fprintf(w, "          %.2f MFLOP/token  %.1f GFLOP/s  share of peak %s%s\n", c.FlopsPerToken()/1e6, r.gflops, share, perCore)
	var b strings.Builder
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / r.total.Seconds() }
	for p, d := range r.phases {
		fmt.Fprintf(&b, "  %s %.1f%%", gpt.Phase(p), pct(d))
	}
	fmt.Fprintf(&b, "  optimizer %.1f%%", pct(r.optimizer))
	fmt.Fprintf(w, "         %s\n", b.String())
}
