package nn_test

import (
	"testing"

	"github.com/fadam-go/fadam/nn"
)

func TestTokenPosEmbedding(t *testing.T) {
	const vocab, maxT, c, b, tt = 5, 4, 3, 2, 3
	e := nn.NewTokenPosEmbedding("wte", "wpe", vocab, maxT, c)
	copy(e.Tok.Value, substrateRand(vocab*c, 1, 1))
	copy(e.Pos.Value, substrateRand(maxT*c, 1, 2))
	tokens := []int32{4, 0, 4, 1, 2, 3} // token 4 twice: its gradient must accumulate
	out := make([]float32, b*tt*c)
	e.Forward(out, tokens, b, tt)
	want := make([]float64, b*tt*c)
	for r, tok := range tokens {
		for i := range c {
			want[r*c+i] = float64(e.Tok.Value[int(tok)*c+i]) + float64(e.Pos.Value[(r%tt)*c+i])
		}
	}
	substrateClose(t, "out", out, want, 1e-6)

	w := substrateRand(len(out), 1, 3)
	loss := func() float64 { e.Forward(out, tokens, b, tt); return substrateDot(w, out) }
	nn.ZeroGrads(e.Params())
	e.Backward(w, tokens, b, tt)
	substrateGradcheck(t, "wte", loss, e.Tok.Value, e.Tok.Grad, 1e-2, 1e-3)
	substrateGradcheck(t, "wpe", loss, e.Pos.Value, e.Pos.Grad, 1e-2, 1e-3)
}
