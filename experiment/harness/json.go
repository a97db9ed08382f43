package harness

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// jsonFloat encodes a float64 as a JSON number, or as the string "NaN", "+Inf" or "-Inf",
// which plain JSON numbers cannot hold (a diverged run's last point may be non-finite).
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return json.Marshal(strconv.FormatFloat(v, 'g', -1, 64))
	}
	return json.Marshal(v)
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		*f = jsonFloat(v)
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = jsonFloat(v)
	return nil
}

type pointJSON struct {
	Step      int           `json:"step"`
	TrainLoss jsonFloat     `json:"train_loss"`
	Value     jsonFloat     `json:"value"`
	Elapsed   time.Duration `json:"elapsed_ns"`
}

// MarshalJSON encodes p, non-finite values included.
func (p Point) MarshalJSON() ([]byte, error) {
	return json.Marshal(pointJSON{p.Step, jsonFloat(p.TrainLoss), jsonFloat(p.Value), p.Elapsed})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (p *Point) UnmarshalJSON(b []byte) error {
	var j pointJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*p = Point{j.Step, float64(j.TrainLoss), float64(j.Value), j.Elapsed}
	return nil
}

// MarshalJSON encodes m, non-finite values included.
func (m Metrics) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	j := make(map[string]jsonFloat, len(m))
	for k, v := range m {
		j[k] = jsonFloat(v)
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	var j map[string]jsonFloat
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j == nil {
		*m = nil
		return nil
	}
	*m = make(Metrics, len(j))
	for k, v := range j {
		(*m)[k] = float64(v)
	}
	return nil
}
