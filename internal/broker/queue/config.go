package queue

import "fmt"

// NoLimit disables Config.MaxLength or Config.MaxLengthBytes.
const NoLimit = -1

// Overflow is the x-overflow behaviour when a length limit is reached.
type Overflow uint8

const (
	// DropHead (the default) accepts the publish and settles messages from
	// the head of the queue until it is within its limits; they are
	// dead-lettered (reason "maxlen") when Config.DeadLetter is set.
	DropHead Overflow = iota
	// RejectPublish refuses the publish (the adapter nacks it when the
	// publisher uses confirms); the queue is unchanged.
	RejectPublish
	// RejectPublishDLX refuses the publish and dead-letters the refused
	// message (reason "maxlen") when Config.DeadLetter is set.
	RejectPublishDLX
)

func (o Overflow) String() string {
	switch o {
	case DropHead:
		return "drop-head"
	case RejectPublish:
		return "reject-publish"
	case RejectPublishDLX:
		return "reject-publish-dlx"
	}
	return fmt.Sprintf("Overflow(%d)", uint8(o))
}

// Config is the delivery-relevant part of a queue's declaration
// (x-arguments and policies). The zero value is not the default: use
// DefaultConfig, because a zero MaxLength means "hold nothing".
type Config struct {
	// MaxPriority is x-max-priority: the queue has MaxPriority+1 levels,
	// 0 (lowest) to MaxPriority, each a log of its own. 0 means one level.
	// Default 0.
	MaxPriority uint8
	// MaxLength is x-max-length: the most ready messages (not counting
	// unacknowledged ones), across levels. NoLimit (default) for none.
	MaxLength int64
	// MaxLengthBytes is x-max-length-bytes: the most bytes of ready
	// message bodies, across levels. NoLimit (default) for none. Setting
	// it makes the queue keep 4 bytes per appended-but-undelivered message
	// (exact sizes are needed to drop the head byte-exactly); without it
	// the queue keeps no per-message state for its backlog.
	MaxLengthBytes int64
	// Overflow is x-overflow. Default DropHead.
	Overflow Overflow
	// SingleActiveConsumer is x-single-active-consumer: only the oldest
	// registered consumer receives messages; when it leaves, the next
	// oldest takes over. Default false.
	SingleActiveConsumer bool
	// DeadLetter is true when a dead-letter exchange is configured:
	// messages settled by rejection, expiry or overflow are reported in
	// Effects.DeadLettered (the caller republishes them) rather than only
	// dropped. Default false.
	DeadLetter bool
}

// DefaultConfig is a queue with no limits: one level, drop-head, no
// single active consumer, no dead-lettering.
func DefaultConfig() Config {
	return Config{MaxLength: NoLimit, MaxLengthBytes: NoLimit}
}

// Validate reports a Config the queue cannot run with, wrapping
// ErrInvalidConfig.
func (c Config) Validate() error {
	if c.MaxLength < NoLimit {
		return fmt.Errorf("%w: max-length %d", ErrInvalidConfig, c.MaxLength)
	}
	if c.MaxLengthBytes < NoLimit {
		return fmt.Errorf("%w: max-length-bytes %d", ErrInvalidConfig, c.MaxLengthBytes)
	}
	if c.Overflow > RejectPublishDLX {
		return fmt.Errorf("%w: overflow %v", ErrInvalidConfig, c.Overflow)
	}
	return nil
}

func (c Config) trackSizes() bool { return c.MaxLengthBytes != NoLimit }
