package vqvae

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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
	MinAccuracy float64      // the least accuracy accepted on the held-out set (0.98 for `fadam vqvae`)
}

// ClassifierPath is the file in the cache directory dir that holds the classifier trained on
// train with cfg: its name carries a hash of both, so a different training set (another --data)
// or configuration never loads weights made for this one.
func ClassifierPath(dir string, train *mnist.Set, cfg ClassifierConfig) (string, error) {
	h := sha256.New()
	c, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("vqvae: %w", err)
	}
	h.Write(c)
	fmt.Fprintf(h, "%d %d %d\n", train.N, train.Rows, train.Cols)
	h.Write(train.Images)
	h.Write(train.Labels)
	return filepath.Join(dir, "mnistcls-"+hex.EncodeToString(h.Sum(nil))[:16]+".safetensors"), nil
}

// ClassifierInfo says where the classifier came from.
type ClassifierInfo struct {
	Path     string  // the weights' file
	Accuracy float64 // accuracy on the held-out set (recorded with cached weights)
	Trained  bool    // trained in this call rather than loaded
	Note     string  // why cached weights were not used, if they were not
}

// Classifier returns the feature classifier, loading its weights from path when they are
// there and valid, and otherwise training it on train with the optimizer newOpt builds,
// measuring its accuracy on heldOut and saving it to path (creating its directory). It fails
// when the accuracy falls below cfg.MinAccuracy (and then saves nothing).
func Classifier(ctx context.Context, path string, train, heldOut *mnist.Set, cfg ClassifierConfig, newOpt OptimizerFactory) (*mnistcls.Model, ClassifierInfo, error) {
	info := ClassifierInfo{Path: path}
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
	if info.Accuracy, err = m.Accuracy(heldOut); err != nil {
		return nil, info, err
	}
	if info.Accuracy < cfg.MinAccuracy {
		return nil, info, fmt.Errorf("vqvae: classifier reached %.4f held-out accuracy, below the %.4f required", info.Accuracy, cfg.MinAccuracy)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, info, fmt.Errorf("vqvae: classifier cache: %w", err)
	}
	if err := m.Save(path, info.Accuracy); err != nil {
		return nil, info, err
	}
	info.Trained = true
	return m, info, nil
}
