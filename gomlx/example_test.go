package fadamgomlx_test

import (
	"fmt"

	fadamgomlx "github.com/fadam-go/fadam/gomlx"
	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// The optimizers are selected by name and configured from context hyperparameters, like GoMLX's
// own. Here FAdafactor minimises Σ w² for a 2×2 w (a factored Fisher) and a bias b (a full one,
// spared from weight decay by "fadafactor_weight_decay_min_rank").
func Example_byName() {
	backend, err := simplego.New("ops_sequential")
	if err != nil {
		panic(err)
	}
	ctx := context.New()
	ctx.SetParams(map[string]any{
		optimizers.ParamOptimizer:          "fadafactor",
		optimizers.ParamLearningRate:       0.1,
		"fadafactor_weight_decay_min_rank": 2,
	})
	w := ctx.In("model").VariableWithValue("w", [][]float32{{1, -2}, {3, 4}})
	b := ctx.In("model").VariableWithValue("b", []float32{0.5, -0.5})
	opt := optimizers.FromContext(ctx)
	exec := context.MustNewExec(backend, ctx, func(ctx *context.Context, g *Graph) *Node {
		loss := Add(ReduceAllSum(Square(w.ValueGraph(g))), ReduceAllSum(Square(b.ValueGraph(g))))
		opt.UpdateGraph(ctx, g, loss)
		return loss
	})
	for range 10 {
		exec.MustExec()
	}
	fmt.Printf("w %.3f\n", tensors.MustCopyFlatData[float32](w.MustValue()))
	fmt.Printf("b %.3f\n", tensors.MustCopyFlatData[float32](b.MustValue()))
	// Output:
	// w [0.694 -1.559 2.578 3.599]
	// b [0.135 -0.135]
}

// Per-variable options, like PyTorch parameter groups: here the bias b gets no weight decay and a
// ten times smaller learning rate, and w keeps the optimizer's λ. The rule sees each variable
// with its defaults and returns the options to use.
func ExampleConfig_PerVariable() {
	backend, err := simplego.New("ops_sequential")
	if err != nil {
		panic(err)
	}
	ctx := context.New()
	w := ctx.In("model").VariableWithValue("w", [][]float32{{1, -2}, {3, 4}})
	b := ctx.In("model").VariableWithValue("b", []float32{0.5, -0.5})
	opt := fadamgomlx.FAdam().LearningRate(0.1).WeightDecay(0.01).
		PerVariable(func(v *context.Variable, o fadamgomlx.VariableOptions) fadamgomlx.VariableOptions {
			if v.Name() == "b" {
				o.WeightDecay, o.LRScale = 0, 0.1
			}
			return o
		}).Done()
	exec := context.MustNewExec(backend, ctx, func(ctx *context.Context, g *Graph) *Node {
		loss := Add(ReduceAllSum(Square(w.ValueGraph(g))), ReduceAllSum(Square(b.ValueGraph(g))))
		opt.UpdateGraph(ctx, g, loss)
		return loss
	})
	for range 5 {
		exec.MustExec()
	}
	fmt.Printf("w %.3f\n", tensors.MustCopyFlatData[float32](w.MustValue()))
	fmt.Printf("b %.3f\n", tensors.MustCopyFlatData[float32](b.MustValue()))
	// Output:
	// w [0.868 -1.867 2.867 3.867]
	// b [0.487 -0.487]
}

// Global-norm gradient clipping with PyTorch's clip_grad_norm_ semantics, and the pre-clip norm
// read back after each step for logging.
func ExampleConfig_ClipGlobalNorm() {
	backend, err := simplego.New("ops_sequential")
	if err != nil {
		panic(err)
	}
	ctx := context.New()
	w := ctx.In("model").VariableWithValue("w", []float32{3, -4})
	cfg := fadamgomlx.FAdam().LearningRate(0.1).ClipGlobalNorm(1)
	opt := cfg.Done()
	exec := context.MustNewExec(backend, ctx, func(ctx *context.Context, g *Graph) *Node {
		loss := ReduceAllSum(Square(w.ValueGraph(g))) // gradient 2w, norm 10 at the start
		opt.UpdateGraph(ctx, g, loss)
		return loss
	})
	for range 3 {
		exec.MustExec()
		norm, err := cfg.GradientNorm(ctx)
		if err != nil {
			panic(err)
		}
		fmt.Printf("gradient norm %.3f, w %.3f\n", norm, tensors.MustCopyFlatData[float32](w.MustValue()))
	}
	// Output:
	// gradient norm 10.000, w [2.990 -3.990]
	// gradient norm 9.972, w [2.971 -3.971]
	// gradient norm 9.918, w [2.944 -3.944]
}
