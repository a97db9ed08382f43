package nn_test

import (
	"fmt"

	"github.com/fadam-go/fadam/nn"
)

// mlpChain is LayerNorm → Linear → GELU → Linear, run one block of rows at a time.
type mlpChain struct {
	ln               *nn.LayerNorm
	fc, out          *nn.Linear
	gelu             nn.GELU
	x, h, mean, rstd []float32
	pre, act, sig, y []float32
	zeroBias         []float32
}

// RunRows runs rows [lo, hi) through the whole chain, so each layer reads what the one before
// it has just written while it is still in cache.
func (c *mlpChain) RunRows(lo, hi int) {
	c.ln.ForwardRows(c.h, c.mean, c.rstd, c.x, lo, hi)
	c.fc.ForwardRowsNoBias(c.pre, c.h, lo, hi)
	c.gelu.ForwardBiasRows(c.act, c.sig, c.pre, c.zeroBias, lo, hi)
	c.out.ForwardRows(c.y, c.x, c.act, lo, hi) // y = x + out(gelu(fc(ln(x))))
}

// A residual MLP over 256 rows of 8 features, in blocks of 32 rows on the worker pool: the
// same bits as running each layer over all rows in turn.
func ExampleRowBlocks() {
	const rows, d = 256, 8
	c := &mlpChain{
		ln: nn.NewLayerNorm("ln", d), fc: nn.NewLinear("fc", d, 4*d, false), out: nn.NewLinear("out", 4*d, d, true),
		x: make([]float32, rows*d), h: make([]float32, rows*d), mean: make([]float32, rows), rstd: make([]float32, rows),
		pre: make([]float32, rows*4*d), act: make([]float32, rows*4*d), sig: make([]float32, rows*4*d),
		y: make([]float32, rows*d), zeroBias: make([]float32, 4*d),
	}
	for i := range c.x {
		c.x[i] = float32(i%7) - 3
	}
	for i := range c.fc.W.Value {
		c.fc.W.Value[i] = float32(i%5-2) / 10
	}
	for i := range c.out.W.Value {
		c.out.W.Value[i] = float32(i%3-1) / 10
	}
	// Pack the weights after every change to them (an optimizer step), before the chain.
	c.fc.PackForward()
	c.out.PackForward()
	var rb nn.RowBlocks
	rb.Run(c, rows, 32)
	fmt.Printf("y[0, :4] = %.4f\n", c.y[:4])

	// The same layers one at a time over all rows.
	var g nn.GELU
	want := make([]float32, rows*d)
	c.ln.Forward(c.h, c.mean, c.rstd, c.x, rows)
	c.fc.ForwardNoBias(c.pre, c.h, rows)
	g.ForwardBias(c.act, c.sig, c.pre, c.zeroBias)
	c.out.ForwardResidual(want, c.x, c.act, rows)
	same := true
	for i := range want {
		same = same && want[i] == c.y[i]
	}
	fmt.Println("same as layer by layer:", same)
	// Output:
	// y[0, :4] = [-3.0047 -2.0250 -0.9703 -0.0047]
	// same as layer by layer: true
}
