package broker

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ternmq/tern/internal/broker/exchange"
	"github.com/ternmq/tern/internal/progress"
)

// amqpReplay rebuilds AMQP topology from the catalog log: one Router per
// virtual host, replaying durable changes in order, and the durable
// queues with their storage ids.
type amqpReplay struct {
	routers map[string]*exchange.Router
	queues  map[string]map[string]amqpQueueRecord // vhost → name → record
	// vhosts are the virtual hosts recorded; vhostSeen is false for a
	// catalog without vhost records, where "/" exists implicitly.
	vhosts    map[string]vhostRecord
	vhostSeen bool
	// droppedTopics are the topics deleted stream queues owned, by name
	// with their id (hex): the stream's delete is logged before its
	// topic's, so one a crash came between is still a topic at the end.
	droppedTopics map[string]string
}

func newAMQPReplay() *amqpReplay {
	return &amqpReplay{routers: map[string]*exchange.Router{}, queues: map[string]map[string]amqpQueueRecord{},
		vhosts: map[string]vhostRecord{}, droppedTopics: map[string]string{}}
}

// dropped notes the topic of a deleted queue record, if it owned one.
func (a *amqpReplay) dropped(rec amqpQueueRecord) {
	if rec.TopicID != "" {
		a.droppedTopics[rec.Topic] = rec.TopicID
	}
}

func (a *amqpReplay) router(vhost string) *exchange.Router {
	r, ok := a.routers[vhost]
	if !ok {
		r = exchange.New()
		a.routers[vhost] = r
		a.queues[vhost] = map[string]amqpQueueRecord{}
	}
	return r
}

func (a *amqpReplay) apply(rec metaRecord) error {
	switch rec.Type {
	case metaVHost:
		a.vhostSeen = true
		meta := vhostRecord{Name: rec.VHost}
		if rec.VHostMeta != nil {
			meta = *rec.VHostMeta
		}
		a.vhosts[rec.VHost] = meta
		a.router(rec.VHost)
		return nil
	case metaVHostDelete:
		a.vhostSeen = true
		for _, q := range a.queues[rec.VHost] {
			a.dropped(q)
		}
		delete(a.vhosts, rec.VHost)
		delete(a.routers, rec.VHost)
		delete(a.queues, rec.VHost)
		return nil
	}
	r := a.router(rec.VHost)
	switch rec.Type {
	case metaAMQPTopology:
		if rec.Change == nil {
			return fmt.Errorf("%w: topology record without a change", ErrStorage)
		}
		if err := r.Apply(*rec.Change); err != nil {
			return fmt.Errorf("%w: replay %v: %w", ErrStorage, rec.Change, err)
		}
	case metaAMQPQueue:
		if _, err := r.AddQueue(rec.AMQPQueue.Name, true); err != nil {
			return fmt.Errorf("%w: replay queue %s: %w", ErrStorage, rec.AMQPQueue.Name, err)
		}
		// A record for a stream already there rewrites it
		// (settleStreams giving an old stream its own topic).
		a.queues[rec.VHost][rec.AMQPQueue.Name] = *rec.AMQPQueue
		delete(a.droppedTopics, rec.AMQPQueue.Topic)
	case metaAMQPQueueDelete:
		if _, err := r.RemoveQueue(rec.AMQPQueue.Name); err != nil {
			return fmt.Errorf("%w: replay queue delete %s: %w", ErrStorage, rec.AMQPQueue.Name, err)
		}
		if q, ok := a.queues[rec.VHost][rec.AMQPQueue.Name]; ok {
			a.dropped(q)
		}
		delete(a.queues[rec.VHost], rec.AMQPQueue.Name)
	}
	return nil
}

// queueLogs is how many queues loadAMQP will open (streams are topics,
// opened with them), for recovery's progress total.
func (a *amqpReplay) queueLogs() int {
	n := 0
	for vhost, qs := range a.queues {
		if _, ok := a.vhosts[vhost]; !ok && a.vhostSeen {
			continue
		}
		for _, rec := range qs {
			if rec.Args["x-queue-type"] != "stream" {
				n++
			}
		}
	}
	return n
}

// loadAMQP installs the replayed virtual hosts, opens every durable
// queue, and removes the directories of queues that did not survive
// (transient ones, deleted ones or those of a deleted vhost whose removal
// a crash interrupted). A catalog without vhost records (a new data
// directory, or one from before vhosts could be created) has "/" alone,
// which seedDefaultVHost then records. recovery counts each queue opened.
func (b *Broker) loadAMQP(a *amqpReplay, recovery *progress.Task) error {
	if !a.vhostSeen {
		a.vhosts[DefaultVHost] = vhostRecord{Name: DefaultVHost, Description: "Default virtual host"}
		b.vhostUnrecorded = true
	}
	keep := map[string]bool{}
	for name, meta := range a.vhosts {
		v := newVHost(b, name)
		v.meta.Store(&meta)
		v.router = a.router(name)
		for qname, rec := range a.queues[name] {
			if rec.Args["x-queue-type"] == "stream" {
				v.streams[qname] = b.streamFromRecord(rec)
				continue
			}
			spec, err := queueSpec(name, qname, true, false, rec.AutoDelete, rec.Args)
			if err != nil {
				return fmt.Errorf("%w: queue %s: %w", ErrStorage, qname, err)
			}
			q, err := b.openAMQPQueue(rec.ID, spec)
			if err != nil {
				return err
			}
			v.wireDeadLetter(q)
			v.wireExpiry(q)
			q.start()
			v.queues[qname] = q
			keep[rec.ID] = true
			recovery.Add(1)
		}
		v.commit()
		b.vhosts[name] = v
	}
	for topic, id := range a.droppedTopics {
		if t := b.topics[topic]; t != nil && hex.EncodeToString(t.ID[:]) == id {
			if b.staleStreamTopics == nil {
				b.staleStreamTopics = map[string][16]byte{}
			}
			b.staleStreamTopics[topic] = t.ID
		}
	}
	dir := filepath.Join(b.cfg.DataDir, amqpDirName)
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("%w: %w", ErrStorage, err)
	}
	for _, e := range entries {
		if !keep[e.Name()] {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("%w: %w", ErrStorage, err)
			}
		}
	}
	return nil
}
