package amqp

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/ternmq/tern/internal/amqp/spec"
	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/broker/queue"
)

// consumer is one basic.consume: it receives deliveries from its queue's
// delivery goroutine and writes them to the connection.
type consumer struct {
	ch     *channel
	tag    string
	q      *broker.MQueue // a classic queue's consumer, or
	stream *broker.Stream // a stream's
	id     queue.ConsumerID
	noAck  bool
	// ready is closed once basic.consume-ok is queued (or the consume
	// failed): the queue may deliver as soon as the consumer is
	// registered, but the client must see consume-ok first.
	ready chan struct{}
}

func (cs *consumer) settler() broker.Settler {
	if cs.stream != nil {
		return cs.stream
	}
	return cs.q
}

func (cs *consumer) cancel() {
	if cs.stream != nil {
		cs.stream.Cancel(cs.id)
		return
	}
	cs.q.Cancel(cs.id)
}

// Deliver implements broker.QueueConsumer.
func (cs *consumer) Deliver(d broker.Delivered) {
	<-cs.ready
	ch := cs.ch
	ch.mu.Lock()
	if _, live := ch.consumers[cs.tag]; !live {
		ch.mu.Unlock()
		// Cancelled while the delivery was on its way: hand it back.
		if !cs.noAck {
			d.From.Reject(ch.qid, d.Level, true, d.Offset)
		}
		return
	}
	ch.nextTag++
	tag := ch.nextTag
	if !cs.noAck {
		ch.unacked[tag] = unackedMsg{q: d.From, level: d.Level, offset: d.Offset}
	}
	ch.mu.Unlock()
	deliver := &spec.BasicDeliver{
		ConsumerTag: cs.tag, DeliveryTag: tag, Redelivered: d.Redelivered,
		Exchange: d.Message.Exchange, RoutingKey: d.Message.RoutingKey,
	}
	if cs.stream != nil {
		// A stream consumer's own goroutine may wait for room.
		ch.c.out.add(ch.c.contentFrames(ch.id, deliver, withStreamOffset(d.Message.Props, d.StreamOffset), d.Message.Body))
		return
	}
	frames := ch.c.contentFrames(ch.id, deliver, d.Message.Props, d.Message.Body)
	// A queue's delivery loop must not wait on one connection: the frames
	// go in regardless (prefetch bounds how many), and past the limit the
	// queue stops delivering here until the writer catches up.
	if full, _ := ch.c.out.push(frames); full {
		ch.c.blockConsumer(cs)
	}
}

// withStreamOffset returns a stored content header with the record's
// offset added as the x-stream-offset header, which RabbitMQ puts on every
// stream delivery so consumers can track where they are.
func withStreamOffset(props []byte, offset int64) []byte {
	h := spec.ContentHeader{ClassID: spec.ClassBasic}
	if len(props) > 0 {
		// Stream records may come from Kafka producers: properties that
		// do not decode are dropped rather than passed to the client.
		if dec, err := spec.DecodeContentHeader(props); err == nil {
			h = dec
		}
	}
	hs := make(spec.Table, len(h.Properties.Headers)+1)
	maps.Copy(hs, h.Properties.Headers)
	hs["x-stream-offset"] = offset
	h.Properties.Headers = hs
	out, err := h.AppendTo(nil)
	if err != nil {
		return nil // no properties rather than unencodable ones
	}
	return out
}

// Cancelled implements broker.QueueConsumer: the queue was deleted, so
// the client gets a server-initiated basic.cancel (consumer_cancel_notify).
func (cs *consumer) Cancelled() {
	ch := cs.ch
	ch.mu.Lock()
	_, live := ch.consumers[cs.tag]
	delete(ch.consumers, cs.tag)
	ch.mu.Unlock()
	if live {
		ch.c.sendMethod(ch.id, &spec.BasicCancel{ConsumerTag: cs.tag, NoWait: true})
	}
}

func (ch *channel) basicQos(m *spec.BasicQos) error {
	ch.mu.Lock()
	if m.Global {
		queues := map[*broker.MQueue]bool{}
		for _, cs := range ch.consumers {
			if cs.q != nil {
				queues[cs.q] = true
			}
		}
		ch.mu.Unlock()
		for q := range queues {
			q.SetChannelPrefetch(ch.qid, int(m.PrefetchCount))
		}
	} else {
		ch.prefetch = int(m.PrefetchCount)
		ch.mu.Unlock()
	}
	ch.c.sendMethod(ch.id, &spec.BasicQosOK{})
	return nil
}

func (ch *channel) basicConsume(m *spec.BasicConsume) error {
	if err := ch.c.access.Consume(m.Queue); err != nil {
		return err
	}
	stream, isStream := ch.c.vhost.Stream(m.Queue)
	var q *broker.MQueue
	if !isStream {
		var err error
		if q, err = ch.c.vhost.Queue(m.Queue, ch.c.id); err != nil {
			return err
		}
	}
	from, err := streamOffset(m.Arguments["x-stream-offset"])
	if err != nil {
		return newError(spec.PreconditionFailed, m, "%v", err)
	}
	ch.mu.Lock()
	tag := m.ConsumerTag
	if tag == "" {
		ch.nextConsume++
		tag = "amq.ctag-" + strconv.FormatUint(ch.c.id, 36) + "-" + strconv.FormatUint(uint64(ch.id), 36) + "-" + strconv.FormatUint(ch.nextConsume, 36)
	}
	if _, dup := ch.consumers[tag]; dup {
		ch.mu.Unlock()
		return newError(spec.NotAllowed, m, "attempt to reuse consumer tag '%s'", tag)
	}
	prio := 0
	if p, ok := m.Arguments["x-priority"]; ok {
		n, isNum := broker.ArgInt(p)
		if !isNum {
			ch.mu.Unlock()
			return newError(spec.PreconditionFailed, m, "invalid x-priority %v", p)
		}
		prio = int(n)
	}
	cs := &consumer{ch: ch, tag: tag, q: q, stream: stream, noAck: m.NoAck, id: queue.ConsumerID(uint64(ch.qid)<<20 | ch.nextConsume + 1), ready: make(chan struct{})}
	ch.nextConsume++
	ch.consumers[tag] = cs
	prefetch := ch.prefetch
	ch.mu.Unlock()
	// Registered first, so consumers of one queue take their places in
	// the order their consume-oks were sent (single active consumer
	// depends on it); deliveries wait for ready, so consume-ok still goes
	// out before the first of them.
	defer close(cs.ready)
	cspec := queue.ConsumerSpec{ID: cs.id, Channel: ch.qid, Prefetch: prefetch, NoAck: m.NoAck, Exclusive: m.Exclusive, Priority: prio}
	if isStream {
		err = stream.Consume(cspec, from, cs)
	} else {
		err = q.Consume(cspec, cs)
	}
	if err != nil {
		ch.mu.Lock()
		delete(ch.consumers, tag)
		ch.mu.Unlock()
		return err
	}
	if !m.NoWait {
		// push, not add: a delivery of this consumer's queue may already
		// be waiting for ready, and the queue's loop must not wait on a
		// full outbox (see consumer.Deliver).
		ch.c.out.push(func(b []byte) []byte {
			out, _ := spec.AppendMethodFrame(b, ch.id, &spec.BasicConsumeOK{ConsumerTag: tag})
			return out
		})
	}
	return nil
}

func (ch *channel) basicCancel(m *spec.BasicCancel) error {
	ch.mu.Lock()
	cs, ok := ch.consumers[m.ConsumerTag]
	delete(ch.consumers, m.ConsumerTag)
	ch.mu.Unlock()
	if ok {
		cs.cancel()
		if cs.q != nil {
			ch.c.vhost.QueueIdle(ch.c.ctx, cs.q)
		}
	}
	ch.reply(m.NoWait, &spec.BasicCancelOK{ConsumerTag: m.ConsumerTag})
	return nil
}

func (ch *channel) basicGet(m *spec.BasicGet) error {
	if err := ch.c.access.Consume(m.Queue); err != nil {
		return err
	}
	if _, ok := ch.c.vhost.Stream(m.Queue); ok {
		return newError(spec.PreconditionFailed, m, "queue '%s' is a stream: basic.get is not supported", m.Queue)
	}
	q, err := ch.c.vhost.Queue(m.Queue, ch.c.id)
	if err != nil {
		return err
	}
	d, ok, err := q.Get(ch.qid, m.NoAck)
	if err != nil {
		return err
	}
	if !ok {
		ch.c.sendMethod(ch.id, &spec.BasicGetEmpty{})
		return nil
	}
	ch.mu.Lock()
	ch.nextTag++
	tag := ch.nextTag
	if !m.NoAck {
		ch.unacked[tag] = unackedMsg{q: q, level: d.Level, offset: d.Offset}
	}
	ch.mu.Unlock()
	ch.c.sendContent(ch.id, &spec.BasicGetOK{
		DeliveryTag: tag, Redelivered: d.Redelivered, Exchange: d.Message.Exchange,
		RoutingKey: d.Message.RoutingKey, MessageCount: uint32(d.Remaining),
	}, d.Message.Props, d.Message.Body)
	return nil
}

func (ch *channel) basicAck(m *spec.BasicAck) error {
	if ch.tx != nil {
		ch.tx.acks = append(ch.tx.acks, txSettle{m: m, tag: m.DeliveryTag, multiple: m.Multiple, ack: true})
		return nil
	}
	return ch.settle(m, m.DeliveryTag, m.Multiple, true, false)
}

// settle acks, or rejects with or without requeue, one delivery tag or
// (multiple) every outstanding tag up to it; tag 0 with multiple means
// all. An unknown tag is 406 PRECONDITION_FAILED, as in RabbitMQ.
func (ch *channel) settle(m spec.Method, tag uint64, multiple, ack, requeue bool) error {
	if !ack && ch.tx != nil {
		ch.tx.acks = append(ch.tx.acks, txSettle{m: m, tag: tag, multiple: multiple, requeue: requeue})
		return nil
	}
	ch.mu.Lock()
	var take []unackedMsg
	if multiple {
		for t, u := range ch.unacked {
			if tag == 0 || t <= tag {
				take = append(take, u)
				delete(ch.unacked, t)
			}
		}
		if len(take) == 0 && tag != 0 {
			ch.mu.Unlock()
			return newError(spec.PreconditionFailed, m, "unknown delivery tag %d", tag)
		}
	} else {
		u, ok := ch.unacked[tag]
		if !ok {
			ch.mu.Unlock()
			return newError(spec.PreconditionFailed, m, "unknown delivery tag %d", tag)
		}
		delete(ch.unacked, tag)
		ch.mu.Unlock()
		// One tag, the usual case: straight to its queue.
		return settleIn(u.q, ch.qid, u.level, ack, requeue, u.offset)
	}
	ch.mu.Unlock()
	// One call per queue and level: a multiple ack of a prefetch window
	// is one state change and one acks-log write, not one per message.
	type key struct {
		q     broker.Settler
		level uint8
	}
	groups := map[key][]int64{}
	for _, u := range take {
		k := key{u.q, u.level}
		groups[k] = append(groups[k], u.offset)
	}
	for k, offsets := range groups {
		if err := settleIn(k.q, ch.qid, k.level, ack, requeue, offsets...); err != nil {
			return err
		}
	}
	return nil
}

// settleIn acks or rejects offsets of one level of q; a queue deleted
// meanwhile is not an error (its messages are gone anyway).
func settleIn(q broker.Settler, chID queue.ChannelID, level uint8, ack, requeue bool, offsets ...int64) error {
	var err error
	if ack {
		err = q.Ack(chID, level, offsets...)
	} else {
		err = q.Reject(chID, level, requeue, offsets...)
	}
	if err != nil && !errors.Is(err, broker.ErrNotFound) {
		return err
	}
	return nil
}

// recover requeues every unacked delivery of the channel (basic.recover
// with requeue; Tern always requeues, as RabbitMQ does).
func (ch *channel) recover() {
	ch.mu.Lock()
	queues := map[broker.Settler]bool{}
	for _, u := range ch.unacked {
		queues[u.q] = true
	}
	ch.unacked = map[uint64]unackedMsg{}
	ch.mu.Unlock()
	for q := range queues {
		q.ChannelClosed(ch.qid)
	}
}

// streamOffset reads x-stream-offset: "first", "last", "next" (the
// default), a numeric offset, or a timestamp.
func streamOffset(v any) (broker.StreamOffset, error) {
	switch x := v.(type) {
	case nil:
		return broker.StreamOffset{Kind: "next"}, nil
	case string:
		switch x {
		case "first", "last", "next":
			return broker.StreamOffset{Kind: x}, nil
		}
		return broker.StreamOffset{}, fmt.Errorf("invalid x-stream-offset %q", x)
	case time.Time:
		return broker.StreamOffset{Kind: "timestamp", Timestamp: x.UnixMilli()}, nil
	}
	if n, ok := broker.ArgInt(v); ok {
		return broker.StreamOffset{Kind: "offset", Offset: n}, nil
	}
	return broker.StreamOffset{}, fmt.Errorf("invalid x-stream-offset %v", v)
}

// publish routes a complete message. With confirms, the ack (or nack)
// goes out once the message is durable in every queue it reached.
func (ch *channel) publish(m *spec.BasicPublish, hdr []byte, props spec.Properties, body []byte) error {
	msg := broker.QueueMessage{
		Exchange: m.Exchange, RoutingKey: m.RoutingKey, Props: hdr, Body: body,
		Persistent: props.DeliveryMode == 2, Priority: props.Priority, Timestamp: time.Now().UnixMilli(),
	}
	if props.Expiration != "" {
		ms, err := strconv.ParseInt(props.Expiration, 10, 64)
		if err != nil || ms < 0 {
			return newError(spec.PreconditionFailed, m, "invalid expiration '%s'", props.Expiration)
		}
		msg.ExpiresAt = msg.Timestamp + ms
	}
	if ch.tx != nil {
		ch.tx.publishes = append(ch.tx.publishes, txPublish{m: m, msg: msg, headers: props.Headers})
		return nil
	}
	_, err := ch.route(m, msg, props.Headers)
	return err
}

// route publishes msg to the queues its exchange routes it to and
// returns a wait that ends once it is durable in all of them (for tx
// commits); in confirm mode the confirmer sends the ack or nack.
func (ch *channel) route(m *spec.BasicPublish, msg broker.QueueMessage, headers spec.Table) (func() error, error) {
	var seq uint64
	if ch.confirms != nil {
		ch.publishSeq++
		seq = ch.publishSeq
	}
	res, wait, err := ch.c.vhost.Publish(msg, headers)
	if err != nil {
		return nil, err
	}
	if !res.Routed && m.Mandatory {
		// Before the confirm, as RabbitMQ orders them.
		ch.c.sendContent(ch.id, &spec.BasicReturn{ReplyCode: spec.NoRoute, ReplyText: "NO_ROUTE", Exchange: m.Exchange, RoutingKey: m.RoutingKey}, msg.Props, msg.Body)
	}
	if ch.confirms != nil {
		if res.Refused {
			ch.confirms.add(seq, nil)
		} else {
			ch.confirms.add(seq, wait)
		}
	}
	return wait, nil
}

func (ch *channel) confirmSelect(m *spec.ConfirmSelect) error {
	if ch.tx != nil {
		return newError(spec.PreconditionFailed, m, "cannot switch from tx to confirm mode")
	}
	if ch.confirms == nil {
		ch.confirms = newConfirmer(ch)
	}
	ch.reply(m.NoWait, &spec.ConfirmSelectOK{})
	return nil
}
