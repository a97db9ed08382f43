package fadam

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/fadam-go/fadam/internal/safetensors"
	"github.com/fadam-go/fadam/internal/strictjson"
)

// Checkpoint layout (safetensors, all tensors F32). Tensors are named <param>.<suffix>: "m" for
// momentum and the square roots of the Fisher estimates the kernels hold ("sqrt_f" for f,
// "sqrt_v" for Adam's v, "sqrt_R" and "sqrt_C" for the factored R and C; square them in Python
// for f). The file carries a CRC-32C of all its bytes (safetensors.FileCRCKey), which Load
// requires. Metadata keys, every one required and no other allowed:
const (
	metaFormat    = "format"         // formatName
	metaVersion   = "format_version" // formatVersion
	metaAlgorithm = "algorithm"      // "fadam", "fadafactor", "adam" or "adafactor"
	metaStep      = "step"           // completed steps, decimal, 0 to MaxSteps
	metaConfig    = "config"         // Config as JSON (Go field names, all of them), current LR included
	metaParams    = "params"         // JSON list of {name, shape} in step order
	metaOptions   = "options"        // JSON object: parameter name → ParamOptions (all fields)

	formatName = "fadam-go optimizer state"
	// formatVersion 2 checksums the whole file; version 1 checksummed only the data section, so
	// a damaged header could load as a changed state, and is refused.
	formatVersion = "2"
)

// metaKeys lists the metadata keys of a checkpoint.
var metaKeys = []string{metaFormat, metaVersion, metaAlgorithm, metaStep, metaConfig, metaParams, metaOptions}

type paramEntry struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// snapshot is what a checkpoint holds besides the state tensors.
type snapshot struct {
	step   int64
	cfg    Config
	params []paramEntry
	opts   map[string]ParamOptions
}

// check validates a snapshot for alg. Save refuses to write, and Load to read, a snapshot that
// fails it, so that Save never writes a file Load refuses: the step count, the configuration,
// the parameters' names and shapes, and for every parameter its options and effective learning
// rate.
func (s *snapshot) check(alg Algorithm) error {
	if s.step < 0 || s.step > MaxSteps {
		return fmt.Errorf("%w: step count %d, want 0 to %d", ErrInvalidConfig, s.step, int64(MaxSteps))
	}
	if err := s.cfg.Validate(alg); err != nil {
		return err
	}
	seen := make(map[string]bool, len(s.params))
	for i, p := range s.params {
		if err := checkName(p.Name); err != nil {
			return fmt.Errorf("parameter %d: %w", i, err)
		}
		if seen[p.Name] {
			return fmt.Errorf("%w: duplicate parameter name %q", ErrInvalidParam, p.Name)
		}
		seen[p.Name] = true
		if _, err := numElements(p.Shape); err != nil {
			return fmt.Errorf("%w: parameter %q: %v", ErrInvalidParam, p.Name, err)
		}
		if _, ok := s.opts[p.Name]; !ok {
			return fmt.Errorf("%w: parameter %q has no options", ErrInvalidParam, p.Name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.opts)) { // sorted: the same error every time
		o := s.opts[name]
		if err := checkName(name); err != nil {
			return fmt.Errorf("options: %w", err)
		}
		// Before the first step there are no parameters yet, and options may name any.
		if len(s.params) > 0 && !seen[name] {
			return fmt.Errorf("%w %q: options are set for it, but it is not among the parameters", ErrUnknownParam, name)
		}
		if err := validOptions(name, o, s.cfg.LR); err != nil {
			return err
		}
	}
	return nil
}

// checkState validates the values of a state tensor named name: finite, and ≥ 0 where the
// kernel says so.
func checkState(name string, data []float32, nonNegative bool) error {
	for j, x := range data {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) || (nonNegative && x < 0) {
			return fmt.Errorf("tensor %q element %d is %v", name, j, x)
		}
	}
	return nil
}

// encode builds the checkpoint's tensors and metadata, after checking that Load will accept
// them.
func (o *Optimizer) encode() ([]safetensors.Tensor, map[string]string, error) {
	snap := snapshot{step: o.step, cfg: o.cfg, params: make([]paramEntry, len(o.tensors)), opts: maps.Clone(o.opts)}
	if snap.opts == nil {
		snap.opts = map[string]ParamOptions{} // {}, never null
	}
	var tensors []safetensors.Tensor
	for i, t := range o.tensors {
		snap.params[i] = paramEntry{t.name, t.shape}
		if t.shape == nil {
			snap.params[i].Shape = []int{} // a scalar: [], never null
		}
		if _, ok := snap.opts[t.name]; !ok {
			snap.opts[t.name] = o.ParamOptions(t.name, t.shape)
		}
		for _, s := range t.k.state() {
			shape := s.shape
			if shape == nil {
				shape = t.shape
			}
			name := t.name + "." + s.suffix
			if err := checkState(name, s.data, s.nonNegative); err != nil {
				return nil, nil, fmt.Errorf("%s: cannot save: %w", o.alg.name, err)
			}
			tensors = append(tensors, safetensors.Tensor{Name: name, Shape: shape, Data: s.data})
		}
	}
	if err := snap.check(o.alg.name); err != nil {
		return nil, nil, fmt.Errorf("%s: cannot save: %w", o.alg.name, err)
	}
	cfg, err := json.Marshal(snap.cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: encoding config: %w", o.alg.name, err)
	}
	pj, err := json.Marshal(snap.params)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: encoding parameters: %w", o.alg.name, err)
	}
	oj, err := json.Marshal(snap.opts)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: encoding options: %w", o.alg.name, err)
	}
	meta := map[string]string{
		metaFormat:    formatName,
		metaVersion:   formatVersion,
		metaAlgorithm: string(o.alg.name),
		metaStep:      strconv.FormatInt(snap.step, 10),
		metaConfig:    string(cfg),
		metaParams:    string(pj),
		metaOptions:   string(oj),
	}
	return tensors, meta, nil
}

// Save writes the checkpoint to path atomically.
func (o *Optimizer) save(path string) error {
	ts, meta, err := o.encode()
	if err != nil {
		return err
	}
	if err := safetensors.WriteFile(path, ts, meta); err != nil {
		return fmt.Errorf("%s: saving state: %w", o.alg.name, err)
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// WriteTo writes the checkpoint to w.
func (o *Optimizer) writeTo(w io.Writer) (int64, error) {
	ts, meta, err := o.encode()
	if err != nil {
		return 0, err
	}
	cw := &countingWriter{w: w}
	if err := safetensors.Encode(cw, ts, meta); err != nil {
		return cw.n, fmt.Errorf("%s: writing state: %w", o.alg.name, err)
	}
	return cw.n, nil
}

// Load reads a checkpoint file written by Save.
func (o *Optimizer) load(path string) error {
	ts, meta, err := safetensors.ReadFileChecked(path)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", o.alg.name, ErrCheckpoint, err)
	}
	return o.restore(ts, meta)
}

// Unmarshal loads a checkpoint from its bytes.
func (o *Optimizer) unmarshal(data []byte) error {
	ts, meta, err := safetensors.DecodeChecked(data)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", o.alg.name, ErrCheckpoint, err)
	}
	return o.restore(ts, meta)
}

// restore validates a decoded checkpoint completely, then replaces the engine's state with it.
func (o *Optimizer) restore(ts []safetensors.Tensor, meta map[string]string) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: %s", o.alg.name, ErrCheckpoint, fmt.Sprintf(format, args...))
	}
	for k := range meta {
		if !slices.Contains(metaKeys, k) {
			return fail("unknown metadata key %q", k)
		}
	}
	for _, k := range metaKeys {
		if _, ok := meta[k]; !ok {
			return fail("missing metadata key %q", k)
		}
	}
	if meta[metaFormat] != formatName {
		return fail("not an optimizer checkpoint (format %q)", meta[metaFormat])
	}
	switch v := meta[metaVersion]; v {
	case formatVersion:
	case "1":
		return fail("format version 1 is no longer read: its header was not checksummed (save the state again with the version that wrote it, or start afresh)")
	default:
		return fail("format version %q, this code reads %q", v, formatVersion)
	}
	if meta[metaAlgorithm] != string(o.alg.name) {
		return fail("checkpoint of algorithm %q", meta[metaAlgorithm])
	}
	step, err := strconv.ParseInt(meta[metaStep], 10, 64)
	// Only the decimal form Save writes: ParseInt alone would also take "+1" and "01".
	if err != nil || step < 0 || step > MaxSteps || strconv.FormatInt(step, 10) != meta[metaStep] {
		return fail("bad step count %q (want an integer from 0 to %d)", meta[metaStep], int64(MaxSteps))
	}
	snap := snapshot{step: step}
	if err := strictjson.Unmarshal([]byte(meta[metaConfig]), &snap.cfg); err != nil {
		return fail("bad config: %v", err)
	}
	if err := strictjson.Unmarshal([]byte(meta[metaParams]), &snap.params); err != nil {
		return fail("bad parameter list: %v", err)
	}
	if err := strictjson.Unmarshal([]byte(meta[metaOptions]), &snap.opts); err != nil {
		return fail("bad options: %v", err)
	}
	if err := snap.check(o.alg.name); err != nil {
		return fail("%v", err)
	}
	cfg, params, opts := snap.cfg, snap.params, snap.opts
	names := make([]string, len(params))
	shapes := make([][]int, len(params))
	for i, p := range params {
		names[i], shapes[i] = p.Name, p.Shape
	}
	if o.tensors != nil {
		if len(params) != len(o.tensors) {
			return fail("%d parameters, the optimizer has %d", len(params), len(o.tensors))
		}
		for i, t := range o.tensors {
			if names[i] != t.name || !slices.Equal(shapes[i], t.shape) {
				return fail("parameter %d is %q %v, the optimizer has %q %v", i, names[i], shapes[i], t.name, t.shape)
			}
		}
	}
	byName := make(map[string]safetensors.Tensor, len(ts))
	for _, t := range ts {
		byName[t.Name] = t
	}
	// Every algorithm keeps a momentum of the parameter's shape: checking it before allocating
	// bounds the allocation by the checkpoint's size.
	for i, name := range names {
		m, ok := byName[name+".m"]
		n, _ := numElements(shapes[i])
		if !ok || len(m.Data) != n {
			return fail("parameter %q: no momentum tensor %q of %d elements", name, name+".m", n)
		}
	}
	fresh := o.newTensorsWith(names, shapes, &cfg)
	used := 0
	for _, t := range fresh {
		for _, s := range t.k.state() {
			name := t.name + "." + s.suffix
			shape := s.shape
			if shape == nil {
				shape = t.shape
			}
			src, ok := byName[name]
			if !ok {
				return fail("missing tensor %q", name)
			}
			if !slices.Equal(src.Shape, shape) && !(len(src.Shape) == 0 && len(shape) == 0) {
				return fail("tensor %q has shape %v, want %v", name, src.Shape, shape)
			}
			if len(src.Data) != len(s.data) {
				return fail("tensor %q has %d elements, want %d", name, len(src.Data), len(s.data))
			}
			if err := checkState(name, src.Data, s.nonNegative); err != nil {
				return fail("%v", err)
			}
			copy(s.data, src.Data)
			used++
		}
	}
	if used != len(ts) {
		return fail("%d tensors, expected %d", len(ts), used)
	}
	// Everything checked: commit.
	o.cfg = cfg
	o.step = step
	o.opts = opts
	if len(fresh) == 0 {
		fresh = nil
	}
	o.tensors = fresh
	return nil
}

// newTensorsWith allocates fresh state for a parameter set under cfg.
func (o *Optimizer) newTensorsWith(names []string, shapes [][]int, cfg *Config) []*tensor {
	ts := make([]*tensor, len(names))
	for i := range names {
		n, _ := numElements(shapes[i])
		shape := slices.Clone(shapes[i])
		ts[i] = &tensor{name: names[i], shape: shape, n: n, k: o.alg.newKernel(shape, n, cfg)}
	}
	return ts
}
