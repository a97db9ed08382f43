package nn

import (
	"github.com/fadam-go/fadam"
)

// TokenPosEmbedding maps a [B, T] batch of token ids to [B, T, C] activations: the sum of a
// token embedding Tok[id] (Tok has shape [Vocab, C]) and a position embedding Pos[t] (Pos has
// shape [MaxT, C]).
type TokenPosEmbedding struct {
	Vocab, MaxT, C int
	Tok, Pos       *fadam.Param
}

// NewTokenPosEmbedding returns zero embeddings named tokName and posName.
func NewTokenPosEmbedding(tokName, posName string, vocab, maxT, c int) *TokenPosEmbedding {
	return &TokenPosEmbedding{Vocab: vocab, MaxT: maxT, C: c,
		Tok: NewParam(tokName, vocab, c), Pos: NewParam(posName, maxT, c)}
}

// Params returns Tok and Pos.
func (e *TokenPosEmbedding) Params() []*fadam.Param { return []*fadam.Param{e.Tok, e.Pos} }

// Forward writes out[b, t] = Tok[tokens[b·T+t]] + Pos[t]. Every token id must lie in
// [0, Vocab) and T must not exceed MaxT (the callers guarantee it; the model checks its input).
func (e *TokenPosEmbedding) Forward(out []float32, tokens []int32, b, t int) {
	c := e.C
	for bi := range b {
		for ti := range t {
			row := bi*t + ti
			o := out[row*c : (row+1)*c]
			ResidualAdd(o, e.Tok.Value[int(tokens[row])*c:][:c], e.Pos.Value[ti*c:][:c])
		}
	}
}

// Backward accumulates dout[B, T, C] into the rows of Tok and Pos the forward read.
func (e *TokenPosEmbedding) Backward(dout []float32, tokens []int32, b, t int) {
	c := e.C
	for bi := range b {
		for ti := range t {
			row := bi*t + ti
			d := dout[row*c : (row+1)*c]
			tok := e.Tok.Grad[int(tokens[row])*c:][:c]
			pos := e.Pos.Grad[ti*c:][:c]
			ResidualAdd(tok, tok, d)
			ResidualAdd(pos, pos, d)
		}
	}
}
