// Package optimizers builds any of the module's four optimizers by name, for command-line tools
// and experiments that swap optimizers with every other hyperparameter unchanged.
package optimizers

import (
	"fmt"
	"strings"

	"github.com/fadam-go/fadam"
)

// Optimizer is what New returns: the module's one optimizer type, [fadam.Optimizer], whatever
// the algorithm. It is not safe for concurrent use.
type Optimizer = *fadam.Optimizer

// Names lists the algorithms New accepts.
var Names = []string{"fadam", "fadafactor", "adam", "adafactor"}

// New builds the named optimizer ("fadam", "fadafactor", "adam" (alias "adamw") or
// "adafactor", case insensitive) with cfg exactly as given. To give the optimizer its own
// algorithm's constants, pass cfg.WithConstants(fadam.Algorithm(name)).
func New(name string, cfg fadam.Config) (Optimizer, error) {
	alg := fadam.Algorithm(strings.ToLower(name))
	if alg == "adamw" {
		alg = fadam.AlgorithmAdam
	}
	switch alg {
	case fadam.AlgorithmFAdam, fadam.AlgorithmFAdafactor, fadam.AlgorithmAdam, fadam.AlgorithmAdafactor:
		return alg.New(cfg)
	}
	return nil, fmt.Errorf("optimizers: unknown optimizer %q (want one of %s)", name, strings.Join(Names, ", "))
}
