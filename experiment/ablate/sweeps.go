package ablate

import (
	"fmt"
	"strings"

	"github.com/fadam-go/fadam"
	"github.com/fadam-go/fadam/experiment/harness"
	"github.com/fadam-go/fadam/report"
)

// The paper's numbers (Appendix C.1, Tables 2–6), printed beside ours.
var (
	paperRho = PaperTable{
		Caption: "Paper, Table 2: effect of the FIM exponent ρ (LLM 1B eval loss at 1.5k steps; ASR 100M WER at 8k steps)",
		Table: report.Table{
			Header: []string{"model", "ρ=0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"},
			Rows: [][]string{
				{"LLM 1B loss", "5.4", "3.9", "3.8", "3.9", "4.2", "4.3", "4.3", "4.3"},
				{"ASR 100M WER", "43.9", "11.2", "6.04", "6.08", "6.04", "6.08", "6.23", "6.33"},
			},
		},
	}
	paperEps = PaperTable{
		Caption: "Paper, Table 3: adaptive ε against fixed ε (lower is better)",
		Table: report.Table{
			Header: []string{"model", "metric", "steps", "adaptive", "1e-8", "1e-12", "1e-15", "1e-20", "1e-30"},
			Rows: [][]string{
				{"LLM 1B", "loss", "80k", "2.39", "2.47", "2.42", "2.46", "NaN", "NaN"},
				{"ASR 600M", "WER", "8k", "2.04", "2.08", "2.07", "2.08", "2.05", "2.13"},
				{"VQ-VAE 100M", "FID", "50k", "19.5", "20.9", "19.9", "19.6", "19.7", "NaN"},
			},
		},
	}
	paperEps2 = PaperTable{
		Caption: "Paper, Table 4: ε₂ with ε = 1e-8 (lower is better)",
		Table: report.Table{
			Header: []string{"model", "metric", "steps", "1e-1", "1e-2", "1e-3", "1e-4", "1e-6", "1e-8"},
			Rows: [][]string{
				{"LLM 1B", "loss", "60k", "2.63", "2.41", "2.48", "2.45", "2.60", "2.41"},
				{"ASR 600M", "WER", "40k", "1.98", "1.89", "1.92", "1.93", "1.90", "1.91"},
				{"VQ-VAE 100M", "FID", "50k", "19.9", "19.5", "19.6", "19.5", "19.7", "19.8"},
			},
		},
	}
	paperWD = []PaperTable{
		{
			Caption: "Paper, Table 5: LibriSpeech WER (avg of dev, dev-other, test, test-other) of 600M ASR models",
			Table: report.Table{
				Header: []string{"optimizer", "λ=0", "λ=0.001"},
				Rows:   [][]string{{"Adam", "1.94", "1.93"}, {"FAdam", "1.92", "1.89"}},
			},
		},
		{
			Caption: "Paper, Table 6: eval loss of 1B LLMs trained with FAdafactor",
			Table: report.Table{
				Header: []string{"model", "λ=1e-2", "1e-3", "1e-4", "1e-5"},
				Rows:   [][]string{{"LLM 1B", "3.007", "2.875", "2.998", "3.004"}},
			},
		},
	}
)

// adaptiveLabel is the eps sweep's label for the paper's adaptive ε.
const adaptiveLabel = "adaptive"

func init() {
	Sweeps["rho"] = Sweep{
		Name: "rho", Symbol: "ρ",
		Doc:       "FAdam with the exponent ρ of the Fisher information in the denominator f^ρ + ε̂^{2ρ} varied; everything else at its default.",
		Reference: "0.5",
		Default:   []string{"0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"},
		Paper:     []PaperTable{paperRho},
		Build: func(values []string, base fadam.Config) ([]Setting, error) {
			rhos, err := parseFloats("rho", values)
			if err != nil {
				return nil, err
			}
			return fadamSettings(values, base, func(i int, c *fadam.Config) { c.Rho = rhos[i] })
		},
	}
	Sweeps["eps"] = Sweep{
		Name: "eps", Symbol: "ε",
		Doc: "FAdam with the adaptive ε̂ = min(ε, ε₂·RMS(g)) of Algorithm 1 (\"adaptive\", ε = 1e-8, ε₂ = 0.01) " +
			"against a fixed ε̂ = ε (adaptive ε turned off), for each listed ε. Every row, adaptive included, runs " +
			"the float64 reference FAdam of this package (stage 5 of `components`), which is tested against the " +
			"library's FAdam, so that the rows differ only in ε̂.",
		Reference: adaptiveLabel,
		Default:   []string{adaptiveLabel, "1e-8", "1e-12", "1e-15", "1e-20", "1e-30"},
		Paper:     []PaperTable{paperEps},
		Build: func(values []string, base fadam.Config) ([]Setting, error) {
			fa, err := named("fadam", base)
			if err != nil {
				return nil, err
			}
			settings := make([]Setting, len(values))
			for i, v := range values {
				label := strings.TrimSpace(v)
				if strings.EqualFold(label, adaptiveLabel) {
					settings[i] = Setting{Label: adaptiveLabel, Contenders: []harness.Optimizer{{Name: "fadam", Config: fa.Config,
						New: func(c fadam.Config) (fadam.Stepper, error) { return NewPath(StageFisherDecay, c) }}}}
					continue
				}
				x, err := parseFloats("eps", []string{v})
				if err != nil {
					return nil, err
				}
				if x[0] < 0 {
					return nil, fmt.Errorf("ablate eps: value %q is negative", v)
				}
				c := fa.Config
				c.Eps = x[0]
				settings[i] = Setting{Label: label, Contenders: []harness.Optimizer{{Name: "fadam", Config: c,
					New: func(c fadam.Config) (fadam.Stepper, error) { return NewFixedEpsFAdam(c) }}}}
			}
			return settings, nil
		},
	}
	Sweeps["eps2"] = Sweep{
		Name: "eps2", Symbol: "ε₂",
		Doc:       "FAdam with ε = 1e-8 and the multiplier ε₂ of RMS(g) in the adaptive ε varied.",
		Reference: "1e-2",
		Default:   []string{"1e-1", "1e-2", "1e-3", "1e-4", "1e-6", "1e-8"},
		Paper:     []PaperTable{paperEps2},
		Build: func(values []string, base fadam.Config) ([]Setting, error) {
			e2, err := parseFloats("eps2", values)
			if err != nil {
				return nil, err
			}
			for i, v := range e2 {
				if v < 0 {
					return nil, fmt.Errorf("ablate eps2: value %q is negative", values[i])
				}
			}
			return fadamSettings(values, base, func(i int, c *fadam.Config) { c.Eps2 = e2[i] })
		},
	}
	Sweeps["wd"] = Sweep{
		Name: "wd", Symbol: "λ",
		Doc: "Weight decay λ for FAdam (Fisher-weighted decay θ/(√f+ε̂), clipped, scaled by η) and for AdamW " +
			"(decoupled decay η·λ·θ). Biases and LayerNorm parameters never decay.",
		Reference: "1e-3",
		Default:   []string{"0", "1e-5", "1e-4", "1e-3", "1e-2"},
		Paper:     paperWD,
		Build: func(values []string, base fadam.Config) ([]Setting, error) {
			wd, err := parseFloats("wd", values)
			if err != nil {
				return nil, err
			}
			settings := make([]Setting, len(values))
			for i := range values {
				if wd[i] < 0 {
					return nil, fmt.Errorf("ablate wd: value %q is negative", values[i])
				}
				settings[i].Label = strings.TrimSpace(values[i])
				for _, name := range []string{"fadam", "adamw"} {
					// The training loop gives biases and LayerNorm parameters λ = 0.
					o, err := named(name, base)
					if err != nil {
						return nil, err
					}
					o.Config.WeightDecay = wd[i]
					settings[i].Contenders = append(settings[i].Contenders, o)
				}
			}
			return settings, nil
		},
	}
	Sweeps["components"] = Sweep{
		Name: "components", Symbol: "stage",
		Doc: "The path from AdamW to FAdam, one correction at a time, all stages with the same hyperparameters. " +
			"Values are stage numbers 0–5.",
		Default: []string{"0", "1", "2", "3", "4", "5"},
		Build: func(values []string, base fadam.Config) ([]Setting, error) {
			fa, err := named("fadam", base)
			if err != nil {
				return nil, err
			}
			settings := make([]Setting, len(values))
			for i, v := range values {
				var st Stage
				if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d", &st); err != nil || st < StageAdamW || st > StageFisherDecay || fmt.Sprint(int(st)) != strings.TrimSpace(v) {
					return nil, fmt.Errorf("ablate components: value %q is not a stage number 0–5", v)
				}
				settings[i] = Setting{Label: st.String(), Contenders: []harness.Optimizer{{
					Name: "path", Config: fa.Config,
					New: func(c fadam.Config) (fadam.Stepper, error) {
						return NewPath(st, c)
					},
				}}}
			}
			return settings, nil
		},
	}
}

// fadamSettings makes one FAdam contender per value, its config edited by edit(i, ·).
func fadamSettings(values []string, base fadam.Config, edit func(i int, c *fadam.Config)) ([]Setting, error) {
	fa, err := named("fadam", base)
	if err != nil {
		return nil, err
	}
	settings := make([]Setting, len(values))
	for i, v := range values {
		o := fa
		edit(i, &o.Config)
		settings[i] = Setting{Label: strings.TrimSpace(v), Contenders: []harness.Optimizer{o}}
	}
	return settings, nil
}
