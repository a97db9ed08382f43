package fadamgomlx_test

import (
	"fmt"

	_ "github.com/fadam-go/fadam/gomlx" // registers "fadam", "fadafactor" and "adafactor"
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
