package queue

import "fmt"

// ChannelID identifies an AMQP channel (unique within the broker, chosen
// by the adapter). Unacknowledged deliveries belong to their channel.
type ChannelID uint64

// ConsumerID identifies a consumer (basic.consume) of this queue, chosen
// by the adapter. 0 is reserved: it marks basic.get deliveries.
type ConsumerID uint64

// ConsumerSpec is a basic.consume.
type ConsumerSpec struct {
	ID      ConsumerID
	Channel ChannelID
	// Prefetch is the channel's basic.qos prefetch-count with global=false
	// at the time of basic.consume: the most unacknowledged deliveries
	// this consumer may hold. 0 is unlimited. Ignored when NoAck.
	Prefetch int
	// NoAck consumers settle each message as it is delivered; no prefetch
	// applies to them (the adapter's channel flow control bounds them).
	NoAck bool
	// Exclusive refuses every other consumer while this one exists.
	Exclusive bool
	// Priority is x-priority: consumers of higher priority receive
	// messages whenever they have credit; lower ones only when every
	// higher one is blocked. Default 0; may be negative.
	Priority int
}

// Delivery is one message handed to a consumer (or to basic.get, with
// Consumer 0). The caller reads the record at (Level, Offset) of the
// queue's log and sends it.
type Delivery struct {
	Consumer ConsumerID
	Channel  ChannelID
	Level    uint8
	Offset   int64
	// Redelivered is AMQP's redelivered flag: the message may have been
	// delivered before (requeued, or unsettled across a restart).
	Redelivered bool
	// DeliveryCount is how many times the message was delivered before
	// this delivery (x-delivery-count of quorum queues). After a restart
	// the count of an unsettled message is at least 1 but not exact.
	DeliveryCount uint32
}

func (d Delivery) String() string {
	s := fmt.Sprintf("c%d ch%d L%d @%d", d.Consumer, d.Channel, d.Level, d.Offset)
	if d.Redelivered {
		s += fmt.Sprintf(" redelivered count=%d", d.DeliveryCount)
	}
	return s
}

// Interval is the half-open offset range [Start, End).
type Interval struct {
	Start, End int64
}

// Len is the number of offsets in the interval.
func (iv Interval) Len() int64 { return iv.End - iv.Start }

func (iv Interval) String() string { return fmt.Sprintf("[%d,%d)", iv.Start, iv.End) }

// Range is an Interval of one level's log.
type Range struct {
	Level uint8
	Interval
}

// Reason is why a message was dead-lettered: the x-death reason RabbitMQ
// writes.
type Reason string

// Dead-letter reasons.
const (
	ReasonRejected Reason = "rejected" // basic.reject/nack with requeue=false
	ReasonExpired  Reason = "expired"  // message TTL passed at the head
	ReasonMaxLen   Reason = "maxlen"   // dropped from the head by overflow
)

// DeadLetter asks the caller to republish the message at (Level, Offset)
// to the queue's dead-letter exchange with an x-death entry of Reason.
type DeadLetter struct {
	Level  uint8
	Offset int64
	Reason Reason
}

// Mark is a level's new low-water mark: every offset below it is settled,
// so the caller may delete the log's records before it
// (DeleteRecordsBefore), freeing whole segments.
type Mark struct {
	Level  uint8
	Offset int64
}

// Effects is what an event asks the caller to do, in this order:
//
//  1. publish DeadLettered messages to the dead-letter exchange (reading
//     them from the log before anything is deleted);
//  2. append Settled ranges to the acks log (at-least-once: a settlement
//     lost in a crash makes the message come back, redelivered);
//  3. delete log records below each LowWater mark once the settlements
//     below it are durable;
//  4. notify Activated consumers (single active consumer failover).
//
// The slices are fresh for each call and owned by the caller. Settled is
// coalesced: adjacent offsets of one level form one Range.
type Effects struct {
	Settled      []Range
	DeadLettered []DeadLetter
	LowWater     []Mark
	Activated    []ConsumerID
}

// Empty reports whether there is nothing to do.
func (fx *Effects) Empty() bool {
	return len(fx.Settled) == 0 && len(fx.DeadLettered) == 0 && len(fx.LowWater) == 0 && len(fx.Activated) == 0
}

// Merge appends o's effects to fx, as if one event had produced both:
// adjacent settled ranges coalesce and a level's later low-water mark
// replaces its earlier one.
func (fx *Effects) Merge(o Effects) {
	for _, r := range o.Settled {
		if n := len(fx.Settled); n > 0 && fx.Settled[n-1].Level == r.Level && fx.Settled[n-1].End == r.Start {
			fx.Settled[n-1].End = r.End
		} else {
			fx.Settled = append(fx.Settled, r)
		}
	}
	fx.DeadLettered = append(fx.DeadLettered, o.DeadLettered...)
	for _, m := range o.LowWater {
		fx.setLowWater(m)
	}
	fx.Activated = append(fx.Activated, o.Activated...)
}

// setLowWater records a level's new low-water mark, replacing an earlier
// one of the same level.
func (fx *Effects) setLowWater(m Mark) {
	for i := range fx.LowWater {
		if fx.LowWater[i].Level == m.Level {
			fx.LowWater[i].Offset = m.Offset
			return
		}
	}
	fx.LowWater = append(fx.LowWater, m)
}

// LevelState is the durable delivery state of one level, as checkpointed
// in the acks log and rebuilt from it on restart.
type LevelState struct {
	// End is the log's end offset (the next offset to be appended).
	End int64
	// LowWater: every offset below it is settled.
	LowWater int64
	// Frontier: every offset at or above it was never delivered (as of the
	// checkpoint). Unsettled offsets in [LowWater, Frontier) were
	// delivered and come back requeued with redelivered=true.
	Frontier int64
	// Acked holds the settled offsets in [LowWater, End), sorted,
	// non-overlapping.
	Acked []Interval
}

// Stats is a snapshot for metrics and queue.declare-ok.
type Stats struct {
	Ready     int64 // messages that may be delivered now, all levels
	Unacked   int64 // delivered, awaiting ack
	Consumers int   // registered consumers
	// ReadyBytes is the body bytes of ready messages: exact when
	// MaxLengthBytes is set, otherwise estimated for never-delivered
	// messages from the mean size of appended ones.
	ReadyBytes   int64
	UnackedBytes int64
}
