package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ternmq/tern/internal/broker/queue"
	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/progress"
	"github.com/ternmq/tern/internal/storage"
)

// QueueConsumer receives a queue's deliveries. The adapter implements it
// for each basic.consume.
type QueueConsumer interface {
	// Deliver hands over one message. It is called from the queue's
	// delivery goroutine, one message at a time, and must not block: a
	// consumer that cannot take more for now (its connection is not
	// reading) says so with MQueue.SetConsumerBlocked instead, so the
	// queue goes on serving its other consumers. (A stream consumer has a
	// goroutine of its own and may block.)
	Deliver(d Delivered)
	// Cancelled tells the consumer the queue is gone (server-initiated
	// basic.cancel).
	Cancelled()
}

// Delivered is one message handed to a consumer or to basic.get.
type Delivered struct {
	// From settles the delivery (the queue or stream it came from).
	From Settler
	// StreamOffset is the record's offset for stream deliveries
	// (x-stream-offset header).
	StreamOffset int64
	Queue        *MQueue
	Consumer     queue.ConsumerID
	Level        uint8
	Offset       int64
	Redelivered  bool
	Message      QueueMessage
	// Remaining is the number of messages still ready (basic.get-ok).
	Remaining int64
}

// MQueueSpec is an AMQP queue's declaration.
type MQueueSpec struct {
	VHost, Name                      string
	Durable, Exclusive, AutoDelete   bool
	Args                             map[string]any
	Config                           queue.Config
	MessageTTL                       time.Duration // x-message-ttl; <0 none
	Expires                          time.Duration // x-expires; 0 none
	DeadLetterExchange, DeadLetterRK string
	DeadLetterSet                    bool
	// Owner is the connection that declared an exclusive queue.
	Owner uint64
}

// MQueue is an AMQP queue in the core: one log per priority level, a
// delivery state machine (package queue), and a goroutine that hands
// ready messages to consumers. Lock order: Broker.mu → MQueue.mu.
type MQueue struct {
	spec   MQueueSpec
	dir    string
	logs   []*storage.Log
	acks   acksLog
	logger *slog.Logger
	now    func() time.Time
	// progress receives purges (Broker's Config.Progress; nil reports
	// nothing).
	progress *progress.Registry

	// flushMu serializes flushes of pending publishes, so batches reach
	// the logs in the order they were taken. Lock order: flushMu → mu.
	flushMu sync.Mutex

	mu sync.Mutex
	st *queue.Queue
	// pend holds each level's publishes not yet written to its log
	// (see Publish).
	pend      []pendingPublishes
	consumers map[queue.ConsumerID]QueueConsumer
	deleted   bool
	// pendingDL are dead-lettered messages read before their segments
	// could be trimmed, republished by the delivery loop outside mu (a
	// queue may dead-letter into itself).
	pendingDL []deadLettered
	// trimTo is each level's low-water mark not yet applied to its log.
	trimTo []int64
	// ackBuf holds settled ranges not yet written to the acks log.
	ackBuf queue.Effects
	// readCache holds the last 64 KiB read from a level log (guarded by mu).
	readCache queueReadCache

	// deadLetter republishes a dead-lettered message (set by the virtual
	// host when the queue has a dead-letter exchange; nil drops them).
	deadLetter func(m QueueMessage, reason queue.Reason)
	// lastUsed is when the queue was last declared, consumed from or
	// published to (Unix ms), for x-expires; onExpire is called once it
	// has been unused, without consumers, for longer than that.
	lastUsed atomic.Int64
	onExpire func()

	// Counters since the broker started, for metrics (stats.go).
	published, delivered, acked atomic.Int64

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

// Spec is the queue's declaration.
func (q *MQueue) Spec() MQueueSpec { return q.spec }

// opts are the broker's storage options (logger, clock, fsync observer);
// nil fields take storage's defaults.
func openMQueue(dir string, spec MQueueSpec, sync storage.SyncPolicy, opts storage.Options) (*MQueue, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger, now := opts.Logger, opts.Now
	st, err := queue.New(spec.Config, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	q := &MQueue{
		spec: spec, logger: logger, now: now, st: st,
		consumers: map[queue.ConsumerID]QueueConsumer{},
		wake:      make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	cfg := storage.DefaultConfig()
	cfg.RetentionAge, cfg.RetentionBytes = -1, -1
	cfg.SegmentBytes = 64 << 20
	cfg.Sync = sync
	if !spec.Durable {
		cfg.Sync = storage.SyncOS
	}
	for lv := 0; lv < st.Levels(); lv++ {
		l, err := storage.Open(filepath.Join(dir, "level-"+strconv.Itoa(lv)), cfg, opts)
		if err != nil {
			q.closeLogs()
			return nil, fmt.Errorf("%w: open queue %s level %d: %w", ErrStorage, spec.Name, lv, err)
		}
		l.SetHighWatermark(l.EndOffset())
		q.logs = append(q.logs, l)
	}
	acks, err := storage.Open(filepath.Join(dir, "acks"), cfg, opts)
	if err != nil {
		q.closeLogs()
		return nil, fmt.Errorf("%w: open acks of queue %s: %w", ErrStorage, spec.Name, err)
	}
	acks.SetHighWatermark(acks.EndOffset())
	q.acks.log = acks
	recovered, err := replayAcks(acks, q.logs)
	if err != nil {
		q.closeLogs()
		return nil, fmt.Errorf("recover queue %s: %w", spec.Name, err)
	}
	if st, err = queue.New(spec.Config, recovered); err != nil {
		q.closeLogs()
		return nil, fmt.Errorf("%w: recover queue %s: %w", ErrStorage, spec.Name, err)
	}
	q.st = st
	q.trimTo = make([]int64, len(q.logs))
	q.pend = make([]pendingPublishes, len(q.logs))
	q.Touch()
	return q, nil
}

// start runs the delivery loop; the caller sets the queue's hooks
// (dead-lettering, expiry) before, so the loop never races them.
func (q *MQueue) start() { go q.loop() }

// queueReadCache is the last stretch of a level log read, with the batch
// last served from it decoded.
type queueReadCache struct {
	valid       bool
	level       uint8
	first, next int64
	raw         []byte
	pos         int   // byte position of the last batch served
	posOff      int64 // its base offset
	recs        []message.View
}

// pendingPublishes are one level's publishes waiting to be written as
// one batch, and the ticket their publishers wait on.
type pendingPublishes struct {
	recs   []message.Record
	bytes  int
	ticket *publishTicket
}

// publishTicket is closed once a batch of publishes is in the log (or
// failed to get there).
type publishTicket struct {
	done chan struct{}
	pd   storage.Pending
	err  error
}

// errRefused is a publish a reject-publish queue turned away at write
// time (see appendLocked).
var errRefused = errors.New("broker: queue at its limit refused the publish")

// Publish batching bounds: a publisher flushes itself past them.
const (
	flushRecords = 512
	flushBytes   = 256 << 10
)

// Publish adds m to the queue. It returns whether the queue took it
// (false under reject-publish overflow) and a wait function that returns
// once the message is durable (for publisher confirms).
//
// Publishes are not written one by one: they collect in memory, per
// level, and whoever needs them next writes them all as one batch — the
// delivery loop (woken by the publish), a confirm waiting for
// durability, basic.get, or the publisher itself once the batch is big.
// A message becomes deliverable when its batch is written. One write and
// one record batch per burst instead of per message is what lets a
// queue take publishes from many connections at disk speed.
func (q *MQueue) Publish(m QueueMessage) (bool, func() error, error) {
	rec := queueRecord(m)
	// A queue that refuses publishes at its limit admits and writes each
	// publish as one step (under flushMu), so the admission count is
	// exact: otherwise two publishers could both be admitted to the last
	// place and the second be dropped after its confirm.
	strict := q.spec.Config.Overflow != queue.DropHead
	if strict {
		q.flushMu.Lock()
		defer q.flushMu.Unlock()
	}
	q.mu.Lock()
	if q.deleted {
		q.mu.Unlock()
		return false, nil, fmt.Errorf("%w: queue %s deleted", ErrNotFound, q.spec.Name)
	}
	q.lastUsed.Store(q.now().UnixMilli())
	if strict && !q.st.Admit() {
		if q.spec.Config.Overflow == queue.RejectPublishDLX && q.deadLetter != nil {
			// Refused, and dead-lettered instead of stored (reason maxlen);
			// the loop republishes it outside mu.
			q.pendingDL = append(q.pendingDL, deadLettered{m, queue.ReasonMaxLen})
			q.kick()
		}
		q.mu.Unlock()
		return false, nil, nil
	}
	p := &q.pend[q.st.LevelFor(m.Priority)]
	if p.ticket == nil {
		p.ticket = &publishTicket{done: make(chan struct{})}
	}
	t := p.ticket
	p.recs = append(p.recs, rec)
	p.bytes += len(m.Body) + len(m.Props) + len(m.RoutingKey) + len(m.Exchange)
	full := len(p.recs) >= flushRecords || p.bytes >= flushBytes
	q.mu.Unlock()
	switch {
	case strict:
		q.flushLocked()
		if errors.Is(t.err, errRefused) {
			return false, nil, nil
		}
		if t.err != nil {
			return false, nil, t.err
		}
	case full:
		q.flush()
	default:
		q.kick()
	}
	q.published.Add(1)
	if !m.Persistent || !q.spec.Durable {
		// Confirmed once routed, as RabbitMQ confirms transient messages.
		return true, func() error { return nil }, nil
	}
	return true, func() error {
		select {
		case <-t.done:
		default:
			q.flush()
			<-t.done
		}
		if t.err != nil {
			return t.err
		}
		return t.pd.Wait()
	}, nil
}

// flush writes every pending publish, one batch per level, and hands the
// messages to the state machine. When it returns, everything published
// before the call is in the log (or its publishers got an error).
func (q *MQueue) flush() {
	q.flushMu.Lock()
	defer q.flushMu.Unlock()
	q.flushLocked()
}

// flushLocked is flush with flushMu held.
func (q *MQueue) flushLocked() {
	q.mu.Lock()
	batches := q.takePendingLocked()
	deleted := q.deleted
	q.mu.Unlock()
	if batches == nil {
		return
	}
	if deleted {
		failPending(batches, fmt.Errorf("%w: queue %s deleted", ErrNotFound, q.spec.Name))
		return
	}
	// Encoding and writing happen outside mu: publishers keep adding to
	// the next batch and the delivery loop keeps delivering meanwhile.
	for lv := range batches {
		b := &batches[lv]
		if len(b.recs) == 0 {
			continue
		}
		raw := message.EncodeBatch(b.recs, message.BatchOptions{ProducerID: -1, BaseSequence: -1})
		b.ticket.pd, b.ticket.err = q.logs[lv].AppendAsync(raw, 0)
		if b.ticket.err != nil {
			b.ticket.err = fmt.Errorf("%w: %w", ErrStorage, b.ticket.err)
		}
	}
	q.mu.Lock()
	for lv := range batches {
		b := &batches[lv]
		if len(b.recs) == 0 {
			continue
		}
		if b.ticket.err == nil {
			q.appendLocked(uint8(lv), b)
		} else {
			q.logger.Error("queue publish not stored", "queue", q.spec.Name, "messages", len(b.recs), "err", b.ticket.err)
		}
		close(b.ticket.done)
	}
	q.mu.Unlock()
	q.kick()
}

// takePendingLocked takes every level's pending publishes (nil if none).
func (q *MQueue) takePendingLocked() []pendingPublishes {
	var batches []pendingPublishes
	for lv := range q.pend {
		if len(q.pend[lv].recs) > 0 {
			if batches == nil {
				batches = make([]pendingPublishes, len(q.pend))
			}
			batches[lv], q.pend[lv] = q.pend[lv], pendingPublishes{}
		}
	}
	return batches
}

// failPending tells the publishers of batches that nothing was stored.
func failPending(batches []pendingPublishes, err error) {
	for _, b := range batches {
		if b.ticket != nil {
			b.ticket.err = err
			close(b.ticket.done)
		}
	}
}

// appendLocked hands a written batch to the state machine. Consumers may
// see the messages before their fsync (RabbitMQ does too); publishers'
// confirms wait for it.
func (q *MQueue) appendLocked(lv uint8, b *pendingPublishes) {
	pd := b.ticket.pd
	q.logs[lv].SetHighWatermark(pd.EndOffset)
	for i, r := range b.recs {
		accepted, fx, err := q.st.Append(lv, pd.BaseOffset+int64(i), len(r.Value))
		if err != nil {
			b.ticket.err = fmt.Errorf("%w: %w", ErrStorage, err)
			q.logger.Error("queue state rejected an append", "queue", q.spec.Name, "offset", pd.BaseOffset+int64(i), "err", err)
			return
		}
		q.applyLocked(fx)
		if !accepted {
			// Only a reject-publish queue refuses, and it writes one
			// publish per batch (see Publish): that publisher gets a nack.
			b.ticket.err = errRefused
		}
	}
}

func (q *MQueue) kick() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// applyLocked carries out the state machine's effects: settled messages
// free their segments once the low-water mark passes them.
func (q *MQueue) applyLocked(fx queue.Effects) {
	if q.deadLetter != nil {
		for _, d := range fx.DeadLettered {
			m, err := q.read(d.Level, d.Offset)
			if err != nil {
				q.logger.Error("dead-lettered message unreadable; dropped", "queue", q.spec.Name, "offset", d.Offset, "err", err)
				continue
			}
			q.pendingDL = append(q.pendingDL, deadLettered{m, d.Reason})
		}
		if len(q.pendingDL) > 0 {
			q.kick()
		}
	}
	if len(fx.Settled) > 0 {
		// Buffered: the delivery loop writes them in one append when it
		// next wakes (or at once past a bound), so a consumer acking one
		// message at a time costs one acks-log write per loop pass, not
		// per ack. An ack lost to a crash only means a redelivery.
		q.ackBuf.Merge(queue.Effects{Settled: fx.Settled})
		if len(q.ackBuf.Settled) >= 256 {
			q.flushAcksLocked()
		} else {
			q.kick()
		}
	}
	// The low-water mark is only remembered here: trimming writes and
	// fsyncs the log's start-offset checkpoint, far too costly per ack.
	// The delivery loop trims once a second (trim); until then the
	// acks log is what keeps settled messages from coming back.
	for _, m := range fx.LowWater {
		if int(m.Level) < len(q.trimTo) {
			q.trimTo[m.Level] = max(q.trimTo[m.Level], m.Offset)
		}
	}
}

// flushAcksLocked writes buffered settled ranges to the acks log.
func (q *MQueue) flushAcksLocked() {
	if len(q.ackBuf.Settled) == 0 {
		return
	}
	if err := q.acks.record(q.ackBuf.Settled, q.st.State()); err != nil {
		q.logger.Error("queue acks not recorded; they may be redelivered after a restart", "queue", q.spec.Name, "err", err)
	}
	q.ackBuf.Settled = q.ackBuf.Settled[:0]
}

// trim frees the segments below each level's low-water mark and the
// acks log's records before its newest snapshot. It runs on the delivery
// loop, outside mu: trimming writes and fsyncs a start-offset checkpoint,
// and holding the queue lock across an fsync stalled publishers and
// deliveries alike.
func (q *MQueue) trim() {
	q.mu.Lock()
	levels := slices.Clone(q.trimTo)
	acksTo := q.acks.trimTo
	q.mu.Unlock()
	for lv, off := range levels {
		l := q.logs[lv]
		if off > l.StartOffset() && off <= l.HighWatermark() {
			if err := l.DeleteRecordsBefore(off); err != nil {
				q.logger.Warn("queue low-water trim failed", "queue", q.spec.Name, "err", err)
			}
		}
	}
	if err := q.acks.trim(acksTo); err != nil {
		q.logger.Warn("queue acks-log trim failed", "queue", q.spec.Name, "err", err)
	}
}

// loop hands ready messages to consumers whenever something may have
// made a delivery possible: a publish, a new consumer, an ack.
func (q *MQueue) loop() {
	defer close(q.done)
	ttl := time.NewTicker(time.Second)
	defer ttl.Stop()
	for {
		select {
		case <-q.stop:
			return
		case <-q.wake:
		case <-ttl.C:
			q.trim()
			if q.unusedTooLong() {
				go q.onExpire() // takes the vhost lock, which waits for this loop
				return
			}
		}
		q.dispatch()
	}
}

// unusedTooLong reports whether x-expires has passed with no consumer.
func (q *MQueue) unusedTooLong() bool {
	if q.spec.Expires <= 0 || q.onExpire == nil {
		return false
	}
	q.mu.Lock()
	consumers := len(q.consumers)
	q.mu.Unlock()
	return consumers == 0 && q.now().UnixMilli()-q.lastUsed.Load() >= q.spec.Expires.Milliseconds()
}

// Touch marks the queue used now (queue.declare, basic.get, consume).
func (q *MQueue) Touch() { q.lastUsed.Store(q.now().UnixMilli()) }

// dispatch delivers until messages or credit run out, reading each head
// message first so expired ones are settled instead of delivered.
func (q *MQueue) dispatch() {
	type out struct {
		c QueueConsumer
		d Delivered
	}
	// Up to dispatchBatch deliveries are decided per lock acquisition:
	// publishers hold the lock across their write, and taking it once per
	// message made the delivery loop the queue's bottleneck.
	const dispatchBatch = 64
	batch := make([]out, 0, dispatchBatch)
	for {
		q.flush()
		q.mu.Lock()
		q.flushAcksLocked()
		if q.deleted {
			q.mu.Unlock()
			return
		}
		if dl := q.pendingDL; len(dl) > 0 {
			q.pendingDL = nil
			q.mu.Unlock()
			for _, d := range dl {
				q.deadLetter(d.m, d.reason)
			}
			continue
		}
		batch = batch[:0]
		more := true
		for len(batch) < dispatchBatch {
			msg, ok, err := q.liveHeadLocked()
			if err != nil {
				q.logger.Error("queue read failed", "queue", q.spec.Name, "err", err)
			}
			if !ok {
				more = false
				break
			}
			ds, fx := q.st.Dispatch(1)
			q.applyLocked(fx)
			if len(ds) == 0 {
				more = false
				break
			}
			d := ds[0]
			if c := q.consumers[d.Consumer]; c != nil {
				batch = append(batch, out{c, Delivered{From: q, Queue: q, Consumer: d.Consumer, Level: d.Level, Offset: d.Offset, Redelivered: d.Redelivered, Message: msg}})
			}
		}
		pendingDL := len(q.pendingDL) > 0
		q.mu.Unlock()
		q.delivered.Add(int64(len(batch)))
		for _, o := range batch {
			o.c.Deliver(o.d)
		}
		if !more && !pendingDL {
			return
		}
	}
}

func (q *MQueue) expired(m QueueMessage) bool {
	now := q.now().UnixMilli()
	if m.ExpiresAt > 0 && now >= m.ExpiresAt {
		return true
	}
	return q.spec.MessageTTL >= 0 && now >= m.Timestamp+q.spec.MessageTTL.Milliseconds()
}

// read loads the message at offset of level lv from the log. Reads go
// 64 KiB at a time into a small cache, and the batch last found there is
// kept decoded: the delivery loop reads messages in offset order, so one
// read and one decode serve the next many deliveries.
func (q *MQueue) read(lv uint8, off int64) (QueueMessage, error) {
	c := &q.readCache
	if !(c.valid && c.level == lv && off >= c.first && off < c.next) {
		if err := q.fillReadCache(lv, off); err != nil {
			return QueueMessage{}, err
		}
	}
	if n := len(c.recs); n == 0 || off < c.recs[0].Offset || off > c.recs[n-1].Offset {
		if err := c.decodeBatchOf(off); err != nil {
			c.valid = false
			return QueueMessage{}, err
		}
	}
	// Queue batches hold consecutive offsets; search in case one does not.
	i := int(off - c.recs[0].Offset)
	if i >= len(c.recs) || c.recs[i].Offset != off {
		i = slices.IndexFunc(c.recs, func(r message.View) bool { return r.Offset == off })
		if i < 0 {
			c.valid = false
			return QueueMessage{}, fmt.Errorf("%w: offset %d not found", ErrStorage, off)
		}
	}
	// The message aliases the cache buffer, which is never reused: each
	// fill reads into a new one.
	return decodeQueueMessage(c.recs[i])
}

// fillReadCache reads up to 64 KiB of level lv's log from off.
func (q *MQueue) fillReadCache(lv uint8, off int64) error {
	c := &q.readCache
	l := q.logs[lv]
	s, err := l.Read(off, 64<<10, l.HighWatermark())
	if err != nil {
		return err
	}
	// A new buffer every time, so messages already read can alias the
	// old one instead of being copied out one by one.
	c.raw, err = s.AppendTo(nil)
	s.Release()
	c.recs = nil
	if err != nil {
		c.valid = false
		return err
	}
	c.valid, c.level, c.first, c.next = len(c.raw) > 0, lv, off, off
	c.pos, c.posOff = 0, 0
	if b, err := message.ParseHeader(c.raw); err == nil {
		c.first = b.BaseOffset
	}
	for p := c.raw; len(p) > 0; {
		b, err := message.ParseHeader(p)
		if err != nil {
			break
		}
		c.next = b.LastOffset() + 1
		p = p[len(b.Raw):]
	}
	return nil
}

// decodeBatchOf decodes the cached batch holding off. Deliveries go
// forward, so the scan resumes where the last one ended.
func (c *queueReadCache) decodeBatchOf(off int64) error {
	pos := 0
	if c.pos <= len(c.raw) && off >= c.posOff {
		pos = c.pos
	}
	for p := c.raw[pos:]; len(p) > 0; {
		b, err := message.ParseHeader(p)
		if err != nil {
			return err
		}
		if off >= b.BaseOffset && off <= b.LastOffset() {
			c.pos, c.posOff = len(c.raw)-len(p), b.BaseOffset
			recs, err := message.Views(b, 0)
			if err != nil {
				return err
			}
			if len(recs) == 0 {
				break
			}
			c.recs = recs
			return nil
		}
		p = p[len(b.Raw):]
	}
	return fmt.Errorf("%w: offset %d not found", ErrStorage, off)
}

type deadLettered struct {
	m      QueueMessage
	reason queue.Reason
}

// liveHeadLocked returns the message Dispatch or Get would hand out next,
// first settling expired ones at the head (TTL is applied at the head, as
// in RabbitMQ). ok is false when nothing is ready.
func (q *MQueue) liveHeadLocked() (msg QueueMessage, ok bool, err error) {
	for {
		lv, off, ok := q.st.Head()
		if !ok {
			return QueueMessage{}, false, nil
		}
		msg, err := q.read(lv, off)
		if err != nil {
			return QueueMessage{}, false, fmt.Errorf("%w: read level %d offset %d: %w", ErrStorage, lv, off, err)
		}
		if !q.expired(msg) {
			return msg, true, nil
		}
		fx, _ := q.st.Expire(lv, off)
		q.applyLocked(fx)
	}
}

// Consume registers a consumer.
func (q *MQueue) Consume(spec queue.ConsumerSpec, c QueueConsumer) error {
	q.mu.Lock()
	if q.deleted {
		q.mu.Unlock()
		return fmt.Errorf("%w: queue %s deleted", ErrNotFound, q.spec.Name)
	}
	q.Touch()
	if err := q.st.AddConsumer(spec); err != nil {
		q.mu.Unlock()
		return mapQueueError(err)
	}
	q.consumers[spec.ID] = c
	q.mu.Unlock()
	q.kick()
	return nil
}

// Cancel removes a consumer; its unacknowledged messages stay with its
// channel until acked or the channel closes, as in RabbitMQ.
func (q *MQueue) Cancel(id queue.ConsumerID) {
	q.mu.Lock()
	delete(q.consumers, id)
	fx := q.st.RemoveConsumer(id)
	q.applyLocked(fx)
	q.mu.Unlock()
	q.kick()
}

// SetConsumerBlocked stops deliveries to a consumer whose connection is
// not keeping up, or resumes them (see queue.Queue.SetBlocked).
func (q *MQueue) SetConsumerBlocked(id queue.ConsumerID, blocked bool) {
	q.mu.Lock()
	q.st.SetBlocked(id, blocked)
	q.mu.Unlock()
	if !blocked {
		q.kick()
	}
}

// SetChannelPrefetch applies basic.qos global=true for channel ch.
func (q *MQueue) SetChannelPrefetch(ch queue.ChannelID, n int) {
	q.mu.Lock()
	q.st.SetChannelPrefetch(ch, n)
	q.mu.Unlock()
	q.kick()
}

// Ack settles delivered messages.
func (q *MQueue) Ack(ch queue.ChannelID, lv uint8, offsets ...int64) error {
	q.mu.Lock()
	fx, err := q.st.Ack(ch, lv, offsets...)
	q.applyLocked(fx)
	q.mu.Unlock()
	q.kick()
	if err == nil {
		q.acked.Add(int64(len(offsets)))
	}
	return mapQueueError(err)
}

// Reject is basic.nack/basic.reject.
func (q *MQueue) Reject(ch queue.ChannelID, lv uint8, requeue bool, offsets ...int64) error {
	q.mu.Lock()
	fx, err := q.st.Reject(ch, lv, requeue, offsets...)
	q.applyLocked(fx)
	q.mu.Unlock()
	q.kick()
	return mapQueueError(err)
}

// ChannelClosed requeues every message the channel had not acked.
func (q *MQueue) ChannelClosed(ch queue.ChannelID) {
	q.mu.Lock()
	fx := q.st.ChannelClosed(ch)
	q.applyLocked(fx)
	q.mu.Unlock()
	q.kick()
}

// Get is basic.get.
func (q *MQueue) Get(ch queue.ChannelID, noAck bool) (Delivered, bool, error) {
	q.Touch()
	q.flush()
	q.mu.Lock()
	defer q.mu.Unlock()
	msg, ok, err := q.liveHeadLocked()
	if !ok || err != nil {
		return Delivered{}, false, err
	}
	d, fx, ok := q.st.Get(ch, noAck)
	q.applyLocked(fx)
	if !ok {
		return Delivered{}, false, nil
	}
	q.delivered.Add(1)
	return Delivered{From: q, Queue: q, Level: d.Level, Offset: d.Offset, Redelivered: d.Redelivered, Message: msg, Remaining: q.st.Stats().Ready}, true, nil
}

// Purge settles every ready message and returns how many. It is reported
// as a "purge_queue" task, so operators can see which queue was emptied
// when and of how many messages (settling is quick; the segments it frees
// are trimmed later by the delivery loop).
func (q *MQueue) Purge() int64 {
	task := q.progress.Start("purge_queue", q.spec.VHost+"/"+q.spec.Name, "messages", 0)
	q.flush()
	q.mu.Lock()
	task.SetTotal(q.st.Stats().Ready)
	n, fx := q.st.Purge()
	q.applyLocked(fx)
	q.mu.Unlock()
	task.Add(n)
	task.Finish(nil)
	return n
}

// consumerCount is how many consumers the queue has (Stats without the
// flush).
func (q *MQueue) consumerCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.consumers)
}

// Stats reports ready and unacked counts and consumers.
func (q *MQueue) Stats() queue.Stats {
	q.flush()
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.st.Stats()
}

// close stops the delivery loop and closes the logs; with cancel, the
// consumers are told (queue deleted).
func (q *MQueue) close(cancel bool) error {
	// Publishes already taken are written (a clean shutdown keeps them);
	// any that race the close are failed, never left waiting.
	// After deleted is set (under flushMu, so no flush is mid-write) no
	// flush writes again.
	q.flush()
	q.flushMu.Lock()
	q.mu.Lock()
	if q.deleted {
		q.mu.Unlock()
		q.flushMu.Unlock()
		return nil
	}
	q.deleted = true
	failPending(q.takePendingLocked(), fmt.Errorf("%w: queue %s deleted", ErrNotFound, q.spec.Name))
	q.flushAcksLocked()
	cs := q.consumers
	q.consumers = map[queue.ConsumerID]QueueConsumer{}
	q.mu.Unlock()
	q.flushMu.Unlock()
	close(q.stop)
	<-q.done
	if cancel {
		for _, c := range cs {
			c.Cancelled()
		}
	}
	return q.closeLogs()
}

func (q *MQueue) closeLogs() error {
	var errs []error
	for _, l := range q.logs {
		errs = append(errs, l.Close())
	}
	if q.acks.log != nil {
		errs = append(errs, q.acks.log.Close())
	}
	return errors.Join(errs...)
}

func mapQueueError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, queue.ErrUnknownDelivery):
		return fmt.Errorf("%w: %w", ErrPreconditionFailed, err)
	case errors.Is(err, queue.ErrExclusiveConsumer):
		return fmt.Errorf("%w: %w", ErrAccessRefused, err)
	default:
		return err
	}
}
