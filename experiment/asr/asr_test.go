package asr

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/digits"
	"github.com/fadam-go/fadam/experiment/harness"
	model "github.com/fadam-go/fadam/models/asr"
	"github.com/fadam-go/fadam/optimizers"
	"github.com/fadam-go/fadam/report"
)

func TestUsable(t *testing.T) {
	ex := func(frames int, labels ...int32) digits.Example {
		return digits.Example{Frames: frames, Labels: labels}
	}
	// SubsampledLen(16) = 4: room for 4 labels, or 3 labels with one repeat (a blank between);
	// SubsampledLen(4) = 1: room for one label.
	if model.SubsampledLen(16) != 4 || model.SubsampledLen(4) != 1 {
		t.Fatalf("SubsampledLen(16) = %d, SubsampledLen(4) = %d", model.SubsampledLen(16), model.SubsampledLen(4))
	}
	in := []digits.Example{ex(16, 1, 2, 3, 4), ex(16, 1, 1, 2, 3), ex(16, 1, 1, 2), ex(4, 1, 2)}
	got := Usable(in)
	if len(got) != 2 || got[0].Labels[3] != 4 || len(got[1].Labels) != 3 {
		t.Fatalf("usable %+v", got)
	}
}

// asrTestTask loads a tiny corpus into dir and returns a task with a small model.
func asrTestTask(t *testing.T, dir string) *Task {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed (apt-get install espeak-ng); skipping the end-to-end speech test")
	}
	n := digits.Counts{Train: 8, Dev: 4, Test: 3}
	corpus, err := LoadCorpus(context.Background(), dir, n)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Model: model.Config{Mels: 40, Dim: 16, Heads: 2, Layers: 1, FF: 32, Classes: 12}, Batch: 4, CurveUtterances: 2,
		Corpus: n, CorpusSeed: CorpusSeed}
	task, err := NewTask(corpus, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func asrTestOptimizer(name string) harness.Optimizer {
	c := fadam.Defaults()
	c.Beta2, c.WeightDecay = 0.98, 1e-3
	return harness.Optimizer{Name: name, Config: c, New: func(c fadam.Config) (fadam.Stepper, error) { return optimizers.New(name, c) }}
}

// TestSweepReportAndResume trains the task through the harness with two optimizers at two
// learning rates, one of them diverging, writes the report, then runs the same sweep again and
// checks that every run is reused.
func TestSweepReportAndResume(t *testing.T) {
	dir := t.TempDir()
	task := asrTestTask(t, filepath.Join(dir, "cache"))
	info := task.Info()
	if info.Metric != MetricWER || info.Covers[harness.Curve] == "" || !strings.Contains(info.Covers[harness.Test], "3 test utterances") {
		t.Fatalf("info %+v", info)
	}
	out := filepath.Join(dir, "out")
	sw := harness.Sweep{
		Task:       task,
		Loop:       harness.Loop{Steps: 6, Warmup: 1, MinLRFrac: 0.1, EvalEvery: 3, DivergeMargin: 40},
		Optimizers: []harness.Optimizer{asrTestOptimizer("fadam"), asrTestOptimizer("adamw")},
		LRs:        []float64{3e-3, 1e4}, Seeds: []uint64{1, 2}, Dir: out, Parallel: 2,
	}
	o, err := sw.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range o.Runs {
		switch {
		case r.Err != nil:
			t.Fatalf("%+v: %v", r.Spec, r.Err)
		case r.Spec.LR == 3e-3 && (!r.Result.Complete(6) || len(r.Result.Curve) != 3):
			t.Errorf("%s seed %d did not complete with 3 curve points: %+v", r.Spec.Optimizer, r.Spec.Seed, r.Result)
		case r.Spec.LR == 1e4 && !r.Result.Diverged():
			t.Errorf("%s at LR 1e4 did not diverge: %+v", r.Spec.Optimizer, r.Result)
		}
		if w := r.Result.Test[MetricWER]; r.Result.Complete(6) && (w < 0 || r.Result.Test[MetricCER] < 0 || r.Result.Validation[MetricLoss] <= 0) {
			t.Errorf("bad metrics %+v", r.Result)
		}
	}
	// The same seed gives the same run whatever the scheduling: seeds 1 and 2 differ, reruns agree.
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	ri := ReportInfo{Command: "fadam asr --quick", Date: time.Now(), Machine: report.Machine(), Data: task.corpus.Describe(), Params: 1, Batch: 4}
	if err := WriteReport(out, o, task.cfg, ri); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"asr.md", "asr.csv", "asr-lr.png", "asr-wer-lr.png", "asr-curve.png", "asr-diff.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "asr.md"))
	for _, want := range []string{"fadam asr --quick", "diverged (2/2 seeds", "3 test utterances (", "## Verdict", "dev numbers (selection) cover 4 dev utterances"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if s := Summary(o); !strings.Contains(s, "| fadam ") || !strings.Contains(s, "fadam vs adamw, tuned") {
		t.Errorf("summary:\n%s", s)
	}

	again, err := sw.Run(context.Background())
	if err != nil || again.Reused != len(o.Runs) {
		t.Fatalf("rerun reused %d of %d runs (%v)", again.Reused, len(o.Runs), err)
	}
	for i, r := range again.Runs {
		if r.Result.Complete(6) && r.Result.Test[MetricWER] != o.Runs[i].Result.Test[MetricWER] {
			t.Errorf("reused run %d differs", i)
		}
	}
}

// countingTask records which splits its models evaluate.
type countingTask struct {
	*Task
	mu    sync.Mutex
	reads map[harness.Split]int
}

func (c *countingTask) NewModel(seed uint64) (harness.Model, error) {
	m, err := c.Task.NewModel(seed)
	return countingModel{m, c}, err
}

type countingModel struct {
	harness.Model
	c *countingTask
}

func (m countingModel) Evaluate(s harness.Split) (harness.Metrics, error) {
	m.c.mu.Lock()
	m.c.reads[s]++
	m.c.mu.Unlock()
	return m.Model.Evaluate(s)
}

// TestTunedIgnoresTest checks the protocol on the real task: each run reads the test split
// exactly once, at its end, and the learning rates the tuned comparison selects do not change
// when every test number is replaced, while they follow the dev numbers.
func TestTunedIgnoresTest(t *testing.T) {
	task := &countingTask{Task: asrTestTask(t, t.TempDir()), reads: map[harness.Split]int{}}
	sw := harness.Sweep{
		Task:       task,
		Loop:       harness.Loop{Steps: 4, Warmup: 1, MinLRFrac: 0.1, EvalEvery: 2, DivergeMargin: 40},
		Optimizers: []harness.Optimizer{asrTestOptimizer("fadam"), asrTestOptimizer("adamw")},
		LRs:        []float64{1e-3, 1e-2}, Seeds: []uint64{1}, Parallel: 2,
	}
	o, err := sw.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if task.reads[harness.Test] != len(o.Runs) || task.reads[harness.Validation] != len(o.Runs) {
		t.Fatalf("split reads %v for %d runs", task.reads, len(o.Runs))
	}
	before := o.Tuned().Choice
	for i := range o.Runs {
		o.Runs[i].Result.Test[MetricWER] = float64(1000 - i) // reversed order, far from the dev numbers
	}
	after := o.Tuned().Choice
	for name, c := range before {
		if after[name] != c {
			t.Errorf("%s: selection changed with the test numbers: %+v → %+v", name, c, after[name])
		}
	}
	for i := range o.Runs { // make the larger rate best on dev
		o.Runs[i].Result.Validation[MetricWER] = 1 / o.Runs[i].Spec.LR
	}
	for name, c := range o.Tuned().Choice {
		if c.LR != 1e-2 {
			t.Errorf("%s: selection %+v does not follow the dev numbers", name, c)
		}
	}
}
