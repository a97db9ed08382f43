// Package baseline keeps the names under which the optimizers the FAdam paper compares against
// were first published in this module. They are now built by package fadam itself, on the same
// engine and with the same [fadam.Optimizer] type as FAdam:
//
//   - Adam with PyTorch AdamW semantics, plus Algorithm 3's RMS update clipping when Clip > 0:
//     [fadam.NewAdam];
//   - Adafactor as printed in Algorithm 4: [fadam.NewAdafactor].
//
// New code may use either name; both return the same optimizer.
package baseline

import "github.com/fadam-go/fadam"

// Adam is the optimizer NewAdam returns: a [fadam.Optimizer] running Adam. See [fadam.NewAdam]
// for the semantics. Like every fadam.Optimizer it is not safe for concurrent use.
type Adam = fadam.Optimizer

// Adafactor is the optimizer NewAdafactor returns: a [fadam.Optimizer] running Adafactor
// (Algorithm 4). See [fadam.NewAdafactor]. It is not safe for concurrent use.
type Adafactor = fadam.Optimizer

// NewAdam returns Adam with PyTorch AdamW semantics (and Algorithm 3's update clipping when
// cfg.Clip > 0); it is [fadam.NewAdam]. It reads LR, Beta1, Beta2, Eps, WeightDecay, Clip and
// Maximize.
func NewAdam(cfg fadam.Config) (*Adam, error) { return fadam.NewAdam(cfg) }

// NewAdafactor returns Adafactor as printed in Algorithm 4; it is [fadam.NewAdafactor]. It reads
// LR, Beta1, Beta2, Eps, WeightDecay, Clip (0 disables clipping) and Maximize.
func NewAdafactor(cfg fadam.Config) (*Adafactor, error) { return fadam.NewAdafactor(cfg) }

// AdafactorDefaults returns Algorithm 4's line 1 (ε = 1e-30, c = 1, λ = 0.001) with a learning
// rate of 1e-3; it is fadam.DefaultsFor(fadam.AlgorithmAdafactor).
func AdafactorDefaults() fadam.Config { return fadam.DefaultsFor(fadam.AlgorithmAdafactor) }
