package vqvae

import (
	"testing"

	"github.com/fadam-go/fadam/nn"
)

// BenchmarkStep times one forward and backward pass of the default model on a batch of 32.
func BenchmarkStep(b *testing.B) {
	for _, loss := range []Loss{L2, CE} {
		b.Run(loss.String(), func(b *testing.B) {
			m, err := New(DefaultConfig(loss, 32), 1)
			if err != nil {
				b.Fatal(err)
			}
			images := vqvaeTestImages(32, 1)
			if err := m.InitCodebook(images, 1); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := m.Forward(images); err != nil {
					b.Fatal(err)
				}
				nn.ZeroGrads(m.Params())
				m.Backward()
			}
		})
	}
}
