package asr

import "testing"

// BenchmarkTrainingStep times Forward, Loss and Backward of the default model on a padded batch
// of 16 utterances of 60–100 frames (0.6–1 s at a 10 ms hop; 15–25 frames after subsampling).
func BenchmarkTrainingStep(b *testing.B) {
	cfg := DefaultConfig()
	m, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	const B, T = 16, 100
	feats := asrTestBatch(B, T, cfg.Mels, 3)
	lens := make([]int, B)
	labels := make([][]int32, B)
	for i := range lens {
		lens[i] = T - 40*i/(B-1)
		for f := lens[i] * cfg.Mels; f < T*cfg.Mels; f++ {
			feats[i*T*cfg.Mels+f] = 0
		}
		labels[i] = []int32{int32(1 + i%11), int32(1 + (i+3)%11), int32(1 + (i+7)%11)}
	}
	for b.Loop() {
		if _, err := m.Forward(feats, lens, B, T); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Loss(labels); err != nil {
			b.Fatal(err)
		}
		m.Backward()
	}
	b.ReportMetric(float64(b.N*B)/b.Elapsed().Seconds(), "utterances/s")
}
