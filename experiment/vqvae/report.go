package vqvae

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/mnist"
	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/models/vqvae"
	"github.com/fadam-go/fadam/report"
)

// Pairs is the paper's optimizer comparison: FAdam against AdamW.
var Pairs = []harness.Pair{{A: "fadam", B: "adamw"}}

// fidPrec is the number of decimals of FID in the tables.
const fidPrec = 3

// metricTables are the metrics the report tabulates besides FID, with their decimals.
var metricTables = []struct {
	name, label string
	prec        int
}{
	{MetricMSE, "MSE (mean decoding)", 5},
	{MetricPSNR, "PSNR in dB (higher is better)", 2},
	{MetricMSEMode, "MSE (argmax decoding)", 5},
	{MetricBitsPerDim, "bits/dim (CE only)", 4},
	{MetricPerplexity, "codebook perplexity", 1},
}

// ReportInfo is what the report says about how the runs were made.
type ReportInfo struct {
	Command    string
	Date       time.Time
	Machine    report.MachineInfo
	WallTime   time.Duration
	Classifier ClassifierInfo
	Data       Data
	Config     Config       // of the first loss (the model differs only in its output)
	Hyper      fadam.Config // shared hyperparameters (the learning rate comes from the grid)
	// Interrupted is set when the sweep was cut short (Ctrl-C, SIGTERM).
	Interrupted bool
}

// LossLabel is a loss as the report shows it.
func LossLabel(l vqvae.Loss) string {
	if l == vqvae.CE {
		return "CE (256-way)"
	}
	return "L2"
}

// OptLabel is an optimizer's name as the report shows it.
func OptLabel(name string) string {
	switch name {
	case "fadam":
		return "FAdam"
	case "adamw", "adam":
		return "AdamW"
	}
	return name
}

// Outcome is the sweep of one loss.
type Outcome struct {
	Loss vqvae.Loss
	*harness.Outcome
}

// lossPair compares CE with L2 for optimizer name on the test FID, each at its own learning
// rate (tuned, or the common one), paired by seed.
func lossPair(ce, l2 Outcome, name string) (harness.Interval, string, bool) {
	lrCE, ok1 := ce.LROf(ce.Tuned())(name)
	lrL2, ok2 := l2.LROf(l2.Tuned())(name)
	if !ok1 || !ok2 {
		return harness.Interval{}, "", false
	}
	a, b := ce.Cell(name, lrCE, harness.Test), l2.Cell(name, lrL2, harness.Test)
	a.Optimizer, b.Optimizer = "CE", "L2"
	return harness.Paired(a, b), fmt.Sprintf("%s (CE at %s, L2 at %s)", OptLabel(name), harness.FormatLR(lrCE), harness.FormatLR(lrL2)), true
}

// verdicts are the report's claims in words: FAdam vs AdamW per loss, CE vs L2 per optimizer.
func verdicts(outs []Outcome) []string {
	var lines []string
	for _, o := range outs {
		for _, p := range o.Pairs(Pairs) {
			iv, how := o.Headline(o.Tuned(), p)
			lines = append(lines, fmt.Sprintf("**%s, FAdam vs AdamW, %s:** %s — %s", LossLabel(o.Loss), how, iv.Verdict(), iv.Sentence("test FID", fidPrec)))
		}
	}
	var ce, l2 *Outcome
	for i := range outs {
		if outs[i].Loss == vqvae.CE {
			ce = &outs[i]
		} else {
			l2 = &outs[i]
		}
	}
	if ce != nil && l2 != nil {
		for _, name := range ce.Names {
			if iv, how, ok := lossPair(*ce, *l2, name); ok {
				lines = append(lines, fmt.Sprintf("**CE vs L2, %s:** %s — %s", how, iv.Verdict(), iv.Sentence("test FID", fidPrec)))
			}
		}
	}
	return lines
}

// WriteReport writes vqvae.md, vqvae.csv, the plots and the reconstruction grid of the
// sweeps outs (one per loss) into dir; the grid's reconstructions come from store and its
// originals from the test images.
func WriteReport(dir string, outs []Outcome, store *SampleStore, info ReportInfo) error {
	var rows [][]string
	for _, o := range outs {
		for _, r := range o.CSVRows() {
			rows = append(rows, append([]string{o.Loss.String()}, r...))
		}
	}
	if err := report.WriteCSV(filepath.Join(dir, "vqvae.csv"), append([]string{"loss"}, harness.CSVHeader...), rows); err != nil {
		return err
	}

	var d report.Doc
	d.Heading(1, "VQ-VAE on MNIST: categorical cross-entropy vs L2, FAdam vs AdamW")
	d.Para("**Paper's claims** (§3.3.1, §4.3, Fig. 1c): the empirical Fisher is a sound approximation only for discrete distributions, so an image model trained by an Adam-type optimizer should predict each pixel as a 256-way categorical (cross-entropy, CE) rather than regress it (L2), which improves FID; and FAdam beats AdamW in FID (100M VQ-VAE, ImageNet). Here: the same comparisons at laptop scale, scored by an FID-style distance in the features of a small MNIST classifier.")
	unfinished, total := 0, 0
	for _, o := range outs {
		unfinished, total = unfinished+o.Unfinished(), total+len(o.Runs)
	}
	if info.Interrupted || unfinished > 0 {
		d.Para("**Incomplete:** %d of %d runs did not finish (the sweep was stopped); the tables hold what finished. Run the same command again to continue: finished runs are reused.", unfinished, total)
	}
	d.Code(info.Command)
	d.Para("Date: %s. Wall time: %s.", info.Date.UTC().Format("2006-01-02 15:04 MST"), info.WallTime.Round(time.Second))
	for _, o := range outs {
		d.Para("%s: %s.", LossLabel(o.Loss), o.Describe())
	}
	d.Machine(info.Machine)

	d.Heading(2, "Verdict")
	for _, l := range verdicts(outs) {
		d.Para("%s", l)
	}
	if len(outs) > 0 {
		d.Para("Every test number covers %s; validation numbers (selection) cover %s.", outs[0].Info.Covers[harness.Test], outs[0].Info.Covers[harness.Validation])
	}

	if err := sampleGrid(&d, dir, outs, store, info.Data.Test); err != nil {
		return err
	}
	for _, o := range outs {
		d.Heading(2, LossLabel(o.Loss)+" reconstruction loss")
		if err := o.Sections(&d, dir, "vqvae-"+o.Loss.String(), Pairs, fidPrec); err != nil {
			return err
		}
		d.Para("Other test metrics, mean ± std over seeds:")
		for _, m := range metricTables {
			if m.name == MetricBitsPerDim && o.Loss != vqvae.CE {
				continue
			}
			t := o.For(m.name).Table(harness.Test, m.prec)
			t.Header[0] = m.label + " \\ peak LR"
			d.Table(t)
		}
		title := fmt.Sprintf("%s: training objective on validation images (mean over seeds, min–max band)", LossLabel(o.Loss))
		if err := harness.AddPlot(&d, o.CurvePlot(title, o.LROf(o.Tuned())), dir, "vqvae-"+o.Loss.String()+"-curve", "training objective against step"); err != nil {
			return err
		}
	}

	d.Heading(2, "Setup")
	c, hp := info.Config, info.Hyper
	d.Para("Data: the VQ-VAE trains on the first %d MNIST training images; the last %d are held out for choosing the learning rate (validation); the %d test images are used only for the reported numbers, every one of them scored by every run.",
		info.Data.Train.N, info.Data.Validation.N, info.Data.Test.N)
	d.Para("Model: conv encoder 28×28 → 7×7×%d, %d-code × %d-dim vector quantizer (β = %g, codebook initialised from the first batch's encodings, %s), conv/transposed-conv decoder to 1 channel (L2, on pixels in [0, 1]) or 256 logits per pixel (CE). Batch %d.",
		c.Model.CodeDim, c.Model.Codes, c.Model.CodeDim, c.Model.Beta, restartNote(c.RestartEvery), c.Model.Batch)
	if len(outs) > 0 {
		l := outs[0].Loop
		d.Para("Optimization, the same for every optimizer: %d steps, linear warmup %d steps and cosine decay to %g × the peak learning rate; β₁ = %g, β₂ = %g, ε = %g, λ = %g on every tensor; FAdam with Algorithm 1's ε₂ = 0.01, c = %g, ρ = 0.5; AdamW without update clipping (PyTorch's AdamW, as in `fadam compare`). A run diverges when its loss or a gradient is non-finite or its loss exceeds the untrained model's validation objective by more than %g.",
			l.Steps, l.Warmup, l.MinLRFrac, hp.Beta1, hp.Beta2, hp.Eps, hp.WeightDecay, hp.Clip, l.DivergeMargin)
	}
	d.Para("Metrics: MSE and PSNR = 10·log₁₀(1/MSE) compare reconstructions in [0, 1] with the originals; CE is decoded both as the expected pixel value (MSE, PSNR) and as its most probable value (argmax); L2's output is clamped to [0, 1]. Bits/dim is CE's cross-entropy in bits per pixel. The FID-style score is the Fréchet distance between Gaussian fits of the penultimate-layer (128-d) features of real and reconstructed (mean-decoded) images under a small MNIST classifier trained once by the same substrate with AdamW on the VQ-VAE's training images (accuracy %.4f on the held-out images; %s). Perplexity is exp of the entropy of the codebook usage.",
		info.Classifier.Accuracy, classifierNote(info.Classifier))
	d.Para("Files: `vqvae.csv` (every evaluation of every run), the plots beside this report, `runs/` (one JSON file per finished run, reused when the same command runs again) and `samples/` (the first test reconstructions of every run).")
	return d.WriteFile(filepath.Join(dir, "vqvae.md"))
}

// sampleGrid draws test digits above the reconstructions of each (loss, optimizer) at its
// tuned (or the common) learning rate, first finished seed, labelled by cell.
func sampleGrid(d *report.Doc, dir string, outs []Outcome, store *SampleStore, test *mnist.Set) error {
	if store == nil || store.N == 0 || test == nil {
		return nil
	}
	n := min(store.N, test.N)
	g := report.ImageGrid{Title: "MNIST test digits and their reconstructions (mean decoding)", Width: vqvae.Side, Height: vqvae.Side, Scale: 2}
	orig := make([][]float32, n)
	for i := range orig {
		orig[i] = make([]float32, vqvae.Pixels)
		for j, p := range test.Image(i) {
			orig[i][j] = float32(p) / 255
		}
		g.ColLabels = append(g.ColLabels, fmt.Sprintf("test %d (%d)", i, test.Labels[i]))
	}
	g.Images, g.RowLabels = [][][]float32{orig}, []string{"original"}
	for _, o := range outs {
		lrOf := o.LROf(o.Tuned())
		for _, name := range o.Names {
			lr, ok := lrOf(name)
			if !ok {
				continue
			}
			for _, r := range o.Runs {
				if r.Spec.Optimizer != name || r.Spec.LR != lr || !r.Result.Complete(o.Loop.Steps) {
					continue
				}
				s, err := store.Get(o.Info.Name, r.Spec.Seed, r.Result.Test)
				if err != nil {
					continue // a run stored before its reconstructions were: leave it out
				}
				g.Images = append(g.Images, s[:min(n, len(s))])
				g.RowLabels = append(g.RowLabels, fmt.Sprintf("%s, %s, LR %s, seed %d", LossLabel(o.Loss), OptLabel(name), harness.FormatLR(lr), r.Spec.Seed))
				break
			}
		}
	}
	if len(g.Images) < 2 {
		return nil
	}
	if err := g.Save(filepath.Join(dir, "vqvae-samples.png")); err != nil {
		return err
	}
	d.Heading(2, "Reconstructions")
	d.Para("Top row: the first %d test digits (column: test index and label). Below, one row per loss and optimizer at its %s learning rate, its first seed, mean decoding.", n, map[bool]string{true: "selected", false: "common"}[len(outs[0].LRs) > 1])
	d.Image("reconstructions", "vqvae-samples.png")
	return nil
}

func restartNote(every int) string {
	if every == 0 {
		return "no dead-code restarts"
	}
	return fmt.Sprintf("every %d steps, codes no training batch chose since the previous restart are moved onto encoder outputs of the current batch", every)
}

func classifierNote(c ClassifierInfo) string {
	if c.Trained {
		return "trained in this run: " + c.Note
	}
	return "loaded from the cache, " + filepath.Base(c.Path)
}

// Summary is the text the command prints: per loss the sweep line and tables, then the
// verdicts.
func Summary(outs []Outcome) string {
	var b strings.Builder
	for _, o := range outs {
		fmt.Fprintf(&b, "%s: %s\n", LossLabel(o.Loss), o.Describe())
		o.Print(&b, Pairs, fidPrec)
	}
	for _, l := range verdicts(outs) {
		fmt.Fprintln(&b, strings.ReplaceAll(l, "**", ""))
	}
	return b.String()
}

// Fingerprint identifies the data: a hash of every image and label of the three sets.
func (d Data) Fingerprint() string {
	h := sha256.New()
	for _, s := range []*mnist.Set{d.Train, d.Validation, d.Test} {
		fmt.Fprintf(h, "%d %d %d\n", s.N, s.Rows, s.Cols)
		h.Write(s.Images)
		h.Write(s.Labels)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
