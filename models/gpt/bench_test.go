package gpt

import "testing"

// BenchmarkTrainingStep times Forward+Backward of the speed model (d=128, 4 layers,
// 4 heads, ctx 128, batch 32) and reports tokens/s and the matmul GFLOP/s it implies.
func BenchmarkTrainingStep(b *testing.B) {
	cfg := Config{D: 128, Layers: 4, Heads: 4, Ctx: 128, Batch: 32}
	m, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	in, tg := tinyBatch(cfg, 1)
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Forward(in, tg); err != nil {
			b.Fatal(err)
		}
		m.Backward()
	}
	tokens := float64(b.N * cfg.Batch * cfg.Ctx)
	sec := b.Elapsed().Seconds()
	b.ReportMetric(tokens/sec, "tokens/s")
	b.ReportMetric(tokens*cfg.FlopsPerToken()/sec/1e9, "matmulGFLOP/s")
}

// BenchmarkTrainingStepSmall times the default `fadam compare` model (d=64, 2 layers, 4 heads,
// ctx 64, batch 16).
func BenchmarkTrainingStepSmall(b *testing.B) {
	cfg := Config{D: 64, Layers: 2, Heads: 4, Ctx: 64, Batch: 16}
	m, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	in, tg := tinyBatch(cfg, 1)
	for b.Loop() {
		if _, err := m.Forward(in, tg); err != nil {
			b.Fatal(err)
		}
		m.Backward()
	}
	b.ReportMetric(float64(b.N*cfg.Batch*cfg.Ctx)/b.Elapsed().Seconds(), "tokens/s")
}
