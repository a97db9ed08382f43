package vqvae

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/data/mnist"
	"github.com/fadam-go/fadam/models/mnistcls"
)

// ClassifierConfig describes how the feature classifier is trained when no cached weights
// exist.
type ClassifierConfig struct {
	Steps       int          // optimizer steps (constant learning rate Opt.LR)
	Batch       int          // images per step
	Seed        uint64       // initialisation and example order
	Opt         fadam.Config // optimizer hyperparameters
	MinAccuracy float64      // the least test accuracy accepted (0.98 for `fadam vqvae`)
}

// ClassifierInfo says where the classifier came from.
type ClassifierInfo struct {
	Accuracy float64 // test accuracy (recorded with cached weights)
	Trained  bool    // trained in this call rather than loaded
	Note     string  // why cached weights were not used, if they were not
}

// Classifier returns the feature classifier, loading its weights from path when they are
// there and valid, and otherwise training it on train with the optimizer newOpt builds,
// measuring its accuracy on test and saving it to path. It fails when the accuracy falls below
// cfg.MinAccuracy (and then saves nothing).
func Classifier(ctx context.Context, path string, train, test *mnist.Set, cfg ClassifierConfig, newOpt OptimizerFactory) (*mnistcls.Model, ClassifierInfo, error) {
	var info ClassifierInfo
	m, err := mnistcls.New(cfg.Batch, cfg.Seed)
	if err != nil {
		return nil, info, err
	}
	acc, err := m.Load(path)
	if err == nil && acc >= cfg.MinAccuracy {
		info.Accuracy = acc
		return m, info, nil
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		info.Note = "no cached weights"
	case err != nil:
		info.Note = fmt.Sprintf("cached weights unusable (%v)", err)
	default:
		info.Note = fmt.Sprintf("cached weights below %.3f accuracy", cfg.MinAccuracy)
	}
	if m, err = mnistcls.New(cfg.Batch, cfg.Seed); err != nil { // fresh weights
		return nil, info, err
	}
	opt, err := newOpt(cfg.Opt)
	if err != nil {
		return nil, info, fmt.Errorf("vqvae: classifier optimizer: %w", err)
	}
	if _, err := m.Train(ctx, train, mnistcls.TrainConfig{Steps: cfg.Steps, Seed: cfg.Seed}, opt); err != nil {
		return nil, info, fmt.Errorf("vqvae: training the classifier: %w", err)
	}
	if info.Accuracy, err = m.Accuracy(test); err != nil {
		return nil, info, err
	}
	if info.Accuracy < cfg.MinAccuracy {
		return nil, info, fmt.Errorf("vqvae: classifier reached %.4f test accuracy, below the %.4f required", info.Accuracy, cfg.MinAccuracy)
	}
	if err := m.Save(path, info.Accuracy); err != nil {
		return nil, info, err
	}
	info.Trained = true
	return m, info, nil
}
