package amqp

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ternmq/tern/internal/amqp/spec"
	"github.com/ternmq/tern/internal/broker"
)

// amqpError is an error that closes a channel or the connection with a
// reply code. Which of the two follows from the code (spec.IsHardError),
// as RabbitMQ does.
type amqpError struct {
	code   uint16
	text   string
	class  uint16
	method uint16
}

func (e *amqpError) Error() string { return fmt.Sprintf("%s - %s", spec.ReplyCodeText(e.code), e.text) }

func (e *amqpError) hard() bool { return spec.IsHardError(e.code) }

func newError(code uint16, m spec.Method, format string, args ...any) *amqpError {
	e := &amqpError{code: code, text: spec.ReplyCodeText(code) + " - " + fmt.Sprintf(format, args...)}
	if m != nil {
		e.class, e.method = m.ClassID(), m.MethodID()
	}
	if len(e.text) > 255 {
		e.text = e.text[:255]
	}
	return e
}

// replyCodes maps the core's sentinels to AMQP reply codes: the one table
// in this adapter that decides codes (TestReplyCodes checks it).
var replyCodes = []struct {
	err  error
	code uint16
}{
	{broker.ErrNotFound, spec.NotFound},
	{broker.ErrAccessRefused, spec.AccessRefused},
	{broker.ErrResourceLocked, spec.ResourceLocked},
	{broker.ErrPreconditionFailed, spec.PreconditionFailed},
	{broker.ErrCommandInvalid, spec.CommandInvalid},
	{broker.ErrInvalidConfig, spec.PreconditionFailed},
	{broker.ErrStorage, spec.InternalError},
	{broker.ErrClosed, spec.ConnectionForced},
}

// toAMQPError turns a core error into the reply that closes the channel
// (or, for hard errors, the connection).
func toAMQPError(err error, m spec.Method) *amqpError {
	var ae *amqpError
	if errors.As(err, &ae) {
		return ae
	}
	for _, rc := range replyCodes {
		if errors.Is(err, rc.err) {
			// The core says "not found: no queue 'q' in vhost '/'"; the
			// reply code already says the first part, as RabbitMQ's
			// "NOT_FOUND - no queue 'q' in vhost '/'" does.
			return newError(rc.code, m, "%s", strings.TrimPrefix(err.Error(), rc.err.Error()+": "))
		}
	}
	return newError(spec.InternalError, m, "%v", err)
}
