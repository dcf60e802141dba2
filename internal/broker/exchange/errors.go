package exchange

import "errors"

// Sentinel errors. Every method wraps them with context (%w); compare with
// errors.Is. The AMQP adapter maps each to a reply code in its one table;
// the code RabbitMQ answers is given on each (all are channel errors except
// ErrCommandInvalid).
var (
	// ErrNotFound: the exchange (or queue) named does not exist: publish
	// to, bind to or from, or unbind from a missing exchange, or bind a
	// missing queue (404 NOT_FOUND).
	ErrNotFound = errors.New("exchange: not found")
	// ErrAccessRefused: declaring a new exchange named "amq.*", declaring,
	// deleting, binding or unbinding the default exchange "", deleting an
	// "amq.*" exchange, or publishing directly to an internal exchange
	// (403 ACCESS_REFUSED).
	ErrAccessRefused = errors.New("exchange: access refused")
	// ErrPreconditionFailed: redeclaring an exchange with a different type,
	// durable, auto-delete, internal or alternate-exchange; an invalid
	// x-match binding argument; an argument value of an unsupported Go type
	// (406 PRECONDITION_FAILED).
	ErrPreconditionFailed = errors.New("exchange: precondition failed")
	// ErrInUse: exchange.delete with if-unused on an exchange that is the
	// source of a binding. Errors wrapping it also wrap
	// ErrPreconditionFailed, which is what RabbitMQ answers (406).
	ErrInUse = errors.New("exchange: in use")
	// ErrCommandInvalid: an unknown exchange type (503 COMMAND_INVALID,
	// a connection error in RabbitMQ).
	ErrCommandInvalid = errors.New("exchange: command invalid")
)
