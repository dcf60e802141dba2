package broker

import (
	"context"
	"fmt"
	"sync"

	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/storage"
)

// groupJournal stores the group coordinator's records (committed offsets
// and group metadata) in the broker's group log, one batch per Append, so
// a commit is durable as a unit before it is acknowledged.
type groupJournal struct {
	mu  sync.Mutex
	log *storage.Log
}

func (j *groupJournal) Append(_ context.Context, recs []group.JournalRecord) error {
	if len(recs) == 0 {
		return nil
	}
	batch := make([]message.Record, len(recs))
	ts := nowMs()
	for i, r := range recs {
		batch[i] = message.Record{Key: r.Key, Value: r.Value, Timestamp: ts}
	}
	raw := message.EncodeBatch(batch, message.BatchOptions{ProducerID: -1, BaseSequence: -1})
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.log.Append(raw, 0); err != nil {
		return fmt.Errorf("%w: group log: %w", ErrStorage, err)
	}
	j.log.SetHighWatermark(j.log.EndOffset())
	return nil
}

func (j *groupJournal) Replay(fn func(group.JournalRecord) error) error {
	return readAll(j.log, func(r message.Record) error {
		return fn(group.JournalRecord{Key: r.Key, Value: r.Value})
	})
}

// groupTopics is the catalog as consumer groups (KIP-848) read it to
// resolve subscriptions and assign partitions. The coordinator calls it
// with its own lock held, so the lock order is group Coordinator → Broker.mu
// (read); the broker never calls the coordinator with Broker.mu held.
type groupTopics struct{ b *Broker }

func (g groupTopics) TopicByName(name string) (group.TopicMeta, bool) {
	g.b.mu.RLock()
	defer g.b.mu.RUnlock()
	t, ok := g.b.topics[name]
	if !ok {
		return group.TopicMeta{}, false
	}
	return group.TopicMeta{Name: t.Name, ID: t.ID, Partitions: int32(len(t.partitions))}, true
}

func (g groupTopics) TopicByID(id [16]byte) (group.TopicMeta, bool) {
	g.b.mu.RLock()
	defer g.b.mu.RUnlock()
	for _, t := range g.b.topics {
		if t.ID == id {
			return group.TopicMeta{Name: t.Name, ID: t.ID, Partitions: int32(len(t.partitions))}, true
		}
	}
	return group.TopicMeta{}, false
}

func (g groupTopics) TopicNames() []string {
	g.b.mu.RLock()
	defer g.b.mu.RUnlock()
	names := make([]string, 0, len(g.b.topics))
	for name := range g.b.topics {
		names = append(names, name)
	}
	return names
}
