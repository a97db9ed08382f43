package strictjson

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

type inner struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

type outer struct {
	LR      float64
	Small   float32
	N       int8
	On      bool
	Pair    [2]int64
	Items   []inner
	ByName  map[string]inner
	skipped int
	Ignored int `json:"-"`
}

const good = `{"LR": 0.001, "Small": 1e-3, "N": -7, "On": true, "Pair": [1, 2],
	"Items": [{"name": "w", "shape": [2, 3]}, {"shape": [], "name": ""}],
	"ByName": {"a": {"name": "x", "shape": [0]}}}`

func TestUnmarshal(t *testing.T) {
	var got outer
	if err := Unmarshal([]byte(good), &got); err != nil {
		t.Fatal(err)
	}
	want := outer{LR: 0.001, Small: 1e-3, N: -7, On: true, Pair: [2]int64{1, 2},
		Items:  []inner{{"w", []int{2, 3}}, {"", []int{}}},
		ByName: map[string]inner{"a": {"x", []int{0}}}}
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	var f float64
	if err := Unmarshal([]byte("5e-324"), &f); err != nil || f != math.SmallestNonzeroFloat64 {
		t.Errorf("subnormal: %v, %v", f, err)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(good, old) {
			panic(old)
		}
		return strings.Replace(good, old, new, 1)
	}
	tests := []struct{ name, data, want string }{
		{"missing field", edit(`"N": -7, `, ""), `missing field "N"`},
		{"missing nested field", edit(`{"name": "w", `, "{"), `Items[0]: missing field "name"`},
		{"unknown field", edit(`"On": true`, `"On": true, "Off": false`), `unknown field "Off"`},
		{"case-folded field", edit(`"LR"`, `"lr"`), `unknown field "lr"`},
		{"duplicate field", edit(`"On": true`, `"On": true, "On": false`), `duplicate field "On"`},
		{"duplicate nested field", edit(`"shape": [2, 3]`, `"shape": [2, 3], "shape": [1]`), `Items[0]: duplicate field "shape"`},
		{"null map value", edit(`{"a": {"name"`, `{"b": null, "a": {"name"`), `ByName["b"] is null`},
		{"duplicate map key", edit(`{"a": {"name": "x", "shape": [0]}}`, `{"a": {"name": "x", "shape": [0]}, "a": {"name": "y", "shape": [1]}}`), `ByName: duplicate key "a"`},
		{"null float", edit(`0.001`, `null`), `LR is null`},
		{"null slice", edit(`[], "name"`, `null, "name"`), `Items[1].shape is null`},
		{"string for float", edit(`0.001`, `"0.001"`), `LR is a string, want a number`},
		{"float overflow", edit(`0.001`, `1e309`), "beyond the range of float64"},
		{"float32 overflow", edit(`1e-3`, `1e39`), "beyond the range of float32"},
		{"fractional int", edit(`-7`, `-7.0`), "want an integer of 8 bits"},
		{"int overflow", edit(`-7`, `-129`), "want an integer of 8 bits"},
		{"exponent int", edit(`[1, 2]`, `[1e0, 2]`), "want an integer"},
		{"short array", edit(`[1, 2]`, `[1]`), "has 1 elements, want 2"},
		{"long array", edit(`[1, 2]`, `[1, 2, 3]`), "more than 2 elements"},
		{"object for array", edit(`[1, 2]`, `{}`), "is an object, want an array"},
		{"number for bool", edit(`true`, `1`), "want true or false"},
		{"trailing data", good + ` {}`, "data after"},
		{"truncated", good[:40], "EOF"},
		{"empty", ``, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got outer
			err := Unmarshal([]byte(tt.data), &got)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Unmarshal = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if err := Unmarshal([]byte(`1`), outer{}); err == nil {
		t.Error("Unmarshal into a non-pointer succeeded")
	}
}

func TestCheckDuplicateKeys(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{`{"a": 1, "b": {"a": 2}, "c": [{"a": 1}, {"a": 2}], "d": "a"}`, ""},
		{`{"a": "b", "b": 1}`, ""},
		{`[{"x": [1, {"y": 2}]}, "x", "x"]`, ""},
		{`{"a": 1, "a": 2}`, `duplicate key "a"`},
		{`{"a": {"b": [1, 2], "c": {}, "b": 3}}`, `duplicate key "b"`},
		{`[{"x": 1}, {"y": {"z": 1, "z": 1}}]`, `duplicate key "z"`},
		{`{"a": [{"k": "k"}], "a": 1}`, `duplicate key "a"`},
		{`{"a": 1`, "EOF"},
	} {
		err := CheckDuplicateKeys([]byte(tc.data))
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckDuplicateKeys(%s) = %v, want %q", tc.data, err, tc.want)
		}
	}
}
