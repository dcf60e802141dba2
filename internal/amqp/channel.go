package amqp

import (
	"errors"
	"fmt"
	"sync"

	"github.com/ternmq/tern/internal/amqp/spec"
	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/broker/queue"
)

// channel is one AMQP channel. Methods arrive on the connection's reader
// goroutine, in order; deliveries arrive from queue goroutines; mu guards
// what both touch (delivery tags, unacked deliveries, consumers).
type channel struct {
	c  *conn
	id uint16
	// qid identifies the channel to queues (unique across connections).
	qid queue.ChannelID

	// Content being assembled: basic.publish, then a header, then bodies.
	pending     *spec.BasicPublish
	pendingHdr  []byte
	pendingProp spec.Properties
	pendingSize uint64
	// reserved is pendingSize while the body is being received, counted
	// in the connection's bodyBytes.
	reserved uint64
	body     []byte

	closing bool // channel.close sent; waiting for close-ok

	// Confirm mode (reader goroutine only): the confirmer and the
	// sequence number of the last publish.
	confirms   *confirmer
	publishSeq uint64

	mu          sync.Mutex
	nextTag     uint64
	unacked     map[uint64]unackedMsg
	consumers   map[string]*consumer
	prefetch    int // basic.qos prefetch-count for new consumers
	tx          *txState
	nextConsume uint64
}

// unackedMsg is a delivery awaiting ack on this channel.
type unackedMsg struct {
	q      broker.Settler
	level  uint8
	offset int64
}

func newChannel(c *conn, id uint16) *channel {
	return &channel{
		c: c, id: id, qid: queue.ChannelID(c.id<<16 | uint64(id)),
		unacked: map[uint64]unackedMsg{}, consumers: map[string]*consumer{},
	}
}

// handleFrame processes one frame; a returned *amqpError that is hard
// closes the connection, a soft one closes this channel.
func (ch *channel) handleFrame(f spec.Frame) error {
	if ch.closing {
		// After channel.close only close-ok (or a crossing close) counts.
		if f.Type == spec.FrameMethod {
			if m, err := spec.DecodeMethod(f.Payload); err == nil {
				switch m.(type) {
				case *spec.ChannelCloseOK:
					ch.c.removeChannel(ch.id)
				case *spec.ChannelClose:
					ch.c.sendMethod(ch.id, &spec.ChannelCloseOK{})
				}
			}
		}
		return nil
	}
	var err error
	switch f.Type {
	case spec.FrameMethod:
		if ch.pending != nil {
			return newError(spec.UnexpectedFrame, nil, "expected content header for class 60, got method frame")
		}
		var m spec.Method
		m, err = spec.DecodeMethod(f.Payload)
		if err != nil {
			return decodeError(err)
		}
		err = ch.method(m)
		if err != nil {
			err = toAMQPError(err, m)
		}
	case spec.FrameHeader:
		err = ch.contentHeader(f.Payload)
	case spec.FrameBody:
		err = ch.contentBody(f.Payload)
	default:
		err = newError(spec.UnexpectedFrame, nil, "unexpected %v frame", f.Type)
	}
	if err == nil {
		return nil
	}
	var ae *amqpError
	if errors.As(err, &ae) && !ae.hard() {
		ch.closeWith(ae)
		return nil
	}
	return err
}

// closeWith closes the channel with a soft error: requeue its unacked
// messages, cancel its consumers, send channel.close.
func (ch *channel) closeWith(e *amqpError) {
	ch.c.logger.Debug("channel error", "channel", ch.id, "code", e.code, "text", e.text)
	ch.closing = true
	ch.release()
	ch.c.sendMethod(ch.id, &spec.ChannelClose{ReplyCode: e.code, ReplyText: e.text, FailingClassID: e.class, FailingMethodID: e.method})
}

// release cancels the channel's consumers and returns its unacked
// messages to their queues, marked redelivered.
func (ch *channel) release() {
	ch.unreserve()
	if ch.confirms != nil {
		ch.confirms.close()
	}
	ch.mu.Lock()
	cs := ch.consumers
	ch.consumers = map[string]*consumer{}
	queues := map[broker.Settler]bool{}
	for _, u := range ch.unacked {
		queues[u.q] = true
	}
	ch.unacked = map[uint64]unackedMsg{}
	ch.mu.Unlock()
	for _, cons := range cs {
		cons.cancel()
		queues[cons.settler()] = true
	}
	for q := range queues {
		q.ChannelClosed(ch.qid)
	}
	for _, cons := range cs {
		if cons.q != nil {
			ch.c.vhost.QueueIdle(ch.c.ctx, cons.q)
		}
	}
}

func (c *conn) removeChannel(id uint16) {
	c.mu.Lock()
	delete(c.channels, id)
	c.mu.Unlock()
}

// method runs one method of the channel.
func (ch *channel) method(m spec.Method) error {
	switch m := m.(type) {
	case *spec.ChannelClose:
		ch.release()
		ch.c.removeChannel(ch.id)
		ch.c.sendMethod(ch.id, &spec.ChannelCloseOK{})
		return nil
	case *spec.ChannelCloseOK:
		return nil
	case *spec.ChannelOpen:
		return newError(spec.ChannelError, m, "second 'channel.open' seen")
	case *spec.ChannelFlow:
		// As RabbitMQ: flow(true) is a no-op, flow(false) is 540
		// NOT_IMPLEMENTED (basic.qos is how consumers limit deliveries).
		if !m.Active {
			return newError(spec.NotImplemented, m, "active=false")
		}
		ch.c.sendMethod(ch.id, &spec.ChannelFlowOK{Active: true})
		return nil
	case *spec.ExchangeDeclare:
		return ch.exchangeDeclare(m)
	case *spec.ExchangeDelete:
		return ch.exchangeDelete(m)
	case *spec.ExchangeBind:
		return ch.exchangeBind(m)
	case *spec.ExchangeUnbind:
		return ch.exchangeUnbind(m)
	case *spec.QueueDeclare:
		return ch.queueDeclare(m)
	case *spec.QueueBind:
		return ch.queueBind(m)
	case *spec.QueueUnbind:
		return ch.queueUnbind(m)
	case *spec.QueuePurge:
		return ch.queuePurge(m)
	case *spec.QueueDelete:
		return ch.queueDelete(m)
	case *spec.BasicQos:
		return ch.basicQos(m)
	case *spec.BasicConsume:
		return ch.basicConsume(m)
	case *spec.BasicCancel:
		return ch.basicCancel(m)
	case *spec.BasicPublish:
		if m.Immediate {
			return newError(spec.NotImplemented, m, "immediate=true")
		}
		ch.pending = m
		return nil
	case *spec.BasicGet:
		return ch.basicGet(m)
	case *spec.BasicAck:
		return ch.basicAck(m)
	case *spec.BasicNack:
		return ch.settle(m, m.DeliveryTag, m.Multiple, false, m.Requeue)
	case *spec.BasicReject:
		return ch.settle(m, m.DeliveryTag, false, false, m.Requeue)
	case *spec.BasicRecover:
		ch.recover()
		ch.c.sendMethod(ch.id, &spec.BasicRecoverOK{})
		return nil
	case *spec.BasicRecoverAsync:
		ch.recover()
		return nil
	case *spec.ConfirmSelect:
		return ch.confirmSelect(m)
	case *spec.TxSelect, *spec.TxCommit, *spec.TxRollback:
		return ch.txMethod(m)
	default:
		return newError(spec.CommandInvalid, m, "unexpected %s", m.Name())
	}
}

func (ch *channel) contentHeader(payload []byte) error {
	if ch.pending == nil {
		return newError(spec.UnexpectedFrame, nil, "content header without basic.publish")
	}
	if ch.pendingHdr != nil {
		// A second header in the middle of a body: RabbitMQ's 505, and
		// the body budget reserved by the first is never double counted.
		return newError(spec.UnexpectedFrame, nil, "expected content body, got content header")
	}
	h, err := spec.DecodeContentHeader(payload)
	if err != nil {
		return newError(spec.FrameError, ch.pending, "%v", err)
	}
	if h.ClassID != spec.ClassBasic {
		return newError(spec.FrameError, ch.pending, "content header of class %d", h.ClassID)
	}
	// Both checks come before any body frame is kept, in RabbitMQ's
	// order: size (406), then write on the exchange (403). After either
	// the channel is closing and drops the body frames unread.
	if limit := ch.c.s.cfg.MaxMessageBytes; h.BodySize > limit {
		m := ch.pending
		ch.pending = nil
		configured := "configured " // RabbitMQ leaves it out at its hard limit
		if limit == maxMessageSizeLimit {
			configured = ""
		}
		return newError(spec.PreconditionFailed, m, "message size %d is larger than %smax size %d", h.BodySize, configured, limit)
	}
	if err := ch.c.access.Publish(ch.pending.Exchange); err != nil {
		m := ch.pending
		ch.pending = nil
		return toAMQPError(err, m)
	}
	if c := ch.c; h.BodySize > 0 {
		if c.bodyBytes > 0 && c.bodyBytes+h.BodySize > c.s.cfg.ConnMemory {
			m := ch.pending
			ch.pending = nil
			return newError(spec.PreconditionFailed, m, "message of %d bytes refused: this connection is already receiving %d bytes of message bodies (max.connection.memory %d)", h.BodySize, c.bodyBytes, c.s.cfg.ConnMemory)
		}
		c.bodyBytes += h.BodySize
		ch.reserved = h.BodySize
	}
	// Frame payloads are freshly allocated per frame and never reused,
	// so the header and (below) a one-frame body are kept without a copy.
	ch.pendingHdr = payload
	ch.pendingProp = h.Properties
	ch.pendingSize = h.BodySize
	ch.body = nil
	if h.BodySize == 0 {
		ch.body = []byte{}
		return ch.publishComplete()
	}
	return nil
}

func (ch *channel) contentBody(payload []byte) error {
	if ch.pending == nil || ch.pendingHdr == nil {
		return newError(spec.UnexpectedFrame, nil, "content body without a header")
	}
	if uint64(len(ch.body))+uint64(len(payload)) > ch.pendingSize {
		return newError(spec.FrameError, ch.pending, "content body exceeds the declared size %d", ch.pendingSize)
	}
	if ch.body == nil && uint64(len(payload)) == ch.pendingSize {
		ch.body = payload // the whole body in one frame, the usual case
	} else {
		if ch.body == nil {
			ch.body = make([]byte, 0, min(ch.pendingSize, 1<<20))
		}
		ch.body = append(ch.body, payload...)
	}
	if uint64(len(ch.body)) == ch.pendingSize {
		return ch.publishComplete()
	}
	return nil
}

// unreserve returns the channel's share of the connection's body budget.
func (ch *channel) unreserve() {
	ch.c.bodyBytes -= ch.reserved
	ch.reserved = 0
}

func (ch *channel) publishComplete() error {
	ch.unreserve()
	m, hdr, props, body := ch.pending, ch.pendingHdr, ch.pendingProp, ch.body
	ch.pending, ch.pendingHdr, ch.body = nil, nil, nil
	if gate := ch.c.s.publishGate(); gate != nil {
		// Resource alarm: hold this publish, and by holding the reader,
		// everything behind it on the socket (TCP backpressure), as
		// RabbitMQ does with a blocked connection.
		ch.c.notifyBlocked(true)
		select {
		case <-gate:
		case <-ch.c.ctx.Done():
			return nil
		}
	}
	if err := ch.publish(m, hdr, props, body); err != nil {
		return toAMQPError(err, m)
	}
	return nil
}

func (ch *channel) String() string { return fmt.Sprintf("channel %d", ch.id) }
