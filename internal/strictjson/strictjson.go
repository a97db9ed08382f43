// Package strictjson decodes JSON that a program wrote for itself, such as the metadata of a
// checkpoint, where anything unexpected means corruption or tampering rather than a newer
// writer. encoding/json is lenient in ways that let such damage through: it keeps the last of
// duplicate keys, matches keys case-insensitively, leaves fields that are absent or null at
// their zero value, and ignores unknown keys unless asked. [Unmarshal] refuses all of these.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// Unmarshal decodes the single JSON value in data into the value v points to. Beyond the
// syntax it requires, at every depth:
//   - objects decoded into a struct have exactly the struct's fields (the `json` tag's name,
//     else the Go name, matched case-sensitively), each once: no field may be missing,
//     unknown or repeated;
//   - objects decoded into a map[string]T have no repeated key;
//   - no value is null;
//   - integers are written as integers and fit their type; floats are finite and in range;
//     arrays have exactly their length;
//   - nothing but white space follows the value.
//
// Supported types are structs of exported fields, slices, arrays, maps with string keys,
// strings, bools, integers and floats. Errors name the path of the offending value, such as
// `[2].shape[0]`, `["w"].LRScale` or `LR`.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("strictjson: Unmarshal needs a non-nil pointer, got %T", v)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := decode(dec, rv.Elem(), ""); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// CheckDuplicateKeys reports the first key that occurs twice in one object, at any depth of
// the JSON value in data, and any syntax error.
func CheckDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// keys[i] holds the keys seen so far in the i-th open object (nil for an array).
	var keys []map[string]bool
	expectKey := func() bool { return len(keys) > 0 && keys[len(keys)-1] != nil }
	afterKey := false // the previous token was a key, so this one is its value
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(keys) != 0 {
				return io.ErrUnexpectedEOF
			}
			return nil
		}
		if err != nil {
			return err
		}
		if s, ok := tok.(string); ok && expectKey() && !afterKey {
			if keys[len(keys)-1][s] {
				return fmt.Errorf("duplicate key %q", s)
			}
			keys[len(keys)-1][s] = true
			afterKey = true
			continue
		}
		afterKey = false
		switch tok {
		case json.Delim('{'):
			keys = append(keys, map[string]bool{})
		case json.Delim('['):
			keys = append(keys, nil)
		case json.Delim('}'), json.Delim(']'):
			keys = keys[:len(keys)-1]
		}
	}
}

func decode(dec *json.Decoder, v reflect.Value, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", where(path), err)
	}
	if tok == nil {
		return fmt.Errorf("%s is null", where(path))
	}
	kindErr := func(want string) error {
		return fmt.Errorf("%s is %s, want %s", where(path), describe(tok), want)
	}
	switch v.Kind() {
	case reflect.Struct:
		if tok != json.Delim('{') {
			return kindErr("an object")
		}
		return decodeStruct(dec, v, path)
	case reflect.Map:
		if tok != json.Delim('{') {
			return kindErr("an object")
		}
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("strictjson: unsupported map key type %v", v.Type().Key())
		}
		m := reflect.MakeMap(v.Type())
		for dec.More() {
			key, err := objectKey(dec, path)
			if err != nil {
				return err
			}
			k := reflect.ValueOf(key).Convert(v.Type().Key())
			if m.MapIndex(k).IsValid() {
				return fmt.Errorf("%s: duplicate key %q", where(path), key)
			}
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := decode(dec, elem, path+"["+strconv.Quote(key)+"]"); err != nil {
				return err
			}
			m.SetMapIndex(k, elem)
		}
		v.Set(m)
		return closing(dec, path)
	case reflect.Slice:
		if tok != json.Delim('[') {
			return kindErr("an array")
		}
		s := reflect.MakeSlice(v.Type(), 0, 0)
		for i := 0; dec.More(); i++ {
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := decode(dec, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
			s = reflect.Append(s, elem)
		}
		v.Set(s)
		return closing(dec, path)
	case reflect.Array:
		if tok != json.Delim('[') {
			return kindErr("an array")
		}
		i := 0
		for ; dec.More(); i++ {
			if i == v.Len() {
				return fmt.Errorf("%s has more than %d elements", where(path), v.Len())
			}
			if err := decode(dec, v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		if i != v.Len() {
			return fmt.Errorf("%s has %d elements, want %d", where(path), i, v.Len())
		}
		return closing(dec, path)
	case reflect.String:
		s, ok := tok.(string)
		if !ok {
			return kindErr("a string")
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := tok.(bool)
		if !ok {
			return kindErr("true or false")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		num, ok := tok.(json.Number)
		if !ok {
			return kindErr("an integer")
		}
		x, err := strconv.ParseInt(string(num), 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%s is %s, want an integer of %d bits", where(path), num, v.Type().Bits())
		}
		v.SetInt(x)
	case reflect.Float32, reflect.Float64:
		num, ok := tok.(json.Number)
		if !ok {
			return kindErr("a number")
		}
		x, err := strconv.ParseFloat(string(num), v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%s is %s, beyond the range of float%d", where(path), num, v.Type().Bits())
		}
		v.SetFloat(x)
	default:
		return fmt.Errorf("strictjson: unsupported type %v", v.Type())
	}
	return nil
}

// decodeStruct decodes the members of an object (its '{' already read) into the struct v.
func decodeStruct(dec *json.Decoder, v reflect.Value, path string) error {
	t := v.Type()
	index := map[string]int{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag := f.Tag.Get("json"); tag != "" {
			if tag, _, _ = strings.Cut(tag, ","); tag == "-" {
				continue
			} else if tag != "" {
				name = tag
			}
		}
		index[name] = i
		names = append(names, name)
	}
	seen := map[string]bool{}
	for dec.More() {
		key, err := objectKey(dec, path)
		if err != nil {
			return err
		}
		i, ok := index[key]
		if !ok {
			return fmt.Errorf("%s: unknown field %q", where(path), key)
		}
		if seen[key] {
			return fmt.Errorf("%s: duplicate field %q", where(path), key)
		}
		seen[key] = true
		field := key
		if path != "" {
			field = path + "." + key
		}
		if err := decode(dec, v.Field(i), field); err != nil {
			return err
		}
	}
	for _, name := range names {
		if !seen[name] {
			return fmt.Errorf("%s: missing field %q", where(path), name)
		}
	}
	return closing(dec, path)
}

// objectKey reads the next key of an object.
func objectKey(dec *json.Decoder, path string) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", fmt.Errorf("%s: %w", where(path), err)
	}
	return tok.(string), nil // inside an object the decoder yields only string keys here
}

// closing reads the '}' or ']' that ends the current object or array.
func closing(dec *json.Decoder, path string) error {
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("%s: %w", where(path), err)
	}
	return nil
}

func where(path string) string {
	if path == "" {
		return "the JSON value"
	}
	return path
}

// describe names the kind of a JSON token for error messages.
func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a bool"
	case json.Number:
		return "the number " + string(t)
	}
	return fmt.Sprintf("%v", tok)
}
