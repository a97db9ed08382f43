package nn

// ReLU is the rectifier y = max(x, 0), elementwise.
type ReLU struct{}

// Forward writes max(x, 0) to y; y may be x.
func (ReLU) Forward(y, x []float32) {
	for i, v := range x[:len(y)] {
		y[i] = max(v, 0)
	}
}

// Backward adds dy to dx where the forward output y is positive.
func (ReLU) Backward(dx, dy, y []float32) {
	for i, v := range y[:len(dx)] {
		if v > 0 {
			dx[i] += dy[i]
		}
	}
}
