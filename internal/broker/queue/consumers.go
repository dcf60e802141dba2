package queue

import (
	"fmt"
	"slices"
)

// consumer is a registered basic.consume.
type consumer struct {
	ConsumerSpec
	unacked int    // deliveries awaiting ack (0 for NoAck)
	served  uint64 // q.seq at its last delivery (registration): round-robin order
	blocked bool   // SetBlocked: takes no deliveries for now
}

// channelState is what the queue knows of a channel: its basic.qos
// global=true limit and its deliveries from this queue awaiting ack.
type channelState struct {
	prefetch int // 0 = unlimited
	unacked  int // consumer deliveries only; basic.get is not limited
}

func (q *Queue) channel(ch ChannelID) *channelState {
	cs, ok := q.channels[ch]
	if !ok {
		cs = &channelState{}
		q.channels[ch] = cs
	}
	return cs
}

// AddConsumer registers a basic.consume. It fails with
// ErrExclusiveConsumer if c is exclusive and the queue has consumers, or
// the queue has an exclusive consumer; with ErrConsumerExists if c.ID is
// registered; with ErrInvalidConsumer for ID 0 or a negative prefetch.
// With SingleActiveConsumer only the oldest consumer receives messages;
// the others wait their turn. The caller dispatches afterwards.
func (q *Queue) AddConsumer(c ConsumerSpec) error {
	switch {
	case c.ID == 0 || c.Prefetch < 0:
		return fmt.Errorf("%w: id %d prefetch %d", ErrInvalidConsumer, c.ID, c.Prefetch)
	case q.byID[c.ID] != nil:
		return fmt.Errorf("%w: consumer %d", ErrConsumerExists, c.ID)
	case q.exclusive:
		return fmt.Errorf("%w: queue has an exclusive consumer", ErrExclusiveConsumer)
	case c.Exclusive && len(q.consumers) > 0:
		return fmt.Errorf("%w: queue has %d consumers", ErrExclusiveConsumer, len(q.consumers))
	}
	// A new consumer goes to the back of the round-robin among its
	// priority: it counts as served now.
	nc := &consumer{ConsumerSpec: c, served: q.seq}
	q.consumers = append(q.consumers, nc)
	q.byID[c.ID] = nc
	q.exclusive = c.Exclusive
	q.channel(c.Channel)
	return nil
}

// RemoveConsumer is basic.cancel (or the consumer's end). Its
// unacknowledged deliveries stay unacknowledged, owned by its channel,
// until acked, rejected or the channel closes (RabbitMQ's behaviour).
// With SingleActiveConsumer, removing the active consumer activates the
// next oldest (Effects.Activated). Unknown ids are ignored.
func (q *Queue) RemoveConsumer(id ConsumerID) Effects {
	var fx Effects
	c := q.byID[id]
	if c == nil {
		return fx
	}
	wasActive := q.active(c)
	delete(q.byID, id)
	q.consumers = slices.DeleteFunc(q.consumers, func(x *consumer) bool { return x == c })
	if c.Exclusive {
		q.exclusive = false
	}
	if wasActive && q.cfg.SingleActiveConsumer && len(q.consumers) > 0 {
		fx.Activated = append(fx.Activated, q.consumers[0].ID)
	}
	return fx
}

// SetBlocked marks consumer id as unable to take deliveries for now (the
// adapter's buffer towards it is full) or able again. A blocked consumer
// keeps its place, priority and unacknowledged messages; like one out of
// credit it is passed over, so a consumer that does not read cannot hold
// up the others. Unknown ids are ignored. The caller dispatches after
// unblocking.
func (q *Queue) SetBlocked(id ConsumerID, blocked bool) {
	if c := q.byID[id]; c != nil {
		c.blocked = blocked
	}
}

// SetChannelPrefetch is basic.qos with global=true: at most n (0 =
// unlimited) unacknowledged consumer deliveries on channel ch. The
// adapter calls it for each queue the channel consumes from, before the
// first basic.consume and whenever it changes. Simplification: RabbitMQ
// counts the channel's deliveries from every queue against the limit;
// this queue counts only its own. Lowering the limit never revokes
// deliveries; it only withholds new ones.
func (q *Queue) SetChannelPrefetch(ch ChannelID, n int) {
	q.channel(ch).prefetch = max(n, 0)
}

// active reports whether c may receive messages at all: every consumer
// without SingleActiveConsumer, only the oldest with it.
func (q *Queue) active(c *consumer) bool {
	return !q.cfg.SingleActiveConsumer || (len(q.consumers) > 0 && q.consumers[0] == c)
}

// hasCredit reports whether c may take one more delivery now.
func (q *Queue) hasCredit(c *consumer) bool {
	if c.blocked {
		return false
	}
	if c.NoAck {
		return true
	}
	if c.Prefetch > 0 && c.unacked >= c.Prefetch {
		return false
	}
	cs := q.channels[c.Channel]
	return cs.prefetch == 0 || cs.unacked < cs.prefetch
}

// pick chooses the consumer for the next message: among active consumers
// with credit, the highest priority, and among those the one served
// longest ago (round-robin), oldest registration first on ties. nil when
// nobody can take a message. O(consumers).
func (q *Queue) pick() *consumer {
	var best *consumer
	for _, c := range q.consumers {
		if !q.active(c) {
			break // with SAC only consumers[0] is active
		}
		if !q.hasCredit(c) {
			continue
		}
		if best == nil || c.Priority > best.Priority || (c.Priority == best.Priority && c.served < best.served) {
			best = c
		}
	}
	return best
}

// Active reports whether consumer id is registered and may receive
// messages (with SingleActiveConsumer: whether it is the active one), for
// the adapter's and management's consumer listings.
func (q *Queue) Active(id ConsumerID) bool {
	c := q.byID[id]
	return c != nil && q.active(c)
}
