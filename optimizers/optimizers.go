// Package optimizers builds any of the module's four optimizers by name, for command-line tools
// and experiments that swap optimizers with every other hyperparameter unchanged.
package optimizers

import (
	"fmt"
	"io"
	"strings"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/baseline"
)

// Optimizer is the API all four optimizers share.
type Optimizer interface {
	fadam.Stepper
	// Name is the algorithm's name, one of Names.
	Name() string
	// Config returns the hyperparameters, with the current learning rate.
	Config() fadam.Config
	// SetLR sets the learning rate of the following steps.
	SetLR(lr float64)
	// LR is the current learning rate.
	LR() float64
	// Steps is the number of steps taken.
	Steps() int64
	// SetParamOptions sets one parameter's options.
	SetParamOptions(name string, opts fadam.ParamOptions) error
	// SetParamOptionsFunc sets the options of parameters without explicit ones.
	SetParamOptionsFunc(rule func(name string, shape []int) fadam.ParamOptions)
	// Fisher returns a copy of a parameter's diagonal Fisher (second-moment) estimate.
	Fisher(name string) ([]float32, error)
	// StateBytes is the optimizer state held for the registered parameters.
	StateBytes() int64
	// TrafficBytes is the memory traffic of one Step as implemented.
	TrafficBytes() int64
	// Save writes the state to a safetensors file atomically.
	Save(path string) error
	// Load restores a state written by Save, changing nothing on error.
	Load(path string) error
	// WriteTo writes the checkpoint Save would write.
	WriteTo(w io.Writer) (int64, error)
	// Unmarshal loads a checkpoint from its bytes.
	Unmarshal(data []byte) error
}

// Names lists the algorithms New accepts.
var Names = []string{"fadam", "fadafactor", "adam", "adafactor"}

// New builds the named optimizer ("fadam", "fadafactor", "adam" or "adafactor", case
// insensitive) with cfg.
func New(name string, cfg fadam.Config) (Optimizer, error) {
	var (
		o   Optimizer
		err error
	)
	switch strings.ToLower(name) {
	case "fadam":
		o, err = nonNil(fadam.New(cfg))
	case "fadafactor":
		o, err = nonNil(fadam.NewFactored(cfg))
	case "adam", "adamw":
		o, err = nonNil(baseline.NewAdam(cfg))
	case "adafactor":
		o, err = nonNil(baseline.NewAdafactor(cfg))
	default:
		return nil, fmt.Errorf("optimizers: unknown optimizer %q (want one of %s)", name, strings.Join(Names, ", "))
	}
	if err != nil {
		return nil, err
	}
	return o, nil
}

// nonNil converts a constructor's result, never producing a non-nil interface around nil.
func nonNil[T Optimizer](o T, err error) (Optimizer, error) {
	if err != nil {
		return nil, err
	}
	return o, nil
}
