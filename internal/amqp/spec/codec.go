package spec

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// reader decodes AMQP primitive types from a byte slice. The first error
// sticks: later calls return zero values, so generated decoders read every
// field unconditionally and check r.err once. Decoded strings and byte
// slices are copies; nothing returned aliases the input.
type reader struct {
	b   []byte
	err error
}

func (r *reader) truncated(field, what string, need int) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s: %s needs %d bytes, %d left", ErrMalformed, field, what, need, len(r.b))
	}
}

// take returns the next n bytes (aliasing r.b) and ok=false on error.
func (r *reader) take(field, what string, n uint64) ([]byte, bool) {
	if r.err != nil {
		return nil, false
	}
	if n > uint64(len(r.b)) {
		r.truncated(field, what, int(min(n, math.MaxInt32)))
		return nil, false
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v, true
}

func (r *reader) octet(field string) uint8 {
	p, ok := r.take(field, "octet", 1)
	if !ok {
		return 0
	}
	return p[0]
}

func (r *reader) short(field string) uint16 {
	p, ok := r.take(field, "short", 2)
	if !ok {
		return 0
	}
	return binary.BigEndian.Uint16(p)
}

func (r *reader) long(field string) uint32 {
	p, ok := r.take(field, "long", 4)
	if !ok {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

func (r *reader) longlong(field string) uint64 {
	p, ok := r.take(field, "longlong", 8)
	if !ok {
		return 0
	}
	return binary.BigEndian.Uint64(p)
}

func (r *reader) shortstr(field string) string {
	n := r.octet(field)
	p, ok := r.take(field, "shortstr", uint64(n))
	if !ok {
		return ""
	}
	return string(p)
}

func (r *reader) longstr(field string) string {
	n := r.long(field)
	p, ok := r.take(field, "longstr", uint64(n))
	if !ok {
		return ""
	}
	return string(p)
}

func (r *reader) timestamp(field string) time.Time {
	return timeFromWire(r.longlong(field))
}

// table reads a field table (4-byte length, then entries); see table.go.
// An empty table decodes as nil, so zero-valued structs round-trip.
func (r *reader) table(field string) Table {
	n := r.long(field)
	p, ok := r.take(field, "table", uint64(n))
	if !ok || n == 0 {
		return nil
	}
	t, err := decodeTableEntries(p, 0, new(int))
	if err != nil {
		r.err = fmt.Errorf("%s: %w", field, err)
		return nil
	}
	return t
}

// done reports the sticky error, or ErrMalformed if bytes are left over.
func (r *reader) done() error {
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(r.b))
	}
	return nil
}

// writer appends AMQP primitive types to a byte slice. The first error
// sticks and later calls do nothing.
type writer struct {
	b   []byte
	err error
}

func (w *writer) octet(v uint8) { w.b = append(w.b, v) }

func (w *writer) short(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }

func (w *writer) long(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }

func (w *writer) longlong(v uint64) { w.b = binary.BigEndian.AppendUint64(w.b, v) }

func (w *writer) fail(field string, err error) {
	if w.err == nil {
		w.err = fmt.Errorf("%s: %w", field, err)
	}
}

func (w *writer) shortstr(field, s string) {
	if w.err != nil {
		return
	}
	if len(s) > math.MaxUint8 {
		w.fail(field, fmt.Errorf("%w: shortstr of %d bytes exceeds 255", ErrInvalidValue, len(s)))
		return
	}
	w.b = append(w.b, byte(len(s)))
	w.b = append(w.b, s...)
}

func (w *writer) longstr(field, s string) {
	if w.err != nil {
		return
	}
	if uint64(len(s)) > math.MaxUint32 {
		w.fail(field, fmt.Errorf("%w: longstr of %d bytes exceeds 4 GiB", ErrInvalidValue, len(s)))
		return
	}
	w.long(uint32(len(s)))
	w.b = append(w.b, s...)
}

func (w *writer) timestamp(t time.Time) { w.longlong(timeToWire(t)) }

func (w *writer) table(field string, t Table) {
	if w.err != nil {
		return
	}
	b, err := appendTable(w.b, t, 0)
	if err != nil {
		w.fail(field, err)
		return
	}
	w.b = b
}

// timeFromWire converts an AMQP timestamp (seconds since the Unix epoch,
// unsigned 64-bit) to a UTC time.Time; timeToWire inverts it for every
// uint64 but one (the zero time.Time, year 1, which encodes as 0 so that
// a flagged but unset timestamp is the epoch rather than a huge number).
func timeFromWire(v uint64) time.Time { return time.Unix(int64(v), 0).UTC() }

func timeToWire(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.Unix())
}
