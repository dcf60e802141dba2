package spec

import (
	"encoding/binary"
	"fmt"
)

//go:generate go run ./gen

// Method is one AMQP method: a generated struct per method of every class
// (ConnectionStart, BasicPublish, …), always used by pointer. The set is
// closed: only this package implements Method.
//
// AppendTo appends the method frame payload (class id, method id, then the
// arguments, with consecutive bit arguments packed into octets); on error
// it returns b unchanged and an error wrapping ErrInvalidValue. Read
// decodes such a payload into the receiver, overwriting every field; it
// fails with ErrMalformed if the ids are not the receiver's or the
// arguments are truncated or followed by extra bytes. Decoded values never alias the payload.
type Method interface {
	// ClassID and MethodID are the method's ids on the wire.
	ClassID() uint16
	MethodID() uint16
	// Name is "class.method" as the spec spells it, e.g. "basic.publish".
	Name() string
	// HasContent reports whether a content header and body frames follow
	// the method (basic.publish, basic.return, basic.deliver, basic.get-ok).
	HasContent() bool
	// Synchronous reports whether the spec marks the method synchronous:
	// a request that expects a reply (see IsResponse), or a reply itself.
	Synchronous() bool
	AppendTo(b []byte) ([]byte, error)
	Read(payload []byte) error

	appendArgs(w *writer)
	readArgs(r *reader)
}

// DecodeMethod decodes a method frame payload into a freshly allocated
// method. An unknown class or method id yields an *UnknownMethodError
// (errors.Is ErrUnknownMethod); RabbitMQ answers those with a connection
// close, 540 NOT_IMPLEMENTED or 503 COMMAND_INVALID. Malformed arguments
// yield ErrMalformed (RabbitMQ: 501 FRAME_ERROR).
func DecodeMethod(payload []byte) (Method, error) {
	if len(payload) < 4 {
		return nil, fmt.Errorf("%w: method payload of %d bytes is shorter than its 4-byte class and method ids", ErrMalformed, len(payload))
	}
	m, err := NewMethod(binary.BigEndian.Uint16(payload), binary.BigEndian.Uint16(payload[2:]))
	if err != nil {
		return nil, err
	}
	if err := readArgs(m, payload[4:]); err != nil {
		return nil, err
	}
	return m, nil
}

// AppendMethodFrame appends a complete method frame (header, payload,
// frame-end) for m on channel. On error it returns b unchanged.
func AppendMethodFrame(b []byte, channel uint16, m Method) ([]byte, error) {
	start := len(b)
	b = appendFrameHeader(b, FrameMethod, channel)
	b, err := m.AppendTo(b)
	if err != nil {
		return b[:start], err
	}
	return finishFrame(b, start)
}

// appendMethod implements Method.AppendTo.
func appendMethod(b []byte, m Method) ([]byte, error) {
	w := writer{b: b}
	w.short(m.ClassID())
	w.short(m.MethodID())
	m.appendArgs(&w)
	if w.err != nil {
		return b, fmt.Errorf("encoding %s: %w", m.Name(), w.err)
	}
	return w.b, nil
}

// readMethod implements Method.Read.
func readMethod(m Method, payload []byte) error {
	if len(payload) < 4 {
		return fmt.Errorf("%w: method payload of %d bytes is shorter than its 4-byte class and method ids", ErrMalformed, len(payload))
	}
	cid, mid := binary.BigEndian.Uint16(payload), binary.BigEndian.Uint16(payload[2:])
	if cid != m.ClassID() || mid != m.MethodID() {
		return fmt.Errorf("%w: payload holds class %d method %d, not %s", ErrMalformed, cid, mid, m.Name())
	}
	return readArgs(m, payload[4:])
}

// readArgs decodes the arguments (the payload after the ids) into m.
func readArgs(m Method, args []byte) error {
	r := reader{b: args}
	m.readArgs(&r)
	if err := r.done(); err != nil {
		return fmt.Errorf("decoding %s: %w", m.Name(), err)
	}
	return nil
}
