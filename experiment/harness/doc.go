// Package harness is the one experiment harness every experiment of the suite plugs its model,
// data and metric into. It fixes the protocol of a comparison between optimizers:
//
//   - A run is (task, optimizer, peak learning rate, seed) → its curve and final metrics. The
//     seed sets the model's initialisation and its training batches, so two optimizers run with
//     the same seed see the same start and the same data; differences are paired by seed.
//   - One training loop (Train) owns the schedule (linear warmup, then cosine decay to a
//     fraction of the peak), weight-decay groups (matrices decay, biases and gains do not, for
//     every optimizer), context cancellation, timing and divergence. A run diverges at step N
//     when its loss or a gradient becomes non-finite, or when its mean training loss over an
//     evaluation interval, or its curve metric, exceeds the untrained model's curve metric
//     plus a stated margin (Loop.DivergeMargin). A diverged run is a result ("diverged at step
//     N"), never an error.
//   - A Sweep runs a grid (optimizers × learning rates × seeds) on a small worker pool, in an
//     interleaved order (seed, then learning rate, then optimizer), so that a sweep stopped
//     early has compared every optimizer on the seeds it reached.
//   - Sweeps resume: each finished or diverged run is written atomically to
//     <dir>/runs/<key>.json with its complete specification (task configuration, loop,
//     optimizer and its hyperparameters, learning rate, seed) as soon as it ends. Running the
//     same sweep again reuses every stored run whose specification matches exactly and
//     reports how many it reused (Outcome.Reused); anything else is trained again. The
//     specification does not cover the code: after changing the code, use a fresh directory.
//   - Evaluation uses three splits: a cheap fixed Curve subset evaluated during training, a
//     Validation split, and a Test split, both evaluated once at the end. Reports say how much
//     data each number covers (Info.Covers).
//   - Two comparisons. Same learning rate: at every learning rate of the grid, the per-seed
//     difference of the test metric between the two optimizers of a pair. Tuned: each
//     optimizer at its own learning rate, the one with the lowest mean validation metric among
//     those at which every seed finished (SelectLR), reported on the test metric. SelectLR
//     receives a ValidationGrid, which holds validation numbers only, so the test split cannot
//     influence the choice.
//   - Every paired difference is shown with its mean and 95% Student-t interval over seeds,
//     mean ± t(0.975, n−1)·s/√n, and a sentence saying whether the interval excludes zero.
//
// Every metric is lower-is-better. The report helpers (Outcome.Sections, Outcome.Print) write
// the per-learning-rate table (mean ± std over seeds, diverged runs marked), the same-LR and
// tuned comparisons, a sensitivity plot (final metric against log learning rate, one line per
// optimizer with its seed band) and the paired difference against step with its band.
package harness
