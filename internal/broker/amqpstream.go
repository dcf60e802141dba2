package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ternmq/tern/internal/broker/queue"
	"github.com/ternmq/tern/internal/message"
)

// Settler is what a delivered message is settled with: a queue, or a
// stream (where settling only returns credit).
type Settler interface {
	Ack(ch queue.ChannelID, lv uint8, offsets ...int64) error
	Reject(ch queue.ChannelID, lv uint8, requeue bool, offsets ...int64) error
	ChannelClosed(ch queue.ChannelID)
}

// Stream is an AMQP stream queue (x-queue-type: stream): partition 0 of
// a topic — in vhost "/" the Kafka topic with the queue's name, in other
// vhosts a topic private to the vhost (amqpstreamtopic.go). AMQP
// consumers read it without consuming it, from the offset they ask for,
// as Kafka consumers do; a Kafka client reads the same records as a
// topic, and records a Kafka producer writes are delivered to AMQP
// consumers (key as routing key, value as body).
type Stream struct {
	b    *Broker
	name string
	// topic is the topic behind the stream; topicID its id when the
	// stream owns it (deletes it with itself), else zero; legacy marks a
	// stream whose record is from before streams named their topic. Set
	// at declare or load, before the stream is shared.
	topic   string
	topicID [16]byte
	legacy  bool
	args    map[string]any

	mu        sync.Mutex
	consumers map[queue.ConsumerID]*streamConsumer
}

// StreamOffset is where a stream consumer starts (x-stream-offset).
type StreamOffset struct {
	// Kind is "first", "last", "next", "offset" or "timestamp".
	Kind      string
	Offset    int64
	Timestamp int64 // Unix ms
}

type streamConsumer struct {
	s        *Stream
	id       queue.ConsumerID
	ch       queue.ChannelID
	c        QueueConsumer
	prefetch int
	noAck    bool

	mu     sync.Mutex
	credit int
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// defaultStreamCredit bounds deliveries in flight for a stream consumer
// without a prefetch limit, so a slow client cannot make the broker read
// the whole stream into its connection buffer.
const defaultStreamCredit = 1000

// Name is the stream queue's name.
func (s *Stream) Name() string { return s.name }

// Topic is the name of the topic behind the stream.
func (s *Stream) Topic() string { return s.topic }

func (s *Stream) owned() bool { return s.topicID != [16]byte{} }

// Consume starts delivering from the offset asked for.
func (s *Stream) Consume(spec queue.ConsumerSpec, from StreamOffset, c QueueConsumer) error {
	start, hw, _, err := s.b.PartitionOffsets(s.topic, 0)
	if err != nil {
		return err
	}
	off := hw
	switch from.Kind {
	case "first":
		off = start
	case "last":
		off = max(start, hw-1)
	case "offset":
		off = min(max(from.Offset, start), hw)
	case "timestamp":
		o, _, err := s.b.OffsetForTimestamp(s.topic, 0, from.Timestamp)
		if err != nil {
			return err
		}
		if o >= 0 {
			off = o
		}
	}
	credit := spec.Prefetch
	if credit <= 0 || spec.NoAck {
		credit = defaultStreamCredit
	}
	ctx, cancel := context.WithCancel(context.Background())
	sc := &streamConsumer{s: s, id: spec.ID, ch: spec.Channel, c: c, prefetch: credit, noAck: spec.NoAck,
		credit: credit, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	if s.consumers == nil {
		s.consumers = map[queue.ConsumerID]*streamConsumer{}
	}
	s.consumers[spec.ID] = sc
	s.mu.Unlock()
	go sc.run(ctx, off)
	return nil
}

// Cancel stops a consumer.
func (s *Stream) Cancel(id queue.ConsumerID) {
	s.mu.Lock()
	sc := s.consumers[id]
	delete(s.consumers, id)
	s.mu.Unlock()
	if sc != nil {
		sc.cancel()
		<-sc.done
	}
}

func (s *Stream) credit(ch queue.ChannelID, n int) {
	s.mu.Lock()
	var cs []*streamConsumer
	for _, sc := range s.consumers {
		if sc.ch == ch {
			cs = append(cs, sc)
		}
	}
	s.mu.Unlock()
	for _, sc := range cs {
		sc.mu.Lock()
		sc.credit = min(sc.credit+n, sc.prefetch)
		sc.mu.Unlock()
		select {
		case sc.wake <- struct{}{}:
		default:
		}
	}
}

// Ack returns credit: a stream keeps its records.
func (s *Stream) Ack(ch queue.ChannelID, _ uint8, offsets ...int64) error {
	s.credit(ch, len(offsets))
	return nil
}

// Reject returns credit; a stream cannot requeue or drop a record.
func (s *Stream) Reject(ch queue.ChannelID, _ uint8, _ bool, offsets ...int64) error {
	s.credit(ch, len(offsets))
	return nil
}

// ChannelClosed stops the channel's consumers.
func (s *Stream) ChannelClosed(ch queue.ChannelID) {
	s.mu.Lock()
	var ids []queue.ConsumerID
	for id, sc := range s.consumers {
		if sc.ch == ch {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	for _, id := range ids {
		s.Cancel(id)
	}
}

func (s *Stream) closeAll(cancelled bool) {
	s.mu.Lock()
	cs := s.consumers
	s.consumers = nil
	s.mu.Unlock()
	for _, sc := range cs {
		sc.cancel()
		<-sc.done
		if cancelled {
			sc.c.Cancelled()
		}
	}
}

// run reads the partition from off and delivers while it has credit,
// long-polling for new records (woken by appends, as Kafka fetches are).
func (sc *streamConsumer) run(ctx context.Context, off int64) {
	defer close(sc.done)
	for ctx.Err() == nil {
		sc.mu.Lock()
		credit := sc.credit
		sc.mu.Unlock()
		if credit == 0 {
			select {
			case <-sc.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		res := sc.s.b.Fetch(ctx, FetchRequest{
			Partitions: []FetchPartition{{Topic: sc.s.topic, Partition: 0, Offset: off, MaxBytes: 1 << 20}},
			MaxWait:    time.Second, MinBytes: 1, MaxBytes: 1 << 20,
		})
		r := res[0]
		if r.Err != nil {
			r.Records.Release()
			if errors.Is(r.Err, ErrOffsetOutOfRange) && r.LogStartOffset > off {
				off = r.LogStartOffset // retention moved the start past us
				continue
			}
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
			}
			continue
		}
		raw, err := r.Records.AppendTo(nil)
		r.Records.Release()
		if err != nil {
			continue
		}
		off = sc.deliver(raw, off)
	}
}

// deliver hands the records of raw at or after off to the consumer while
// credit lasts, returning the next offset to read.
func (sc *streamConsumer) deliver(raw []byte, off int64) int64 {
	for p := raw; len(p) > 0; {
		b, err := message.ParseHeader(p)
		if err != nil {
			return off
		}
		p = p[len(b.Raw):]
		if b.LastOffset() < off || b.Control() {
			off = max(off, b.LastOffset()+1)
			continue
		}
		recs, err := message.Views(b, 0)
		if err != nil {
			return b.LastOffset() + 1 // skip what cannot be decoded
		}
		for _, rec := range recs {
			if rec.Offset < off {
				continue
			}
			sc.mu.Lock()
			if sc.credit == 0 {
				sc.mu.Unlock()
				return off
			}
			if !sc.noAck {
				sc.credit--
			}
			sc.mu.Unlock()
			m, err := decodeQueueMessage(rec)
			if err != nil {
				m = QueueMessage{RoutingKey: string(rec.Key), Body: rec.Value}
			}
			sc.c.Deliver(Delivered{From: sc.s, Consumer: sc.id, Offset: rec.Offset, Message: m, StreamOffset: rec.Offset})
			off = rec.Offset + 1
		}
	}
	return off
}

// publish appends an AMQP message to the stream's partition.
func (s *Stream) publish(m QueueMessage) (func() error, error) {
	_, wait, err := s.b.Produce(context.Background(), s.topic, 0, encodeQueueMessage(m))
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", s.name, err)
	}
	return wait, nil
}
