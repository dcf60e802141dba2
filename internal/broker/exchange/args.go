package exchange

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Args is an AMQP field table as plain Go values: nil (void), bool, int8,
// int16, int32, int64, int, uint8, uint16, uint32, uint64, uint, float32,
// float64, string, []byte, time.Time, nested map[string]any (or Args) and
// []any. Other types are refused when declaring or binding.
//
// Args marshals to JSON losslessly: every value is written as
// [tag, payload] so that an int8 stays an int8 and a []byte stays bytes
// after a round trip (plain JSON would turn both into float64 and string).
type Args map[string]any

// maxDepth bounds nesting of tables and arrays (and so recursion).
const maxDepth = 32

// validateArgs checks that every value has a supported type.
func validateArgs(a map[string]any) error {
	for k, v := range a {
		if err := validateValue(v, 0); err != nil {
			return fmt.Errorf("%w: argument %q: %w", ErrPreconditionFailed, k, err)
		}
	}
	return nil
}

func validateValue(v any, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("nested deeper than %d", maxDepth)
	}
	switch x := v.(type) {
	case nil, bool, int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint,
		float32, float64, string, []byte, time.Time:
		return nil
	case map[string]any:
		for _, e := range x {
			if err := validateValue(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case Args:
		return validateValue(map[string]any(x), depth)
	case []any:
		for _, e := range x {
			if err := validateValue(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("unsupported value type %T", v)
	}
}

// cloneArgs deep-copies validated args so the caller may reuse its map;
// nil and empty both become nil.
func cloneArgs(a map[string]any) Args {
	if len(a) == 0 {
		return nil
	}
	c := make(Args, len(a))
	for k, v := range a {
		c[k] = cloneValue(v)
	}
	return c
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return append([]byte(nil), x...)
	case map[string]any:
		return map[string]any(cloneArgs(x))
	case Args:
		return map[string]any(cloneArgs(x))
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = cloneValue(e)
		}
		return c
	default:
		return v
	}
}

// num is a number (or an AMQP timestamp, which RabbitMQ holds as an
// integer of seconds) reduced to one of three kinds for comparison.
type num struct {
	kind byte // 's' signed, 'u' unsigned, 'f' float
	i    int64
	u    uint64
	f    float64
}

func toNum(v any) (num, bool) {
	switch x := v.(type) {
	case int8:
		return num{kind: 's', i: int64(x)}, true
	case int16:
		return num{kind: 's', i: int64(x)}, true
	case int32:
		return num{kind: 's', i: int64(x)}, true
	case int64:
		return num{kind: 's', i: x}, true
	case int:
		return num{kind: 's', i: int64(x)}, true
	case uint8:
		return num{kind: 'u', u: uint64(x)}, true
	case uint16:
		return num{kind: 'u', u: uint64(x)}, true
	case uint32:
		return num{kind: 'u', u: uint64(x)}, true
	case uint64:
		return num{kind: 'u', u: x}, true
	case uint:
		return num{kind: 'u', u: uint64(x)}, true
	case float32:
		return num{kind: 'f', f: float64(x)}, true
	case float64:
		return num{kind: 'f', f: x}, true
	case time.Time:
		return num{kind: 's', i: x.Unix()}, true
	}
	return num{}, false
}

// eq compares by value, as Erlang's == does: 5 (int8) == 5 (int64) ==
// 5.0 (float64).
func (a num) eq(b num) bool {
	if a.kind > b.kind { // order the pair: 'f' < 's' < 'u'
		a, b = b, a
	}
	switch {
	case a.kind == b.kind && a.kind == 's':
		return a.i == b.i
	case a.kind == b.kind && a.kind == 'u':
		return a.u == b.u
	case a.kind == 'f' && b.kind == 'f':
		return a.f == b.f
	case a.kind == 's': // b is unsigned
		return a.i >= 0 && uint64(a.i) == b.u
	case b.kind == 's': // a is float
		return a.f == math.Trunc(a.f) && a.f >= -(1<<63) && a.f < 1<<63 && int64(a.f) == b.i
	default: // float and unsigned
		return a.f == math.Trunc(a.f) && a.f >= 0 && a.f < 1<<64 && uint64(a.f) == b.u
	}
}

// valuesEqual is RabbitMQ's header value comparison (Erlang ==): numbers
// of any width (and timestamps) compare by value, string and []byte by
// bytes, void only equals void, tables and arrays element by element.
func valuesEqual(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if na, ok := toNum(a); ok {
		nb, ok := toNum(b)
		return ok && na.eq(nb)
	}
	switch x := a.(type) {
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		switch y := b.(type) {
		case string:
			return x == y
		case []byte:
			return x == string(y)
		}
	case []byte:
		switch y := b.(type) {
		case string:
			return string(x) == y
		case []byte:
			return string(x) == string(y)
		}
	case map[string]any:
		return tablesEqual(x, b)
	case Args:
		return tablesEqual(x, b)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valuesEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func tablesEqual(x map[string]any, b any) bool {
	var y map[string]any
	switch t := b.(type) {
	case map[string]any:
		y = t
	case Args:
		y = t
	default:
		return false
	}
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		w, ok := y[k]
		if !ok || !valuesEqual(v, w) {
			return false
		}
	}
	return true
}

// canonical returns a deterministic encoding of a (keys sorted, types
// tagged), used as binding identity: two bindings differing only in args
// are distinct, as in RabbitMQ. Empty and nil args encode as "".
func canonical(a Args) string {
	if len(a) == 0 {
		return ""
	}
	b, err := json.Marshal(a)
	if err != nil { // unreachable for validated args
		return fmt.Sprintf("%#v", map[string]any(a))
	}
	return string(b)
}

// MarshalJSON writes each value as [tag, payload]; see Args.
func (a Args) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(a))
	for k, v := range a {
		e, err := encodeValue(v, 0)
		if err != nil {
			return nil, fmt.Errorf("exchange: argument %q: %w", k, err)
		}
		m[k] = e
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (a *Args) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("exchange: args: %w", err)
	}
	if raw == nil {
		*a = nil
		return nil
	}
	out := make(Args, len(raw))
	for k, r := range raw {
		v, err := decodeValue(r, 0)
		if err != nil {
			return fmt.Errorf("exchange: argument %q: %w", k, err)
		}
		out[k] = v
	}
	*a = out
	return nil
}

func encodeValue(v any, depth int) ([]any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		return []any{"V"}, nil
	case bool:
		return []any{"t", x}, nil
	case int8:
		return []any{"b", x}, nil
	case uint8:
		return []any{"B", x}, nil
	case int16:
		return []any{"s", x}, nil
	case uint16:
		return []any{"u", x}, nil
	case int32:
		return []any{"I", x}, nil
	case uint32:
		return []any{"i", x}, nil
	case int64:
		return []any{"l", x}, nil
	case int:
		return []any{"l", int64(x)}, nil
	case uint64:
		return []any{"L", x}, nil
	case uint:
		return []any{"L", uint64(x)}, nil
	case float32:
		return []any{"f", strconv.FormatFloat(float64(x), 'g', -1, 32)}, nil
	case float64:
		return []any{"d", strconv.FormatFloat(x, 'g', -1, 64)}, nil
	case string:
		return []any{"S", x}, nil
	case []byte:
		return []any{"x", x}, nil
	case time.Time:
		return []any{"T", x.Format(time.RFC3339Nano)}, nil
	case Args:
		return encodeValue(map[string]any(x), depth)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			enc, err := encodeValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = enc
		}
		return []any{"F", m}, nil
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			enc, err := encodeValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			l[i] = enc
		}
		return []any{"A", l}, nil
	default:
		return nil, fmt.Errorf("unsupported value type %T", v)
	}
}

func decodeValue(r json.RawMessage, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxDepth)
	}
	var pair []json.RawMessage
	if err := json.Unmarshal(r, &pair); err != nil || len(pair) == 0 || len(pair) > 2 {
		return nil, fmt.Errorf("malformed value %s", r)
	}
	var tag string
	if err := json.Unmarshal(pair[0], &tag); err != nil {
		return nil, fmt.Errorf("malformed tag %s", pair[0])
	}
	if tag == "V" {
		return nil, nil
	}
	if len(pair) != 2 {
		return nil, fmt.Errorf("tag %q without payload", tag)
	}
	p := pair[1]
	var (
		v   any
		err error
	)
	switch tag {
	case "t":
		v, err = unmarshalAs[bool](p)
	case "b":
		v, err = unmarshalAs[int8](p)
	case "B":
		v, err = unmarshalAs[uint8](p)
	case "s":
		v, err = unmarshalAs[int16](p)
	case "u":
		v, err = unmarshalAs[uint16](p)
	case "I":
		v, err = unmarshalAs[int32](p)
	case "i":
		v, err = unmarshalAs[uint32](p)
	case "l":
		v, err = unmarshalAs[int64](p)
	case "L":
		v, err = unmarshalAs[uint64](p)
	case "S":
		v, err = unmarshalAs[string](p)
	case "x":
		v, err = unmarshalAs[[]byte](p)
	case "f", "d":
		var s string
		if err = json.Unmarshal(p, &s); err == nil {
			size := 64
			if tag == "f" {
				size = 32
			}
			var f float64
			if f, err = strconv.ParseFloat(s, size); err == nil {
				if size == 32 {
					v = float32(f)
				} else {
					v = f
				}
			}
		}
	case "T":
		var s string
		if err = json.Unmarshal(p, &s); err == nil {
			v, err = time.Parse(time.RFC3339Nano, s)
		}
	case "F":
		var raw map[string]json.RawMessage
		if err = json.Unmarshal(p, &raw); err == nil {
			m := make(map[string]any, len(raw))
			for k, e := range raw {
				if m[k], err = decodeValue(e, depth+1); err != nil {
					return nil, err
				}
			}
			v = m
		}
	case "A":
		var raw []json.RawMessage
		if err = json.Unmarshal(p, &raw); err == nil {
			l := make([]any, len(raw))
			for i, e := range raw {
				if l[i], err = decodeValue(e, depth+1); err != nil {
					return nil, err
				}
			}
			v = l
		}
	default:
		return nil, fmt.Errorf("unknown tag %q", tag)
	}
	if err != nil {
		return nil, fmt.Errorf("tag %q: %w", tag, err)
	}
	return v, nil
}

func unmarshalAs[T any](p json.RawMessage) (any, error) {
	var v T
	err := json.Unmarshal(p, &v)
	return v, err
}
