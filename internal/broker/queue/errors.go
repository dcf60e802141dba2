package queue

import "errors"

// Sentinel errors. Methods wrap them with context (%w); compare with
// errors.Is. The AMQP adapter maps each to a reply code in its one table;
// the mapping suggested by RabbitMQ's behaviour is given on each.
var (
	// ErrExclusiveConsumer: basic.consume with exclusive=true on a queue
	// that already has consumers, or any basic.consume on a queue that has
	// an exclusive consumer (403 ACCESS_REFUSED, channel error).
	ErrExclusiveConsumer = errors.New("queue: exclusive consumer")
	// ErrConsumerExists: a consumer with that id is already registered
	// (the adapter allocates ids, so this is a caller bug; 530 NOT_ALLOWED
	// "attempt to reuse consumer tag" if it reaches a client).
	ErrConsumerExists = errors.New("queue: consumer already exists")
	// ErrInvalidConsumer: consumer id 0 (reserved for basic.get) or a
	// negative prefetch.
	ErrInvalidConsumer = errors.New("queue: invalid consumer")
	// ErrUnknownDelivery: ack/nack/reject of an offset that is not
	// unacknowledged on that channel (406 PRECONDITION_FAILED "unknown
	// delivery tag", channel error).
	ErrUnknownDelivery = errors.New("queue: unknown delivery")
	// ErrNotReady: Expire of an offset that is not ready (already
	// delivered, settled or never appended).
	ErrNotReady = errors.New("queue: message not ready")
	// ErrInvalidLevel: a priority level above Config.MaxPriority.
	ErrInvalidLevel = errors.New("queue: invalid priority level")
	// ErrOffsetOrder: Append of an offset below the level's end (offsets
	// of one log only grow).
	ErrOffsetOrder = errors.New("queue: offset below log end")
	// ErrInvalidConfig: Config.Validate failed.
	ErrInvalidConfig = errors.New("queue: invalid config")
	// ErrInvalidState: a recovered LevelState is inconsistent (bounds out
	// of order, intervals unsorted or outside [LowWater, End)).
	ErrInvalidState = errors.New("queue: invalid recovered state")
)
