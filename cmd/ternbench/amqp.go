package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// This file is the engine shared by the AMQP 0-9-1 scenarios (queue.go,
// fanout.go). A workload is a set of durable queues, optionally behind a
// fanout exchange, with publishers and consumers running at the same time:
//
//   - each publisher has its own connection and a channel in confirm mode;
//     it publishes persistent messages and keeps at most -inflight of them
//     un-confirmed (async confirms, a semaphore released by the confirm
//     listener), so the load is closed-loop like the log scenario's;
//   - each consumer has its own connection, a channel with basic.qos
//     -prefetch, manual acks: every -ack-every-th delivery is acked with
//     multiple=true (1, the default, acks each message on its own, as
//     RabbitMQ's PerfTest does by default), the remainder at the end;
//   - the first 8 bytes of every body are the publish time (Unix ns), so
//     end-to-end latency is publish → delivery in the same process.
//
// Publishing stops at -records or -duration; consumers then drain what
// was published. Queues and the exchange are deleted at the end.

// amqpDefaultInflight is -inflight for AMQP scenarios when the flag is 0.
const amqpDefaultInflight = 256

// amqpTimestampBytes is the body prefix holding the publish time.
const amqpTimestampBytes = 8

// amqpDrainTimeout bounds how long the drain, once publishing has ended,
// may go without a single delivery: a deep backlog may take many minutes
// to drain, a stuck one fails in one.
const amqpDrainTimeout = 60 * time.Second

// amqpWorkload describes one AMQP run.
type amqpWorkload struct {
	prefix            string // queue and exchange name prefix
	exchange          bool   // publish to a fanout exchange bound to every queue
	queues            int
	publishers        int
	consumersPerQueue int
	// backlog starts the consumers only once everything is published and
	// confirmed, so the queue holds the whole run at once.
	backlog bool
}

type amqpCounters struct {
	published atomic.Int64 // handed to the broker
	confirmed atomic.Int64 // basic.ack'd
	delivered atomic.Int64
	redeliver atomic.Int64
	lastConf  atomic.Int64 // Unix ns of the latest confirm
	lastDeliv atomic.Int64 // Unix ns of the latest delivery
}

// redactURL hides the secret of a broker URL for the JSON line and logs:
// the password, or a user alone, which NATS reads as a token.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); !ok {
			u.User = url.User("xxxxx")
		}
	}
	return u.Redacted()
}

func amqpDial(o options, name string) (*amqp.Connection, error) {
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName(name)
	conn, err := amqp.DialConfig(o.amqpURL, amqp.Config{
		Properties: props,
		Dial:       amqp.DefaultDial(10 * time.Second),
		Heartbeat:  10 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("dial %s as %s: %w", redactURL(o.amqpURL), name, err)
	}
	return conn, nil
}

// runAMQP runs w and fills an AMQP result: records/produce_* are confirmed
// publishes, p50_ms… publish→confirm latency, consumed_records/consume_*
// deliveries (every queue together), e2e_* publish→delivery latency.
func runAMQP(ctx context.Context, o options, w amqpWorkload, log *slog.Logger) (res result, err error) {
	if o.size < amqpTimestampBytes {
		return res, fmt.Errorf("-size %d: AMQP scenarios need ≥ %d bytes for the timestamp", o.size, amqpTimestampBytes)
	}
	inflight := o.inflight
	if inflight == 0 {
		inflight = amqpDefaultInflight
	}
	base := o.resourceName(w.prefix)
	queues := make([]string, w.queues)
	for i := range queues {
		queues[i] = base
		if w.queues > 1 {
			queues[i] = fmt.Sprintf("%s-%d", base, i)
		}
	}
	exchange, routingKey := "", queues[0]
	if w.exchange {
		exchange, routingKey = base, ""
	}
	res = result{
		Brokers: redactURL(o.amqpURL), Topic: base, Size: o.size, Queues: w.queues,
		Producers: w.publishers, Consumers: w.queues * w.consumersPerQueue,
		Inflight: inflight, Prefetch: o.prefetch, AckEvery: o.ackEvery, Rate: o.rate, QueueType: o.queueType, TargetRecords: o.records,
	}

	admin, err := amqpDial(o, "ternbench-admin")
	if err != nil {
		return res, err
	}
	defer admin.Close()
	if err := declareTopology(admin, exchange, queues, o.queueType); err != nil {
		return res, err
	}
	log.Info("topology declared", "exchange", exchange, "queues", len(queues), "first", queues[0])
	if !o.keep {
		defer func() {
			if derr := deleteTopology(o, exchange, queues); derr != nil {
				log.Warn("delete topology", "err", derr)
			}
		}()
	}

	pool, err := randomPool(1<<20, o.size)
	if err != nil {
		return res, err
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		c        amqpCounters
		target   atomic.Int64 // deliveries to wait for; 0 while publishing
		doneOnce sync.Once
		allIn    = make(chan struct{}) // closed when delivered ≥ target
	)
	checkDone := func() {
		if t := target.Load(); t > 0 && c.delivered.Load() >= t {
			doneOnce.Do(func() { close(allIn) })
		}
	}

	// Consumers first, so they are attached before anything is published
	// (with backlog: once everything is published).
	var cwg sync.WaitGroup
	consHists := make([]*histogram, 0, w.queues*w.consumersPerQueue)
	startConsumers := func() error {
		for qi, q := range queues {
			for ci := range w.consumersPerQueue {
				h := &histogram{}
				consHists = append(consHists, h)
				name := fmt.Sprintf("ternbench-consumer-%d-%d", qi, ci)
				deliveries, finish, err := startConsumer(o, name, q)
				if err != nil {
					cancel(err)
					cwg.Wait()
					return err
				}
				cwg.Add(1)
				go func() {
					defer cwg.Done()
					err := consume(runCtx, o, deliveries, allIn, h, &c, checkDone)
					if ferr := finish(); err == nil && ferr != nil {
						err = ferr
					}
					if err != nil {
						cancel(fmt.Errorf("%s: %w", name, err))
					}
				}()
			}
		}
		return nil
	}
	if !w.backlog {
		if err := startConsumers(); err != nil {
			return res, err
		}
	}

	// Publishers.
	stopCtx, stop := claimWindow(runCtx, o.duration)
	defer stop()
	var (
		claimed atomic.Int64
		pwg     sync.WaitGroup
	)
	pubHists := make([]*histogram, w.publishers)
	start := time.Now()
	for i := range w.publishers {
		h := &histogram{}
		pubHists[i] = h
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(i)))
			p := publisher{
				o: o, inflight: inflight, exchange: exchange, key: routingKey,
				pool: pool, rng: rng, claimed: &claimed, c: &c, hist: h,
				rate: o.rate / float64(w.publishers),
			}
			if err := p.run(runCtx, stopCtx, fmt.Sprintf("ternbench-publisher-%d", i)); err != nil {
				cancel(fmt.Errorf("publisher %d: %w", i, err))
			}
		}()
	}
	pubDone := make(chan struct{})
	go func() { pwg.Wait(); close(pubDone) }()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	progress := func(phase string) {
		el := time.Since(start).Seconds()
		log.Info(phase, "confirmed", c.confirmed.Load(), "delivered", c.delivered.Load(),
			"publish_msgs_s", round(float64(c.confirmed.Load())/el, 0),
			"deliver_msgs_s", round(float64(c.delivered.Load())/el, 0))
	}
	for waiting := true; waiting; {
		select {
		case <-pubDone:
			waiting = false
		case <-tick.C:
			progress("publishing")
		}
	}
	if err := context.Cause(runCtx); err != nil {
		cwg.Wait()
		return res, err
	}
	published := c.published.Load()
	// Deliveries while publishers ran: what consumers keep up with under
	// load (the drain afterwards runs without publishers competing).
	deliveredLive, liveEl := c.delivered.Load(), time.Since(start)
	target.Store(published * int64(w.queues))
	checkDone()
	log.Info("publishing done", "published", published, "confirmed", c.confirmed.Load(),
		"seconds", round(time.Since(start).Seconds(), 2))
	consStart := start
	if w.backlog {
		consStart = time.Now()
		if err := startConsumers(); err != nil {
			return res, err
		}
		checkDone()
	}

	drain := time.NewTimer(amqpDrainTimeout)
	defer drain.Stop()
	lastDelivered := c.delivered.Load()
	for waiting := true; waiting; {
		select {
		case <-allIn:
			waiting = false
		case <-tick.C:
			progress("draining")
		case <-drain.C:
			if d := c.delivered.Load(); d > lastDelivered {
				lastDelivered = d
				drain.Reset(amqpDrainTimeout)
				continue
			}
			cancel(fmt.Errorf("drain: %d of %d deliveries, none in the last %v", c.delivered.Load(), target.Load(), amqpDrainTimeout))
			waiting = false
		case <-runCtx.Done():
			waiting = false
		}
	}
	cancel(nil) // stops the consumers
	cwg.Wait()
	if err := context.Cause(runCtx); err != nil && !errors.Is(err, context.Canceled) {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("amqp run: %w", err)
	}

	confirmed := c.confirmed.Load()
	if confirmed == 0 {
		return res, errors.New("no message was confirmed")
	}
	pubEl := time.Duration(c.lastConf.Load() - start.UnixNano())
	delEl := time.Duration(c.lastDeliv.Load() - consStart.UnixNano())
	var ph, eh histogram
	for _, h := range pubHists {
		ph.merge(h)
	}
	for _, h := range consHists {
		eh.merge(h)
	}
	res.Records = confirmed
	res.ProduceS = round(pubEl.Seconds(), 3)
	res.ProduceMsgs = round(float64(confirmed)/pubEl.Seconds(), 0)
	res.ProduceMBs = round(float64(confirmed)*float64(o.size)/1e6/pubEl.Seconds(), 2)
	res.P50Ms, res.P99Ms, res.P999Ms = ph.quantile(0.5), ph.quantile(0.99), ph.quantile(0.999)
	res.MaxMs, res.MeanMs = usToMs(ph.max), round(ph.meanMs(), 3)
	delivered := c.delivered.Load()
	res.ConsumedRecords = delivered
	res.Redelivered = c.redeliver.Load()
	res.ConsumeS = round(delEl.Seconds(), 3)
	res.ConsumeMsgs = round(float64(delivered)/delEl.Seconds(), 0)
	if !w.backlog {
		res.ConsumeLiveMsgs = round(float64(deliveredLive)/liveEl.Seconds(), 0)
	}
	res.ConsumeMBs = round(float64(delivered)*float64(o.size)/1e6/delEl.Seconds(), 2)
	res.E2EP50Ms, res.E2EP99Ms, res.E2EP999Ms = eh.quantile(0.5), eh.quantile(0.99), eh.quantile(0.999)
	res.E2EMaxMs = usToMs(eh.max)
	if delivered != published*int64(w.queues) {
		return res, fmt.Errorf("delivered %d messages, want %d (%d published × %d queues)",
			delivered, published*int64(w.queues), published, w.queues)
	}
	if confirmed != published {
		return res, fmt.Errorf("%d of %d published messages confirmed", confirmed, published)
	}
	return res, nil
}

func declareTopology(conn *amqp.Connection, exchange string, queues []string, queueType string) error {
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("admin channel: %w", err)
	}
	defer ch.Close()
	if exchange != "" {
		if err := ch.ExchangeDeclare(exchange, amqp.ExchangeFanout, true, false, false, false, nil); err != nil {
			return fmt.Errorf("declare exchange %s: %w", exchange, err)
		}
	}
	var args amqp.Table
	if queueType != "" {
		args = amqp.Table{"x-queue-type": queueType}
	}
	for _, q := range queues {
		if _, err := ch.QueueDeclare(q, true, false, false, false, args); err != nil {
			return fmt.Errorf("declare queue %s: %w", q, err)
		}
		if exchange != "" {
			if err := ch.QueueBind(q, "", exchange, false, nil); err != nil {
				return fmt.Errorf("bind %s to %s: %w", q, exchange, err)
			}
		}
	}
	return nil
}

// deleteTopology uses a fresh connection: the run's may be broken.
func deleteTopology(o options, exchange string, queues []string) error {
	conn, err := amqpDial(o, "ternbench-cleanup")
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("cleanup channel: %w", err)
	}
	defer ch.Close()
	// A failed delete closes the channel, so the first error ends it.
	for _, q := range queues {
		if _, err := ch.QueueDelete(q, false, false, false); err != nil {
			return fmt.Errorf("delete queue %s: %w", q, err)
		}
	}
	if exchange != "" {
		if err := ch.ExchangeDelete(exchange, false, false); err != nil {
			return fmt.Errorf("delete exchange %s: %w", exchange, err)
		}
	}
	return nil
}

// storeMax raises v to n unless it already holds more.
func storeMax(v *atomic.Int64, n int64) {
	for {
		old := v.Load()
		if old >= n || v.CompareAndSwap(old, n) {
			return
		}
	}
}

// publisher is one confirm-mode publishing connection.
type publisher struct {
	o             options
	inflight      int
	exchange, key string
	pool          []byte
	rng           *rand.Rand
	claimed       *atomic.Int64
	c             *amqpCounters
	hist          *histogram // publish → confirm; written by the confirm listener only
	rate          float64    // this publisher's msgs/s (0: unpaced)
}

// pacer spaces publishes to a fixed rate: message n is due at
// start + n/rate. It sleeps at least a millisecond at a time (finer
// timers are not reliable), so messages leave in small bursts.
type pacer struct {
	rate  float64
	start time.Time
}

func newPacer(rate float64) pacer { return pacer{rate: rate, start: time.Now()} }

// wait returns once message n may be sent, with the time it was due (now
// when unpaced), or false if ctx ends first. Latency is measured from the
// due time, not from when the message actually left: a publisher held
// up (by the broker's confirms, or a stall) then counts the wait, instead
// of hiding it by sending late — the coordinated-omission correction of
// HdrHistogram and wrk2.
func (p pacer) wait(ctx context.Context, n int64) (time.Time, bool) {
	if p.rate <= 0 {
		return time.Now(), true
	}
	due := p.start.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	for d := time.Until(due); d > 0; d = time.Until(due) {
		t := time.NewTimer(max(d, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return due, false
		case <-t.C:
		}
	}
	return due, true
}

// run publishes until stopCtx ends or -records are claimed, then waits for
// every outstanding confirm (bounded by ctx).
func (p *publisher) run(ctx, stopCtx context.Context, name string) error {
	conn, err := amqpDial(p.o, name)
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		return fmt.Errorf("confirm.select: %w", err)
	}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, p.inflight))
	chClosed := ch.NotifyClose(make(chan *amqp.Error, 1))

	// sent[tag % inflight] is the publish time of delivery tag tag: at most
	// inflight tags are outstanding, so slots are never shared.
	sent := make([]atomic.Int64, p.inflight)
	sem := make(chan struct{}, p.inflight)
	var nacked atomic.Int64
	listenerDone := make(chan struct{})
	go func() {
		defer close(listenerDone)
		for cf := range confirms {
			now := time.Now()
			if cf.Ack {
				p.hist.record(now.Sub(time.Unix(0, sent[cf.DeliveryTag%uint64(p.inflight)].Load())))
				p.c.confirmed.Add(1)
				storeMax(&p.c.lastConf, now.UnixNano())
			} else {
				nacked.Add(1)
			}
			<-sem
		}
	}()
	brokenErr := func() error {
		select {
		case e := <-chClosed:
			if e != nil {
				return fmt.Errorf("channel closed: %w", e)
			}
		default:
		}
		return errors.New("channel closed")
	}

	body := make([]byte, p.o.size)
	msg := amqp.Publishing{DeliveryMode: amqp.Persistent, ContentType: "application/octet-stream", Body: body}
	pace := newPacer(p.rate)
publish:
	for n := int64(0); ; n++ {
		due, ok := pace.wait(stopCtx, n)
		if !ok {
			break
		}
		select {
		case sem <- struct{}{}:
		case <-stopCtx.Done():
			break publish
		case <-listenerDone:
			return brokenErr()
		}
		if p.claimed.Add(1) > p.o.records {
			<-sem
			break
		}
		off := p.rng.IntN(len(p.pool) - p.o.size + 1)
		copy(body, p.pool[off:off+p.o.size])
		tag := ch.GetNextPublishSeqNo()
		// Paced: from when the message was due (see pacer.wait).
		from := time.Now()
		if p.rate > 0 {
			from = due
		}
		binary.BigEndian.PutUint64(body, uint64(from.UnixNano()))
		sent[tag%uint64(p.inflight)].Store(from.UnixNano())
		// ctx, not stopCtx: a message handed over is published whole.
		if err := ch.PublishWithContext(ctx, p.exchange, p.key, false, false, msg); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		p.c.published.Add(1)
	}
	// Wait for every outstanding confirm: fill the semaphore.
	for range p.inflight {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("waiting for confirms: %w", context.Cause(ctx))
		case <-listenerDone:
			return brokenErr()
		}
	}
	if err := ch.Close(); err != nil {
		return fmt.Errorf("close channel: %w", err)
	}
	<-listenerDone // the listener's histogram writes happen before this
	if n := nacked.Load(); n > 0 {
		return fmt.Errorf("broker nacked %d messages", n)
	}
	return nil
}

// startConsumer opens a connection and channel and starts basic.consume on
// queue. finish cancels the consumer and closes the connection.
func startConsumer(o options, name, queue string) (<-chan amqp.Delivery, func() error, error) {
	conn, err := amqpDial(o, name)
	if err != nil {
		return nil, nil, err
	}
	ch, err := conn.Channel()
	if err == nil {
		err = ch.Qos(o.prefetch, 0, false)
	}
	var deliveries <-chan amqp.Delivery
	if err == nil {
		deliveries, err = ch.Consume(queue, name, false, false, false, false, nil)
	}
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("%s: consume %s: %w", name, queue, err)
	}
	finish := func() error {
		// Unacked messages go back to the queue, which is deleted anyway.
		if err := conn.Close(); err != nil && !errors.Is(err, amqp.ErrClosed) {
			return fmt.Errorf("close: %w", err)
		}
		return nil
	}
	return deliveries, finish, nil
}

// consume receives deliveries until allIn is closed or ctx ends, recording
// end-to-end latency into h and acking every -ack-every messages.
func consume(ctx context.Context, o options, deliveries <-chan amqp.Delivery, allIn <-chan struct{}, h *histogram, c *amqpCounters, checkDone func()) error {
	var (
		unacked int
		last    amqp.Delivery
	)
	ackRest := func() error {
		if unacked == 0 {
			return nil
		}
		unacked = 0
		if err := last.Ack(o.ackEvery > 1); err != nil {
			return fmt.Errorf("ack: %w", err)
		}
		return nil
	}
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				select {
				case <-allIn:
					return nil
				case <-ctx.Done():
					return nil
				default:
					return errors.New("delivery channel closed by the broker")
				}
			}
			now := time.Now()
			if len(d.Body) >= amqpTimestampBytes {
				h.record(now.Sub(time.Unix(0, int64(binary.BigEndian.Uint64(d.Body)))))
			}
			if d.Redelivered {
				c.redeliver.Add(1)
			}
			last = d
			unacked++
			if unacked >= o.ackEvery {
				if err := ackRest(); err != nil {
					return err
				}
			}
			c.delivered.Add(1)
			storeMax(&c.lastDeliv, now.UnixNano())
			checkDone()
		case <-allIn:
			return ackRest()
		case <-ctx.Done():
			return nil
		}
	}
}
