package broker

import "errors"

// Protocol-neutral errors of the core. Adapters map each to their
// protocol's code in one table (internal/kafka/errors.go); the core never
// speaks wire codes.
var (
	ErrUnknownTopicOrPartition  = errors.New("unknown topic or partition")
	ErrTopicExists              = errors.New("topic already exists")
	ErrInvalidTopic             = errors.New("invalid topic name")
	ErrInvalidPartitions        = errors.New("invalid number of partitions")
	ErrInvalidReplicationFactor = errors.New("invalid replication factor")
	ErrInvalidConfig            = errors.New("invalid config")
	ErrInvalidRequest           = errors.New("invalid request")
	ErrOffsetOutOfRange         = errors.New("offset out of range")
	ErrCorruptMessage           = errors.New("corrupt message")
	ErrInvalidRecord            = errors.New("invalid record")
	ErrRecordTooLarge           = errors.New("record batch too large")
	ErrUnsupportedMessageFormat = errors.New("unsupported message format")
	ErrDuplicateSequence        = errors.New("duplicate sequence number")
	ErrOutOfOrderSequence       = errors.New("out of order sequence number")
	ErrInvalidProducerEpoch     = errors.New("invalid producer epoch")
	ErrUnknownProducerID        = errors.New("unknown producer id")
	ErrStorage                  = errors.New("storage error")
	ErrClosed                   = errors.New("broker is shutting down")
	ErrTopicDeletionDisabled    = errors.New("topic deletion disabled")
	ErrPolicyViolation          = errors.New("policy violation")
	ErrNotSupported             = errors.New("not supported")
	ErrTimeout                  = errors.New("request timed out")

	// AMQP-side conditions; the AMQP adapter maps them to reply codes.
	ErrNotFound           = errors.New("not found")
	ErrPreconditionFailed = errors.New("precondition failed")
	ErrAccessRefused      = errors.New("access refused")
	ErrAuthentication     = errors.New("authentication failed")
	ErrResourceLocked     = errors.New("resource locked")
	ErrCommandInvalid     = errors.New("command invalid")
	// ErrLoginThrottled wraps ErrAuthentication for a login refused
	// unchecked because its address failed too often (logins.go).
	ErrLoginThrottled = errors.New("too many failed logins")
	// ErrLimitReached is a configured limit (connections per user) hit.
	ErrLimitReached = errors.New("limit reached")
)
