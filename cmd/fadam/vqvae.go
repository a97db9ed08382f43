package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/fadam-go/fadam/experiment/lm"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/cache"
	"github.com/fadam-go/fadam/data/mnist"
	expvq "github.com/fadam-go/fadam/experiment/vqvae"
	"github.com/fadam-go/fadam/models/vqvae"
	"github.com/fadam-go/fadam/report"
)

func init() {
	register(command{
		name:    "vqvae",
		summary: "VQ-VAE on MNIST: 256-way cross-entropy vs L2, FAdam vs AdamW (paper §4.3)",
		run:     runVQVAE,
	})
}

// vqvaeCell is one (loss, optimizer) combination and its runs over seeds.
type vqvaeCell struct {
	loss vqvae.Loss
	opt  string
	runs []vqvaeRun
}

type vqvaeRun struct {
	seed uint64
	res  expvq.Result
	err  error // the run's error other than cancellation, if any
}

func (c *vqvaeCell) name() string { return c.loss.String() + "/" + c.opt }

// finished returns the runs that completed and were evaluated.
func (c *vqvaeCell) finished() []expvq.Result {
	var rs []expvq.Result
	for _, r := range c.runs {
		if r.res.Finished {
			rs = append(rs, r.res)
		}
	}
	return rs
}

func vqvaeSplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(strings.ToLower(f)); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// vqvaeOptLabel is an optimizer's name as the report shows it.
func vqvaeOptLabel(name string) string {
	switch name {
	case "fadam":
		return "FAdam"
	case "adamw", "adam":
		return "AdamW"
	}
	return name
}

func vqvaeLossLabel(l vqvae.Loss) string {
	if l == vqvae.CE {
		return "CE (256-way)"
	}
	return "L2"
}

func runVQVAE(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("vqvae", flag.ContinueOnError)
	lossFlag := fs.String("loss", "l2,ce", "reconstruction losses, comma-separated: l2, ce")
	optFlag := fs.String("optimizers", "fadam,adamw", "optimizers, comma-separated: fadam, adamw")
	steps := fs.Int("steps", 400, "training steps per run")
	seeds := fs.Int("seeds", 3, "seeds per (loss, optimizer) cell")
	batch := fs.Int("batch", 32, "images per training step")
	lr := fs.Float64("lr", 2e-3, "peak learning rate (linear warmup, cosine decay to a tenth)")
	warmup := fs.Int("warmup", 50, "warmup steps")
	evalN := fs.Int("eval", 0, "test images scored at the end of each run (the first N of the test set; 0: all of it)")
	curveN := fs.Int("curve-images", 256, "test images measured for the curves during training")
	evalEvery := fs.Int("eval-every", 50, "steps between curve points")
	restartEvery := fs.Int("restart-every", 50, "steps between dead-code restarts (0: none)")
	clsSteps := fs.Int("cls-steps", 1500, "training steps of the feature classifier when it is not cached")
	dataDir := fs.String("data", "", "directory of the MNIST IDX files (default: the GoMNIST module's data folder)")
	outDir := fs.String("out", "fadam-out", "output directory")
	cacheDir := fs.String("cache", "", "cache directory for the feature classifier (default $"+cache.EnvVar+", else fadam-go in the user cache directory)")
	quiet := fs.Bool("quiet", false, "no progress bars")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var losses []vqvae.Loss
	for _, s := range vqvaeSplitList(*lossFlag) {
		l, err := vqvae.ParseLoss(s)
		if err != nil {
			return asUsage(err)
		}
		losses = append(losses, l)
	}
	opts := vqvaeSplitList(*optFlag)
	for _, o := range opts {
		if o != "fadam" && o != "adamw" {
			return usagef("--optimizers: unknown optimizer %q (want fadam or adamw)", o)
		}
	}
	switch {
	case len(losses) == 0 || len(opts) == 0:
		return usagef("--loss and --optimizers must each name at least one")
	case *steps <= 0 || *seeds <= 0 || *batch <= 0 || *evalEvery <= 0 || *clsSteps <= 0:
		return usagef("--steps, --seeds, --batch, --eval-every and --cls-steps must be positive")
	case !(*lr > 0) || math.IsInf(*lr, 0):
		return usagef("--lr %v must be positive and finite", *lr)
	case *restartEvery < 0:
		return usagef("--restart-every must be non-negative")
	case *evalN < 0 || *evalN == 1 || *curveN < 1:
		return usagef("--eval must be 0 (all) or at least 2 and --curve-images at least 1")
	}
	start := time.Now()

	dir := *dataDir
	if dir == "" {
		d, err := mnist.DefaultDir()
		if err != nil {
			return err
		}
		dir = d
	}
	full, test, err := mnist.Load(dir)
	if err != nil {
		return err
	}
	// The last images of the training set are held out to measure the classifier; the VQ-VAE
	// trains on the rest.
	train, heldOut, err := full.HoldOut(min(mnist.DefaultValidation, full.N/6))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}

	// The paper's hyperparameters, the same for both optimizers. Each algorithm keeps its own
	// constants as in `fadam compare` (lm.NamedOptimizer): FAdam Algorithm 1's ε₂, c and ρ;
	// AdamW is PyTorch's, without update clipping.
	hp := fadam.Defaults()
	hp.LR, hp.Beta1, hp.Beta2, hp.Eps, hp.WeightDecay = *lr, 0.9, 0.99, 1e-8, 1e-4
	newOpt := func(name string) expvq.OptimizerFactory {
		return func(c fadam.Config) (fadam.Stepper, error) {
			o, err := lm.NamedOptimizer(name)
			if err != nil {
				return nil, err
			}
			return o.New(c)
		}
	}

	clsCfg := expvq.ClassifierConfig{Steps: *clsSteps, Batch: 64, Seed: 1, Opt: hp, MinAccuracy: 0.98}
	clsCfg.Opt.LR = 1e-3
	clsDir, err := cache.Dir(*cacheDir, "mnistcls")
	if err != nil {
		return err
	}
	clsPath, err := expvq.ClassifierPath(clsDir, train, clsCfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "feature classifier: %s\n", clsPath)
	cls, clsInfo, err := expvq.Classifier(ctx, clsPath, train, heldOut, clsCfg, newOpt("adamw"))
	if err != nil {
		return err
	}
	if clsInfo.Trained {
		fmt.Fprintf(os.Stderr, "  trained (%s): held-out accuracy %.4f\n", clsInfo.Note, clsInfo.Accuracy)
	} else {
		fmt.Fprintf(os.Stderr, "  loaded: held-out accuracy %.4f\n", clsInfo.Accuracy)
	}
	evalSet := test.Subset(*evalN)
	scorer, err := expvq.NewScorer(cls, evalSet.Images, *curveN, 10)
	if err != nil {
		return err
	}

	var cells []*vqvaeCell
	for _, l := range losses {
		for _, o := range opts {
			cells = append(cells, &vqvaeCell{loss: l, opt: o})
		}
	}
	cancelled := false
runs:
	for s := range *seeds {
		for _, c := range cells {
			cfg := expvq.Config{
				Model: vqvae.DefaultConfig(c.loss, *batch), Steps: *steps, Warmup: *warmup,
				MinLRFrac: 0.1, Opt: hp, EvalEvery: *evalEvery, RestartEvery: *restartEvery, Seed: uint64(s + 1),
			}
			bar := report.NewProgress(*steps, fmt.Sprintf("%-8s seed %d", c.name(), s+1), *quiet)
			res, err := expvq.Train(ctx, train, scorer, cfg, newOpt(c.opt), func(step int, l vqvae.Losses) {
				bar.Set(step, fmt.Sprintf("loss %.4f", l.Total))
			})
			bar.Finish()
			run := vqvaeRun{seed: uint64(s + 1), res: res}
			if err != nil && ctx.Err() != nil {
				c.runs = append(c.runs, run)
				cancelled = true
				break runs
			}
			if err != nil {
				run.err = err
				fmt.Fprintf(os.Stderr, "%s seed %d: %v\n", c.name(), s+1, err)
			} else if res.Finished {
				m := res.Metrics
				fmt.Fprintf(os.Stderr, "%s seed %d: MSE %.5f  PSNR %.2f dB  FID %.3f  perplexity %.1f  restarts %d  (%.0fs)\n",
					c.name(), s+1, m.MSE, m.PSNR, m.FID, m.Perplexity, res.Restarts, res.TrainTime.Seconds())
			}
			c.runs = append(c.runs, run)
		}
	}
	elapsed := time.Since(start)
	if err := writeVQVAEReport(*outDir, "fadam vqvae "+strings.Join(args, " "), cells, evalSet, clsInfo, *steps, *seeds, *batch, *lr, *warmup, evalSet.N, hp, *restartEvery, elapsed, cancelled); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s (%.0f s)\n", filepath.Join(*outDir, "vqvae.md"), elapsed.Seconds())
	if cancelled {
		return ctx.Err()
	}
	return nil
}

// vqvaeMetric picks one metric out of Metrics.
type vqvaeMetric struct {
	name string
	prec int
	get  func(expvq.Metrics) float64
}

var vqvaeMetrics = []vqvaeMetric{
	{"FID (classifier features)", 3, func(m expvq.Metrics) float64 { return m.FID }},
	{"MSE", 5, func(m expvq.Metrics) float64 { return m.MSE }},
	{"PSNR (dB)", 2, func(m expvq.Metrics) float64 { return m.PSNR }},
	{"MSE (argmax)", 5, func(m expvq.Metrics) float64 { return m.MSEMode }},
	{"PSNR (argmax, dB)", 2, func(m expvq.Metrics) float64 { return m.PSNRMode }},
	{"bits/dim", 4, func(m expvq.Metrics) float64 { return m.BitsPerDim }},
	{"perplexity", 1, func(m expvq.Metrics) float64 { return m.Perplexity }},
}

// vqvaeSummary is "mean ± std" of a metric over a cell's finished runs, "—" without any.
func vqvaeSummary(c *vqvaeCell, m vqvaeMetric) string {
	var xs []float64
	for _, r := range c.finished() {
		if v := m.get(r.Metrics); !math.IsNaN(v) {
			xs = append(xs, v)
		}
	}
	if len(xs) == 0 {
		return "—"
	}
	return report.MeanStdString(xs, m.prec)
}

func writeVQVAEReport(out, cmdline string, cells []*vqvaeCell, eval *mnist.Set, cls expvq.ClassifierInfo, steps, seeds, batch int, lr float64, warmup, evalN int, hp fadam.Config, restartEvery int, elapsed time.Duration, cancelled bool) error {
	// CSV: one row per run.
	header := []string{"loss", "optimizer", "seed", "steps_done", "status", "mse", "psnr_db", "mse_argmax", "psnr_argmax_db", "bits_per_dim", "fid", "perplexity", "code_restarts", "train_seconds"}
	var rows [][]string
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, c := range cells {
		for _, r := range c.runs {
			status := "ok"
			switch {
			case r.err != nil:
				status = "error: " + r.err.Error()
			case r.res.Diverged():
				status = fmt.Sprintf("diverged at step %d", r.res.DivergedAt)
			case !r.res.Finished:
				status = fmt.Sprintf("stopped at step %d", r.res.Steps)
			}
			m := r.res.Metrics
			row := []string{c.loss.String(), c.opt, strconv.FormatUint(r.seed, 10), strconv.Itoa(r.res.Steps), status}
			if r.res.Finished {
				row = append(row, f(m.MSE), f(m.PSNR), f(m.MSEMode), f(m.PSNRMode), f(m.BitsPerDim), f(m.FID), f(m.Perplexity))
			} else {
				row = append(row, "", "", "", "", "", "", "")
			}
			rows = append(rows, append(row, strconv.Itoa(r.res.Restarts), f(r.res.TrainTime.Seconds())))
		}
	}
	if err := report.WriteCSV(filepath.Join(out, "vqvae.csv"), header, rows); err != nil {
		return err
	}

	// Curves: test MSE of every cell, and the training objective per loss.
	var mseSeries []report.Series
	trainSeries := map[vqvae.Loss][]report.Series{}
	for _, c := range cells {
		label := vqvaeLossLabel(c.loss) + ", " + vqvaeOptLabel(c.opt)
		ms, ts := report.Series{Name: label}, report.Series{Name: vqvaeOptLabel(c.opt)}
		for _, r := range c.runs {
			var mc, tc report.Curve
			for _, p := range r.res.Points {
				mc.X, mc.Y = append(mc.X, float64(p.Step)), append(mc.Y, p.TestMSE)
				tc.X, tc.Y = append(tc.X, float64(p.Step)), append(tc.Y, p.TrainLoss)
			}
			if len(mc.X) > 0 {
				ms.Runs, ts.Runs = append(ms.Runs, mc), append(ts.Runs, tc)
			}
		}
		if len(ms.Runs) > 0 {
			mseSeries = append(mseSeries, ms)
			trainSeries[c.loss] = append(trainSeries[c.loss], ts)
		}
	}
	var plots []string
	if len(mseSeries) > 0 {
		p, err := report.LinePlot{Title: "VQ-VAE on MNIST: test MSE (mean decoding)", XLabel: "step", YLabel: "MSE", LogY: true, Series: mseSeries}.Plot()
		if err != nil {
			return err
		}
		if err := report.SavePlot(p, filepath.Join(out, "vqvae-test-mse")); err != nil {
			return err
		}
		plots = append(plots, "vqvae-test-mse")
	}
	for _, l := range []vqvae.Loss{vqvae.L2, vqvae.CE} {
		if len(trainSeries[l]) == 0 {
			continue
		}
		unit := "mean squared error + VQ losses"
		if l == vqvae.CE {
			unit = "nats/pixel + VQ losses"
		}
		p, err := report.LinePlot{Title: "VQ-VAE training objective, " + vqvaeLossLabel(l), XLabel: "step", YLabel: unit, LogY: true, Series: trainSeries[l]}.Plot()
		if err != nil {
			return err
		}
		name := "vqvae-train-" + l.String()
		if err := report.SavePlot(p, filepath.Join(out, name)); err != nil {
			return err
		}
		plots = append(plots, name)
	}

	// Image grid: test digits, then the first seed's mean reconstructions of every cell.
	nSamples := min(10, eval.N)
	g := report.ImageGrid{Title: "MNIST test digits and their reconstructions (mean decoding)", Width: vqvae.Side, Height: vqvae.Side, Scale: 2}
	realRow := make([][]float32, 0, nSamples)
	for i := range nSamples {
		x := make([]float32, vqvae.Pixels)
		for j, p := range eval.Image(i) {
			x[j] = float32(p) / 255
		}
		realRow = append(realRow, x)
		g.ColLabels = append(g.ColLabels, fmt.Sprintf("test %d: %d", i, eval.Labels[i]))
	}
	g.Images, g.RowLabels = append(g.Images, realRow), append(g.RowLabels, "original")
	for _, c := range cells {
		if rs := c.finished(); len(rs) > 0 && len(rs[0].Samples) > 0 {
			g.Images = append(g.Images, rs[0].Samples[:min(nSamples, len(rs[0].Samples))])
			g.RowLabels = append(g.RowLabels, vqvaeLossLabel(c.loss)+", "+vqvaeOptLabel(c.opt)+", seed "+strconv.FormatUint(c.runs[0].seed, 10))
		}
	}
	hasGrid := len(g.Images) > 1
	if hasGrid {
		if err := g.Save(filepath.Join(out, "vqvae-samples.png")); err != nil {
			return err
		}
	}

	// The Markdown report.
	var d report.Doc
	d.Heading(1, "VQ-VAE on MNIST: categorical cross-entropy vs L2, FAdam vs AdamW")
	d.Para("Paper §3.3.1 and §4.3 (Fig. 1c): the empirical Fisher is a sound approximation only for discrete distributions, so an image model trained by an Adam-type optimizer should predict each pixel as a 256-way categorical (cross-entropy, CE) rather than regress it (L2); and FAdam should beat AdamW. This is the same comparison at laptop scale.")
	if cancelled {
		d.Para("**Interrupted:** the run was stopped early; the tables hold only the runs that finished.")
	}
	d.Para("Command, run on %s (%.0f s in all):", time.Now().UTC().Format("2006-01-02 15:04 MST"), elapsed.Seconds())
	d.Code(strings.TrimSpace(cmdline))
	d.Machine(report.Machine())
	d.Para("Setup: conv encoder 28×28 → 7×7×16, %d-code × 16-dim vector quantizer (β = 0.25, codebook initialised from the first batch's encodings, %s), conv/transposed-conv decoder to 1 channel (L2, on pixels in [0, 1]) or 256 logits per pixel (CE). %d steps of batch %d per run, %d seed(s) per cell; learning rate %g with %d warmup steps and cosine decay to a tenth; both optimizers with the paper's β₁ = %g, β₂ = %g, ε = %g, λ = %g, weight decay on every tensor; FAdam with Algorithm 1's ε₂ = 0.01, c = %g, ρ = 0.5, AdamW without update clipping (PyTorch's AdamW, as in `fadam compare`).",
		vqvae.DefaultConfig(vqvae.L2, 1).Codes, vqvaeRestartNote(restartEvery), steps, batch, seeds, lr, warmup, hp.Beta1, hp.Beta2, hp.Eps, hp.WeightDecay, hp.Clip)
	d.Para("Every number covers %d MNIST test images (each seed's run scored on all of them). MSE and PSNR = 10·log₁₀(1/MSE) compare reconstructions in [0, 1] with the originals; CE is decoded both as the expected pixel value (MSE, PSNR) and as its most probable value (argmax); L2's output is clamped to [0, 1]. Bits/dim is CE's test cross-entropy in bits per pixel. The FID-style score is the Fréchet distance between Gaussian fits of the penultimate-layer (128-d) features of real and reconstructed (mean-decoded) test images under a small MNIST classifier trained once by the same substrate with AdamW on the training images the VQ-VAE trains on (accuracy %.4f on the training images held out; %s). Perplexity is exp of the entropy of the codebook usage. Mean ± sample std over seeds.",
		evalN, cls.Accuracy, vqvaeClassifierNote(cls))

	fidTable := report.Table{Header: []string{"FID (lower is better)"}}
	mseTable := report.Table{Header: []string{"MSE (lower is better)"}}
	var optsSeen []string
	for _, c := range cells {
		if !slices.Contains(optsSeen, c.opt) {
			optsSeen = append(optsSeen, c.opt)
		}
	}
	for _, o := range optsSeen {
		fidTable.Header = append(fidTable.Header, vqvaeOptLabel(o))
		mseTable.Header = append(mseTable.Header, vqvaeOptLabel(o))
	}
	for _, l := range []vqvae.Loss{vqvae.L2, vqvae.CE} {
		fr, mr := []string{vqvaeLossLabel(l)}, []string{vqvaeLossLabel(l)}
		found := false
		for _, o := range optsSeen {
			fv, mv := "—", "—"
			for _, c := range cells {
				if c.loss == l && c.opt == o {
					fv, mv, found = vqvaeSummary(c, vqvaeMetrics[0]), vqvaeSummary(c, vqvaeMetrics[1]), true
				}
			}
			fr, mr = append(fr, fv), append(mr, mv)
		}
		if found {
			fidTable.Rows, mseTable.Rows = append(fidTable.Rows, fr), append(mseTable.Rows, mr)
		}
	}
	d.Heading(2, "Results")
	d.Table(fidTable)
	d.Table(mseTable)
	full := report.Table{Header: []string{"loss", "optimizer", "runs"}}
	for _, m := range vqvaeMetrics {
		full.Header = append(full.Header, m.name)
	}
	for _, c := range cells {
		row := []string{vqvaeLossLabel(c.loss), vqvaeOptLabel(c.opt), fmt.Sprintf("%d/%d", len(c.finished()), len(c.runs))}
		for _, m := range vqvaeMetrics {
			row = append(row, vqvaeSummary(c, m))
		}
		full.Rows = append(full.Rows, row)
	}
	d.Para("All metrics (runs = finished/started):")
	d.Table(full)
	for _, c := range cells {
		for _, r := range c.runs {
			if r.err != nil || r.res.Diverged() {
				d.Para("%s seed %d: %s.", c.name(), r.seed, vqvaeStatus(r))
			}
		}
	}
	for _, p := range plots {
		d.Image(p, p+".png")
	}
	if hasGrid {
		d.Para("Top row: test digits (column: test index and label); below, each cell's first seed, mean decoding: %s.", strings.Join(g.RowLabels[1:], "; "))
		d.Image("reconstructions", "vqvae-samples.png")
	}
	d.Para("Per-run numbers: [vqvae.csv](vqvae.csv).")
	return d.WriteFile(filepath.Join(out, "vqvae.md"))
}

func vqvaeRestartNote(every int) string {
	if every == 0 {
		return "no dead-code restarts"
	}
	return fmt.Sprintf("codes unused for %d steps restarted on encoder outputs of the current batch", every)
}

func vqvaeStatus(r vqvaeRun) string {
	if r.err != nil {
		return "error: " + r.err.Error()
	}
	return fmt.Sprintf("diverged at step %d", r.res.DivergedAt)
}

func vqvaeClassifierNote(c expvq.ClassifierInfo) string {
	if c.Trained {
		return "trained in this run: " + c.Note
	}
	return "loaded from the cache, " + filepath.Base(c.Path)
}
