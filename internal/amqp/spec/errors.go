package spec

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps exactly one
// of them (test with errors.Is), with context (field, sizes, ids) in the
// message. The connection layer maps them to reply codes in its own table;
// the usual RabbitMQ answers are noted on each.
var (
	// ErrMalformed: a payload (method arguments, field table, content
	// header) is truncated, has trailing bytes, or holds an invalid value.
	// RabbitMQ closes the connection with 501 FRAME_ERROR or 502 SYNTAX_ERROR.
	ErrMalformed = errors.New("amqp/spec: malformed payload")

	// ErrUnknownMethod: a method frame names a class or method id this
	// codec does not know. The error is an *UnknownMethodError.
	ErrUnknownMethod = errors.New("amqp/spec: unknown method")

	// ErrFrameTooLarge: a frame header announces a payload larger than the
	// negotiated frame-max allows. Detected before the payload is read or
	// allocated. RabbitMQ: 501 FRAME_ERROR.
	ErrFrameTooLarge = errors.New("amqp/spec: frame too large")

	// ErrBadFrameEnd: the octet after a frame payload is not 0xCE.
	// RabbitMQ: 501 FRAME_ERROR.
	ErrBadFrameEnd = errors.New("amqp/spec: bad frame-end octet")

	// ErrUnknownFrameType: the frame type octet is not 1, 2, 3 or 8.
	// RabbitMQ: 501 FRAME_ERROR.
	ErrUnknownFrameType = errors.New("amqp/spec: unknown frame type")

	// ErrBadProtocolHeader: the 8 bytes a client sent first are not
	// ProtocolHeader. The server writes ProtocolHeader and closes the
	// socket. The error is a *ProtocolHeaderError.
	ErrBadProtocolHeader = errors.New("amqp/spec: bad protocol header")

	// ErrInvalidValue: a Go value cannot be encoded: a shortstr longer than
	// 255 bytes, a field-table value of an unsupported Go type, a table
	// nested deeper than MaxTableDepth, a payload over 4 GiB.
	ErrInvalidValue = errors.New("amqp/spec: value cannot be encoded")
)

// UnknownMethodError reports a method frame with a class id or method id
// that is not in the spec. KnownClass tells which: false when the class id
// itself is unknown, true when the class is known but the method id is not.
type UnknownMethodError struct {
	ClassID    uint16
	MethodID   uint16
	KnownClass bool
}

func (e *UnknownMethodError) Error() string {
	if !e.KnownClass {
		return fmt.Sprintf("amqp/spec: unknown class id %d (method id %d)", e.ClassID, e.MethodID)
	}
	return fmt.Sprintf("amqp/spec: unknown method id %d in class %d", e.MethodID, e.ClassID)
}

// Is makes errors.Is(err, ErrUnknownMethod) true.
func (e *UnknownMethodError) Is(target error) bool { return target == ErrUnknownMethod }

// ProtocolHeaderError reports a protocol header other than ProtocolHeader.
// Got holds the bytes received (up to 8; fewer if the peer closed early).
type ProtocolHeaderError struct {
	Got []byte
}

func (e *ProtocolHeaderError) Error() string {
	return fmt.Sprintf("amqp/spec: bad protocol header %q, want %q", e.Got, ProtocolHeader)
}

// Is makes errors.Is(err, ErrBadProtocolHeader) true.
func (e *ProtocolHeaderError) Is(target error) bool { return target == ErrBadProtocolHeader }
