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
)

// Checkpoint layout (safetensors, all tensors F32). Tensors are named <param>.<suffix>: "m" for
// momentum and the square roots of the Fisher estimates the kernels hold ("sqrt_f" for f,
// "sqrt_v" for Adam's v, "sqrt_R" and "sqrt_C" for the factored R and C; square them in Python
// for f). Metadata keys:
const (
	metaFormat    = "format"         // formatName
	metaVersion   = "format_version" // formatVersion
	metaAlgorithm = "algorithm"      // "fadam", "fadafactor", "adam" or "adafactor"
	metaStep      = "step"           // completed steps, decimal
	metaConfig    = "config"         // Config as JSON (Go field names), current LR included
	metaParams    = "params"         // JSON list of {name, shape} in step order
	metaOptions   = "options"        // JSON object: parameter name → ParamOptions

	formatName    = "fadam-go optimizer state"
	formatVersion = "1"
)

type paramEntry struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// encode builds the checkpoint's tensors and metadata.
func (o *Optimizer) encode() ([]safetensors.Tensor, map[string]string, error) {
	cfg, err := json.Marshal(o.cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: encoding config: %w", o.alg.name, err)
	}
	opts := maps.Clone(o.opts)
	params := make([]paramEntry, len(o.tensors))
	var tensors []safetensors.Tensor
	for i, t := range o.tensors {
		params[i] = paramEntry{t.name, t.shape}
		if _, ok := opts[t.name]; !ok {
			opts[t.name] = o.ParamOptions(t.name, t.shape)
		}
		for _, s := range t.k.state() {
			shape := s.shape
			if shape == nil {
				shape = t.shape
			}
			tensors = append(tensors, safetensors.Tensor{Name: t.name + "." + s.suffix, Shape: shape, Data: s.data})
		}
	}
	pj, err := json.Marshal(params)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: encoding parameters: %w", o.alg.name, err)
	}
	oj, err := json.Marshal(opts)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: encoding options: %w", o.alg.name, err)
	}
	meta := map[string]string{
		metaFormat:    formatName,
		metaVersion:   formatVersion,
		metaAlgorithm: string(o.alg.name),
		metaStep:      strconv.FormatInt(o.step, 10),
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
	ts, meta, err := safetensors.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", o.alg.name, ErrCheckpoint, err)
	}
	return o.restore(ts, meta)
}

// Unmarshal loads a checkpoint from its bytes.
func (o *Optimizer) unmarshal(data []byte) error {
	ts, meta, err := safetensors.Decode(data)
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
	if meta[metaFormat] != formatName {
		return fail("not an optimizer checkpoint (format %q)", meta[metaFormat])
	}
	if meta[metaVersion] != formatVersion {
		return fail("format version %q, this code reads %q", meta[metaVersion], formatVersion)
	}
	if meta[metaAlgorithm] != string(o.alg.name) {
		return fail("checkpoint of algorithm %q", meta[metaAlgorithm])
	}
	step, err := strconv.ParseInt(meta[metaStep], 10, 64)
	if err != nil || step < 0 {
		return fail("bad step count %q", meta[metaStep])
	}
	var cfg Config
	if err := json.Unmarshal([]byte(meta[metaConfig]), &cfg); err != nil {
		return fail("bad config: %v", err)
	}
	if err := cfg.Validate(o.alg.name); err != nil {
		return fail("config: %v", err)
	}
	var params []paramEntry
	if err := json.Unmarshal([]byte(meta[metaParams]), &params); err != nil {
		return fail("bad parameter list: %v", err)
	}
	opts := map[string]ParamOptions{}
	if err := json.Unmarshal([]byte(meta[metaOptions]), &opts); err != nil {
		return fail("bad options: %v", err)
	}
	for name, o := range opts {
		if err := validOptions(name, o); err != nil {
			return fail("%v", err)
		}
	}
	names := make([]string, len(params))
	shapes := make([][]int, len(params))
	seen := map[string]bool{}
	for i, p := range params {
		if p.Name == "" || seen[p.Name] {
			return fail("empty or duplicate parameter name %q", p.Name)
		}
		seen[p.Name] = true
		if _, err := numElements(p.Shape); err != nil {
			return fail("parameter %q: %v", p.Name, err)
		}
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
			for j, x := range src.Data {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) || (s.nonNegative && x < 0) {
					return fail("tensor %q element %d is %v", name, j, x)
				}
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
