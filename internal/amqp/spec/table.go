package spec

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// Table is an AMQP field table as RabbitMQ encodes it: a map from
// shortstr keys to values. Decoding yields exactly these Go types:
//
//	't' boolean            bool
//	'b' signed 8-bit       int8
//	'B' unsigned 8-bit     uint8
//	's' signed 16-bit      int16
//	'u' unsigned 16-bit    uint16
//	'I' signed 32-bit      int32
//	'i' unsigned 32-bit    uint32
//	'l' signed 64-bit      int64
//	'f' float              float32
//	'd' double             float64
//	'D' decimal            Decimal
//	'S' long string        string
//	'x' byte array         []byte
//	'A' field array        []any
//	'T' timestamp          time.Time (UTC, whole seconds)
//	'F' nested table       Table
//	'V' void               nil
//
// Encoding accepts the same types, plus int (encoded as 'l') and
// map[string]any (encoded as 'F'); anything else is ErrInvalidValue.
// Keys are written in sorted order, so the encoding of a Table is
// deterministic. A key repeated on the wire keeps its last value.
type Table map[string]any

// Decimal is a field-table decimal ('D'): Value × 10^-Scale.
type Decimal struct {
	Scale uint8
	Value int32
}

// Limits on decoding a field table from untrusted bytes. Input size is
// already bounded by the frame size; these bound recursion and the memory
// one table may expand to (a 1-byte 'V' array element becomes a 16-byte
// interface value).
const (
	// MaxTableDepth is how deeply tables and arrays may nest inside a
	// top-level table (which is depth 0).
	MaxTableDepth = 32
	// MaxTableElements is the number of values (table entries plus array
	// elements, at all depths) one top-level table may hold.
	MaxTableElements = 65536
)

// AppendTable appends t as a field table: a 4-byte length, then the
// entries. On error it returns b unchanged (truncated to its original
// length) and an error wrapping ErrInvalidValue.
func AppendTable(b []byte, t Table) ([]byte, error) {
	out, err := appendTable(b, t, 0)
	if err != nil {
		return b, err
	}
	return out, nil
}

// DecodeTable decodes a field table (4-byte length, then entries) that
// must span all of b. Errors wrap ErrMalformed.
func DecodeTable(b []byte) (Table, error) {
	r := reader{b: b}
	t := r.table("table")
	if err := r.done(); err != nil {
		return nil, err
	}
	return t, nil
}

// appendTable writes the length-prefixed table at nesting depth depth.
func appendTable(b []byte, t Table, depth int) ([]byte, error) {
	if depth > MaxTableDepth {
		return b, fmt.Errorf("%w: table nested deeper than %d", ErrInvalidValue, MaxTableDepth)
	}
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	for _, k := range slices.Sorted(maps.Keys(t)) {
		if len(k) > math.MaxUint8 {
			return b[:start], fmt.Errorf("%w: table key of %d bytes exceeds 255", ErrInvalidValue, len(k))
		}
		b = append(b, byte(len(k)))
		b = append(b, k...)
		var err error
		if b, err = appendValue(b, t[k], depth); err != nil {
			return b[:start], fmt.Errorf("key %q: %w", k, err)
		}
	}
	return backfillLen(b, start)
}

// appendArray writes the length-prefixed field array at depth depth.
func appendArray(b []byte, a []any, depth int) ([]byte, error) {
	if depth > MaxTableDepth {
		return b, fmt.Errorf("%w: array nested deeper than %d", ErrInvalidValue, MaxTableDepth)
	}
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	for i, v := range a {
		var err error
		if b, err = appendValue(b, v, depth); err != nil {
			return b[:start], fmt.Errorf("index %d: %w", i, err)
		}
	}
	return backfillLen(b, start)
}

// backfillLen writes the length of b[start+4:] into b[start:start+4].
func backfillLen(b []byte, start int) ([]byte, error) {
	n := len(b) - start - 4
	if uint64(n) > math.MaxUint32 {
		return b[:start], fmt.Errorf("%w: %d bytes exceed 4 GiB", ErrInvalidValue, n)
	}
	binary.BigEndian.PutUint32(b[start:], uint32(n))
	return b, nil
}

// appendValue writes one typed value (type octet, then the value) of a
// table or array at depth depth.
func appendValue(b []byte, v any, depth int) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, 'V'), nil
	case bool:
		x := byte(0)
		if v {
			x = 1
		}
		return append(b, 't', x), nil
	case int8:
		return append(b, 'b', byte(v)), nil
	case uint8:
		return append(b, 'B', v), nil
	case int16:
		return binary.BigEndian.AppendUint16(append(b, 's'), uint16(v)), nil
	case uint16:
		return binary.BigEndian.AppendUint16(append(b, 'u'), v), nil
	case int32:
		return binary.BigEndian.AppendUint32(append(b, 'I'), uint32(v)), nil
	case uint32:
		return binary.BigEndian.AppendUint32(append(b, 'i'), v), nil
	case int64:
		return binary.BigEndian.AppendUint64(append(b, 'l'), uint64(v)), nil
	case int:
		return binary.BigEndian.AppendUint64(append(b, 'l'), uint64(v)), nil
	case float32:
		return binary.BigEndian.AppendUint32(append(b, 'f'), math.Float32bits(v)), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, 'd'), math.Float64bits(v)), nil
	case Decimal:
		return binary.BigEndian.AppendUint32(append(b, 'D', v.Scale), uint32(v.Value)), nil
	case string:
		if uint64(len(v)) > math.MaxUint32 {
			return b, fmt.Errorf("%w: long string of %d bytes", ErrInvalidValue, len(v))
		}
		b = binary.BigEndian.AppendUint32(append(b, 'S'), uint32(len(v)))
		return append(b, v...), nil
	case []byte:
		if uint64(len(v)) > math.MaxUint32 {
			return b, fmt.Errorf("%w: byte array of %d bytes", ErrInvalidValue, len(v))
		}
		b = binary.BigEndian.AppendUint32(append(b, 'x'), uint32(len(v)))
		return append(b, v...), nil
	case time.Time:
		return binary.BigEndian.AppendUint64(append(b, 'T'), timeToWire(v)), nil
	case Table:
		return appendTable(append(b, 'F'), v, depth+1)
	case map[string]any:
		return appendTable(append(b, 'F'), Table(v), depth+1)
	case []any:
		return appendArray(append(b, 'A'), v, depth+1)
	default:
		return b, fmt.Errorf("%w: unsupported field value type %T", ErrInvalidValue, v)
	}
}

// decodeTableEntries decodes the entries of a table (its length prefix
// already stripped: b is exactly the entries) at depth depth, counting
// decoded values in *elems.
func decodeTableEntries(b []byte, depth int, elems *int) (Table, error) {
	if depth > MaxTableDepth {
		return nil, fmt.Errorf("%w: table nested deeper than %d", ErrMalformed, MaxTableDepth)
	}
	t := make(Table)
	r := reader{b: b}
	for len(r.b) > 0 {
		k := r.shortstr("table key")
		if r.err != nil {
			return nil, r.err
		}
		v, err := decodeValue(&r, depth, elems)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		t[k] = v
	}
	return t, nil
}

// decodeArray decodes the elements of a field array (length prefix
// already stripped) at depth depth.
func decodeArray(b []byte, depth int, elems *int) ([]any, error) {
	if depth > MaxTableDepth {
		return nil, fmt.Errorf("%w: array nested deeper than %d", ErrMalformed, MaxTableDepth)
	}
	a := []any{}
	r := reader{b: b}
	for len(r.b) > 0 {
		v, err := decodeValue(&r, depth, elems)
		if err != nil {
			return nil, fmt.Errorf("index %d: %w", len(a), err)
		}
		a = append(a, v)
	}
	return a, nil
}

// decodeValue decodes one typed value of a table or array at depth
// depth; nested containers are at depth+1.
func decodeValue(r *reader, depth int, elems *int) (any, error) {
	*elems++
	if *elems > MaxTableElements {
		return nil, fmt.Errorf("%w: more than %d values in one table", ErrMalformed, MaxTableElements)
	}
	const f = "field value"
	typ := r.octet("field type")
	var v any
	switch typ {
	case 't':
		v = r.octet(f) != 0
	case 'b':
		v = int8(r.octet(f))
	case 'B':
		v = r.octet(f)
	case 's':
		v = int16(r.short(f))
	case 'u':
		v = r.short(f)
	case 'I':
		v = int32(r.long(f))
	case 'i':
		v = r.long(f)
	case 'l':
		v = int64(r.longlong(f))
	case 'f':
		v = math.Float32frombits(r.long(f))
	case 'd':
		v = math.Float64frombits(r.longlong(f))
	case 'D':
		v = Decimal{Scale: r.octet(f), Value: int32(r.long(f))}
	case 'S':
		v = r.longstr(f)
	case 'x':
		n := r.long(f)
		p, _ := r.take(f, "byte array", uint64(n))
		v = slices.Clone(p)
		if v.([]byte) == nil {
			v = []byte{}
		}
	case 'T':
		v = r.timestamp(f)
	case 'V':
		v = nil
	case 'F', 'A':
		n := r.long(f)
		p, ok := r.take(f, "nested container", uint64(n))
		if !ok {
			return nil, r.err
		}
		if typ == 'F' {
			return decodeTableEntries(p, depth+1, elems)
		}
		return decodeArray(p, depth+1, elems)
	default:
		if r.err == nil {
			return nil, fmt.Errorf("%w: unknown field type %q (0x%02x)", ErrMalformed, typ, typ)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return v, nil
}
