package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ternmq/tern/internal/broker/exchange"
	"github.com/ternmq/tern/internal/broker/queue"
)

// amqpDirName holds every AMQP queue's logs, one directory per queue id.
const amqpDirName = "__amqp_queues"

// VHost is an AMQP virtual host: its exchanges and bindings (a Router
// whose immutable routing table publishers read without locks) and its
// queues. Topology changes are serialized by mu and, when durable,
// written to the catalog log before they are applied.
type VHost struct {
	name string
	b    *Broker

	mu      sync.Mutex
	router  *exchange.Router
	queues  map[string]*MQueue
	streams map[string]*Stream
	// table and targets are what publishers read, without locks:
	// snapshots taken by commit after every topology change. Publish
	// must not take mu: a queue's delivery loop republishes dead-lettered
	// messages, and deleting a queue waits for that loop under mu.
	table   atomic.Pointer[exchange.Table]
	targets atomic.Pointer[publishTargets]
	// meta is the description and tags (vhosts.go); deleted is set, under
	// mu, by DeleteVHost, after which every operation fails.
	meta    atomic.Pointer[vhostRecord]
	deleted atomic.Bool
}

// publishTargets are a vhost's queues and streams by name, as of the last
// topology change.
type publishTargets struct {
	queues  map[string]*MQueue
	streams map[string]*Stream
}

// amqpQueueRecord is a durable queue as the catalog stores it.
type amqpQueueRecord struct {
	Name       string        `json:"name"`
	ID         string        `json:"id"`
	AutoDelete bool          `json:"auto_delete,omitempty"`
	Args       exchange.Args `json:"args,omitempty"`
	// Topic is a stream queue's topic (amqpstreamtopic.go); a record
	// from before it was written means the topic of the queue's name
	// (settleStreams moves those of vhosts other than "/"). TopicID is
	// that topic's id (hex) when the stream owns it: deleting the stream
	// deletes it.
	Topic   string `json:"topic,omitempty"`
	TopicID string `json:"topic_id,omitempty"`
}

func newVHost(b *Broker, name string) *VHost {
	v := &VHost{name: name, b: b, router: exchange.New(), queues: map[string]*MQueue{}, streams: map[string]*Stream{}}
	v.meta.Store(&vhostRecord{Name: name})
	v.commit()
	return v
}

// Name is the virtual host's name.
func (v *VHost) Name() string { return v.name }

// VHost returns a virtual host.
func (b *Broker) VHost(name string) (*VHost, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	v, ok := b.vhosts[name]
	if !ok {
		return nil, fmt.Errorf("%w: virtual host %q", ErrNotFound, name)
	}
	return v, nil
}

// logChanges writes the durable ones of changes to the catalog log.
func (v *VHost) logChanges(ctx context.Context, changes []exchange.Change) error {
	var recs []metaRecord
	for _, c := range changes {
		if c.Durable() && c.Queue == nil { // queues are logged with their ids
			c := c
			recs = append(recs, metaRecord{Type: metaAMQPTopology, VHost: v.name, Change: &c})
		}
	}
	if len(recs) == 0 {
		return nil
	}
	return v.b.meta.append(ctx, recs...)
}

// commit publishes the router's new table to lock-free publishers.
func (v *VHost) commit() {
	v.table.Store(v.router.Table())
	v.targets.Store(&publishTargets{queues: maps.Clone(v.queues), streams: maps.Clone(v.streams)})
}

// DeclareExchange is exchange.declare; passive only checks existence.
func (v *VHost) DeclareExchange(ctx context.Context, name, kind string, passive, durable, autoDelete, internal bool, args map[string]any) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.liveLocked(); err != nil {
		return err
	}
	if passive {
		if _, ok := v.router.Exchange(name); !ok {
			return fmt.Errorf("%w: no exchange '%s' in vhost '%s'", ErrNotFound, name, v.name)
		}
		return nil
	}
	return v.mutate(ctx, func(r *exchange.Router) ([]exchange.Change, error) {
		return r.DeclareExchange(name, exchange.Kind(kind), durable, autoDelete, internal, args)
	})
}

// mutate applies a topology change: it runs fn on a copy so that a failed
// catalog write changes nothing, logs the durable changes, then swaps.
func (v *VHost) mutate(ctx context.Context, fn func(*exchange.Router) ([]exchange.Change, error)) error {
	if err := v.liveLocked(); err != nil {
		return err
	}
	snap := v.router.Snapshot()
	changes, err := fn(v.router)
	if err != nil {
		return mapExchangeError(err)
	}
	if err := v.logChanges(ctx, changes); err != nil {
		if r, rerr := exchange.Restore(snap); rerr == nil {
			v.router = r
		}
		return err
	}
	v.commit()
	return nil
}

// DeleteExchange is exchange.delete.
func (v *VHost) DeleteExchange(ctx context.Context, name string, ifUnused bool) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.mutate(ctx, func(r *exchange.Router) ([]exchange.Change, error) { return r.DeleteExchange(name, ifUnused) })
}

// Bind binds a queue (toQueue) or an exchange to source.
func (v *VHost) Bind(ctx context.Context, dest string, toQueue bool, source, key string, args map[string]any) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	d := exchange.ExchangeDest(dest)
	if toQueue {
		d = exchange.QueueDest(dest)
	}
	return v.mutate(ctx, func(r *exchange.Router) ([]exchange.Change, error) { return r.Bind(d, source, key, args) })
}

// Unbind removes a binding.
func (v *VHost) Unbind(ctx context.Context, dest string, toQueue bool, source, key string, args map[string]any) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	d := exchange.ExchangeDest(dest)
	if toQueue {
		d = exchange.QueueDest(dest)
	}
	return v.mutate(ctx, func(r *exchange.Router) ([]exchange.Change, error) { return r.Unbind(d, source, key, args) })
}

// QueueDeclareResult is queue.declare-ok's content.
type QueueDeclareResult struct {
	Queue     *MQueue
	Stream    *Stream
	Name      string
	Messages  int64
	Consumers int
}

// DeclareQueue is queue.declare. An empty name gets a server name
// (amq.gen-…). owner is the declaring connection, recorded for exclusive
// queues; a passive or repeated declare from another connection of an
// exclusive queue is ErrResourceLocked.
func (v *VHost) DeclareQueue(ctx context.Context, name string, passive, durable, exclusive, autoDelete bool, args map[string]any, owner uint64) (QueueDeclareResult, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.liveLocked(); err != nil {
		return QueueDeclareResult{}, err
	}
	if name == "" && !passive {
		name = serverQueueName()
	}
	if st, ok := v.streams[name]; ok {
		if !passive && args["x-queue-type"] != "stream" {
			return QueueDeclareResult{}, fmt.Errorf("%w: inequivalent arg 'x-queue-type' for queue '%s' in vhost '%s'", ErrPreconditionFailed, name, v.name)
		}
		_, hw, _, _ := v.b.PartitionOffsets(st.topic, 0)
		return QueueDeclareResult{Stream: st, Name: name, Messages: hw}, nil
	}
	if q, ok := v.queues[name]; ok {
		s := q.spec
		if err := v.checkOwner(q, owner); err != nil {
			return QueueDeclareResult{}, err
		}
		if !passive && (s.Durable != durable || s.Exclusive != exclusive || s.AutoDelete != autoDelete) {
			return QueueDeclareResult{}, fmt.Errorf("%w: inequivalent arg for queue '%s' in vhost '%s'", ErrPreconditionFailed, name, v.name)
		}
		q.Touch()
		st := q.Stats()
		return QueueDeclareResult{Queue: q, Name: name, Messages: st.Ready, Consumers: st.Consumers}, nil
	}
	if passive {
		return QueueDeclareResult{}, fmt.Errorf("%w: no queue '%s' in vhost '%s'", ErrNotFound, name, v.name)
	}
	if err := reservedQueueName(name); err != nil {
		return QueueDeclareResult{}, err
	}
	if args["x-queue-type"] == "stream" {
		return v.declareStream(ctx, name, durable, exclusive, autoDelete, args)
	}
	spec, err := queueSpec(v.name, name, durable, exclusive, autoDelete, args)
	if err != nil {
		return QueueDeclareResult{}, err
	}
	spec.Owner = owner
	id := randomToken()
	// Queue additions are logged with their storage ids, not as changes.
	if _, err := v.router.AddQueue(name, durable); err != nil {
		return QueueDeclareResult{}, mapExchangeError(err)
	}
	if durable {
		rec := amqpQueueRecord{Name: name, ID: id, AutoDelete: autoDelete, Args: exchange.Args(args)}
		if err := v.b.meta.append(ctx, metaRecord{Type: metaAMQPQueue, VHost: v.name, AMQPQueue: &rec}); err != nil {
			v.router.RemoveQueue(name)
			return QueueDeclareResult{}, err
		}
	}
	q, err := v.b.openAMQPQueue(id, spec)
	if err != nil {
		v.router.RemoveQueue(name)
		return QueueDeclareResult{}, err
	}
	v.wireDeadLetter(q)
	v.wireExpiry(q)
	q.start()
	v.queues[name] = q
	v.commit()
	return QueueDeclareResult{Queue: q, Name: name}, nil
}

// serverQueueName is a name for queue.declare with an empty one.
func serverQueueName() string { return "amq.gen-" + randomToken() }

// reservedQueueName refuses a new queue named amq.* (403), except the
// server names the broker hands out.
func reservedQueueName(name string) error {
	if strings.HasPrefix(name, "amq.") && !strings.HasPrefix(name, "amq.gen-") {
		return fmt.Errorf("%w: queue name '%s' contains reserved prefix 'amq.*'", ErrAccessRefused, name)
	}
	return nil
}

// hasQueue reports whether a queue or stream of that name exists, from
// the publishers' snapshot (no lock).
func (v *VHost) hasQueue(name string) bool {
	t := v.targets.Load()
	return t.queues[name] != nil || t.streams[name] != nil
}

// hasExchange reports whether the exchange exists.
func (v *VHost) hasExchange(name string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ok := v.router.Exchange(name)
	return ok
}

func (b *Broker) openAMQPQueue(id string, spec MQueueSpec) (*MQueue, error) {
	dir := filepath.Join(b.cfg.DataDir, amqpDirName, id)
	policy := b.cfg.LogDefaults.Sync
	opts := b.storageOptions()
	opts.Logger = b.logger.With("queue", spec.Name)
	q, err := openMQueue(dir, spec, policy, opts)
	if err != nil {
		return nil, err
	}
	q.dir = dir
	q.progress = b.cfg.Progress
	return q, nil
}

// declareStream creates a stream queue over partition 0 of its topic
// (amqpstreamtopic.go): in "/" the Kafka topic of the same name, created
// with one partition if it does not exist (so an existing Kafka topic can
// be attached to exchanges as a stream), elsewhere a topic private to the
// vhost. Streams are durable, never exclusive or auto-delete, as in
// RabbitMQ.
func (v *VHost) declareStream(ctx context.Context, name string, durable, exclusive, autoDelete bool, args map[string]any) (QueueDeclareResult, error) {
	if !durable || exclusive || autoDelete {
		return QueueDeclareResult{}, fmt.Errorf("%w: stream queue '%s' must be durable, not exclusive nor auto-delete", ErrPreconditionFailed, name)
	}
	topic, topicID, err := v.openStreamTopic(ctx, name)
	if err != nil {
		return QueueDeclareResult{}, err
	}
	if _, err := v.router.AddQueue(name, true); err != nil {
		return QueueDeclareResult{}, mapExchangeError(err)
	}
	st := &Stream{b: v.b, name: name, topic: topic, topicID: topicID, args: exchange.Args(args)}
	rec := st.record()
	if err := v.b.meta.append(ctx, metaRecord{Type: metaAMQPQueue, VHost: v.name, AMQPQueue: &rec}); err != nil {
		v.router.RemoveQueue(name)
		return QueueDeclareResult{}, err
	}
	v.streams[name] = st
	v.commit()
	return QueueDeclareResult{Stream: st, Name: name}, nil
}

// wireExpiry deletes the queue once x-expires passes unused.
func (v *VHost) wireExpiry(q *MQueue) {
	if q.spec.Expires <= 0 {
		return
	}
	q.onExpire = func() {
		v.mu.Lock()
		defer v.mu.Unlock()
		if v.queues[q.spec.Name] != q {
			return
		}
		v.b.logger.Info("queue expired (x-expires)", "queue", q.spec.Name, "vhost", v.name)
		if err := v.removeQueueLocked(context.Background(), q); err != nil {
			v.b.logger.Warn("expired queue not removed", "queue", q.spec.Name, "err", err)
		}
	}
}

// Stream returns a stream queue by name.
func (v *VHost) Stream(name string) (*Stream, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	st, ok := v.streams[name]
	return st, ok
}

// wireDeadLetter makes a queue with a dead-letter exchange republish what
// it dead-letters: through its DLX, with x-death recorded by the adapter's
// property rewriter, and with the dead-letter routing key if one is set.
func (v *VHost) wireDeadLetter(q *MQueue) {
	s := q.spec
	if !s.DeadLetterSet || v.b.cfg.DeadLetterProps == nil {
		return
	}
	q.deadLetter = func(m QueueMessage, reason queue.Reason) {
		props, headers, err := v.b.cfg.DeadLetterProps(m.Props, DeathInfo{
			Queue: s.Name, Reason: string(reason), Exchange: m.Exchange, RoutingKey: m.RoutingKey, Time: v.b.cfg.Now(),
		})
		if err != nil {
			v.b.logger.Warn("dead-letter properties unreadable; message dropped", "queue", s.Name, "err", err)
			return
		}
		out := QueueMessage{Exchange: s.DeadLetterExchange, RoutingKey: m.RoutingKey, Props: props, Body: m.Body,
			Persistent: m.Persistent, Priority: m.Priority, Timestamp: v.b.nowMs()}
		if s.DeadLetterRK != "" {
			out.RoutingKey = s.DeadLetterRK
		}
		if _, _, err := v.Publish(out, headers); err != nil {
			v.b.logger.Warn("dead-letter publish failed; message dropped", "queue", s.Name, "dlx", s.DeadLetterExchange, "err", err)
		}
	}
}

// checkOwner refuses another connection's exclusive queue (405).
func (v *VHost) checkOwner(q *MQueue, owner uint64) error {
	if q.spec.Exclusive && q.spec.Owner != owner {
		return fmt.Errorf("%w: cannot obtain exclusive access to locked queue '%s' in vhost '%s'", ErrResourceLocked, q.spec.Name, v.name)
	}
	return nil
}

// Queue returns a queue by name, checking exclusive ownership.
func (v *VHost) Queue(name string, owner uint64) (*MQueue, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.liveLocked(); err != nil {
		return nil, err
	}
	q, ok := v.queues[name]
	if !ok {
		return nil, fmt.Errorf("%w: no queue '%s' in vhost '%s'", ErrNotFound, name, v.name)
	}
	if err := v.checkOwner(q, owner); err != nil {
		return nil, err
	}
	return q, nil
}

// DeleteQueue is queue.delete: it returns how many messages were ready.
// Consumers get a server-initiated basic.cancel.
func (v *VHost) DeleteQueue(ctx context.Context, name string, ifUnused, ifEmpty bool, owner uint64) (int64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.liveLocked(); err != nil {
		return 0, err
	}
	if s, ok := v.streams[name]; ok {
		return 0, v.removeStreamLocked(ctx, s)
	}
	q, ok := v.queues[name]
	if !ok {
		return 0, fmt.Errorf("%w: no queue '%s' in vhost '%s'", ErrNotFound, name, v.name)
	}
	if err := v.checkOwner(q, owner); err != nil {
		return 0, err
	}
	st := q.Stats()
	if ifUnused && st.Consumers > 0 {
		return 0, fmt.Errorf("%w: queue '%s' in vhost '%s' in use", ErrPreconditionFailed, name, v.name)
	}
	if ifEmpty && st.Ready+st.Unacked > 0 {
		return 0, fmt.Errorf("%w: queue '%s' in vhost '%s' not empty", ErrPreconditionFailed, name, v.name)
	}
	return st.Ready, v.removeQueueLocked(ctx, q)
}

func (v *VHost) removeQueueLocked(ctx context.Context, q *MQueue) error {
	name := q.spec.Name
	changes, err := v.router.RemoveQueue(name)
	if err != nil {
		return mapExchangeError(err)
	}
	if q.spec.Durable {
		if err := v.b.meta.append(ctx, metaRecord{Type: metaAMQPQueueDelete, VHost: v.name, AMQPQueue: &amqpQueueRecord{Name: name}}); err != nil {
			return err
		}
	}
	if err := v.logChanges(ctx, changes); err != nil {
		return err
	}
	delete(v.queues, name)
	v.commit()
	err = q.close(true)
	return errors.Join(err, os.RemoveAll(q.dir))
}

// removeStreamLocked deletes a stream queue, and its topic if it owns it.
func (v *VHost) removeStreamLocked(ctx context.Context, s *Stream) error {
	changes, err := v.router.RemoveQueue(s.name)
	if err != nil {
		return mapExchangeError(err)
	}
	if err := v.b.meta.append(ctx, metaRecord{Type: metaAMQPQueueDelete, VHost: v.name, AMQPQueue: &amqpQueueRecord{Name: s.name}}); err != nil {
		return err
	}
	if err := v.logChanges(ctx, changes); err != nil {
		return err
	}
	delete(v.streams, s.name)
	v.commit()
	s.closeAll(true)
	return v.b.dropStreamTopic(ctx, v.name, s)
}

// ConnectionClosed deletes the exclusive queues the connection owned.
func (v *VHost) ConnectionClosed(ctx context.Context, owner uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, q := range v.queues {
		if q.spec.Exclusive && q.spec.Owner == owner {
			if err := v.removeQueueLocked(ctx, q); err != nil {
				v.b.logger.Warn("exclusive queue not removed", "queue", q.spec.Name, "err", err)
			}
		}
	}
}

// QueueIdle is called when an auto-delete queue may have lost its last
// consumer; it deletes the queue if so.
func (v *VHost) QueueIdle(ctx context.Context, q *MQueue) {
	if !q.spec.AutoDelete || q.consumerCount() > 0 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.queues[q.spec.Name] == q && q.consumerCount() == 0 {
		if err := v.removeQueueLocked(ctx, q); err != nil {
			v.b.logger.Warn("auto-delete queue not removed", "queue", q.spec.Name, "err", err)
		}
	}
}

// PublishResult says what a publish did.
type PublishResult struct {
	// Routed is false when no queue took the message (mandatory →
	// basic.return).
	Routed bool
	// Refused is true when a queue refused it (reject-publish overflow):
	// the publisher's confirm is a nack.
	Refused bool
}

// Publish routes m through exchange and appends it to every queue it
// reaches. The returned wait blocks until the message is durable in all
// of them (publisher confirms).
func (v *VHost) Publish(m QueueMessage, headers map[string]any) (PublishResult, func() error, error) {
	if v.deleted.Load() {
		return PublishResult{}, nil, v.deletedError()
	}
	names, err := v.table.Load().Route(m.Exchange, m.RoutingKey, headers)
	if err != nil {
		return PublishResult{}, nil, mapExchangeError(err)
	}
	var res PublishResult
	var waits []func() error
	targets := v.targets.Load()
	var qsBuf [4]*MQueue // most publishes reach a queue or a few
	qs := qsBuf[:0]
	var streams []*Stream
	for _, n := range names {
		if q := targets.queues[n]; q != nil {
			qs = append(qs, q)
		} else if st := targets.streams[n]; st != nil {
			streams = append(streams, st)
		}
	}
	if m.Timestamp == 0 {
		m.Timestamp = v.b.nowMs()
	}
	for _, st := range streams {
		wait, err := st.publish(m)
		if err != nil {
			return res, nil, err
		}
		res.Routed = true
		waits = append(waits, wait)
	}
	for _, q := range qs {
		ok, wait, err := q.Publish(m)
		if errors.Is(err, ErrNotFound) {
			continue // deleted under us: as if unrouted
		}
		if err != nil {
			return res, nil, err
		}
		res.Routed = true
		if !ok {
			res.Refused = true
			continue
		}
		waits = append(waits, wait)
	}
	switch len(waits) {
	case 0:
		return res, func() error { return nil }, nil
	case 1:
		return res, waits[0], nil
	}
	return res, func() error {
		var errs []error
		for _, w := range waits {
			errs = append(errs, w())
		}
		return errors.Join(errs...)
	}, nil
}

// QueueNames lists the vhost's queues (for tests and admin).
func (v *VHost) QueueNames() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]string, 0, len(v.queues))
	for n := range v.queues {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (v *VHost) close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, s := range v.streams {
		s.closeAll(false)
	}
	var errs []error
	for _, q := range v.queues {
		errs = append(errs, q.close(false))
	}
	return errors.Join(errs...)
}

func randomToken() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// mapExchangeError puts the core's sentinel over an exchange package
// error, keeping only one prefix in the text: the adapter turns the
// sentinel into the reply code and strips its words, so RabbitMQ's
// "ACCESS_REFUSED - operation not permitted on the default exchange"
// comes out without the package's own "exchange: access refused: ".
func mapExchangeError(err error) error {
	for _, m := range []struct{ from, to error }{
		{exchange.ErrNotFound, ErrNotFound},
		{exchange.ErrAccessRefused, ErrAccessRefused},
		{exchange.ErrPreconditionFailed, ErrPreconditionFailed},
		{exchange.ErrCommandInvalid, ErrCommandInvalid},
	} {
		if errors.Is(err, m.from) {
			return &mappedError{core: m.to, inner: err, text: strings.TrimPrefix(err.Error(), m.from.Error()+": ")}
		}
	}
	return err
}

// mappedError is an error of a sub-package under a core sentinel; both
// match errors.Is.
type mappedError struct {
	core, inner error
	text        string
}

func (e *mappedError) Error() string   { return e.core.Error() + ": " + e.text }
func (e *mappedError) Unwrap() []error { return []error{e.core, e.inner} }

// queueSpec turns queue.declare arguments into the queue's configuration,
// refusing values RabbitMQ refuses (406).
func queueSpec(vhost, name string, durable, exclusive, autoDelete bool, args map[string]any) (MQueueSpec, error) {
	spec := MQueueSpec{VHost: vhost, Name: name, Durable: durable, Exclusive: exclusive, AutoDelete: autoDelete,
		Args: args, Config: queue.DefaultConfig(), MessageTTL: -1}
	bad := func(k string, v any) error {
		return fmt.Errorf("%w: invalid arg '%s' for queue '%s' in vhost '%s': %v", ErrPreconditionFailed, k, name, vhost, v)
	}
	for k, val := range args {
		n, isNum := ArgInt(val)
		switch k {
		case "x-max-priority":
			if !isNum || n < 0 || n > 255 {
				return spec, bad(k, val)
			}
			spec.Config.MaxPriority = uint8(n)
		case "x-max-length":
			if !isNum || n < 0 {
				return spec, bad(k, val)
			}
			spec.Config.MaxLength = n
		case "x-max-length-bytes":
			if !isNum || n < 0 {
				return spec, bad(k, val)
			}
			spec.Config.MaxLengthBytes = n
		case "x-overflow":
			switch val {
			case "drop-head":
				spec.Config.Overflow = queue.DropHead
			case "reject-publish":
				spec.Config.Overflow = queue.RejectPublish
			case "reject-publish-dlx":
				spec.Config.Overflow = queue.RejectPublishDLX
			default:
				return spec, bad(k, val)
			}
		case "x-single-active-consumer":
			b, ok := val.(bool)
			if !ok {
				return spec, bad(k, val)
			}
			spec.Config.SingleActiveConsumer = b
		case "x-message-ttl":
			if !isNum || n < 0 {
				return spec, bad(k, val)
			}
			spec.MessageTTL = time.Duration(n) * time.Millisecond
		case "x-expires":
			if !isNum || n <= 0 {
				return spec, bad(k, val)
			}
			spec.Expires = time.Duration(n) * time.Millisecond
		case "x-dead-letter-exchange":
			s, ok := val.(string)
			if !ok {
				return spec, bad(k, val)
			}
			spec.DeadLetterExchange, spec.DeadLetterSet = s, true
			spec.Config.DeadLetter = true
		case "x-dead-letter-routing-key":
			s, ok := val.(string)
			if !ok {
				return spec, bad(k, val)
			}
			spec.DeadLetterRK = s
		case "x-queue-type":
			switch val {
			case "classic", "quorum", "stream":
			default:
				return spec, fmt.Errorf("%w: x-queue-type %v is not supported yet", ErrPreconditionFailed, val)
			}
		}
	}
	return spec, nil
}

// ArgInt reads an integer argument or header value of any of the integer
// types a field table decodes to.
func ArgInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		return int64(n), true
	}
	return 0, false
}
