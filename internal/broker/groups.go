package broker

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/compact"
	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/storage"
)

// The group log is compacted, as Kafka's __consumer_offsets: its keys are
// Kafka's offset and group-metadata keys, so the last record per key is
// the state, and the cleaner keeps the log the size of that state rather
// than of every commit ever made. Its settings are Kafka's for the
// offsets topic: 100 MiB segments (offsets.topic.segment.bytes),
// cleanup.policy=compact, the default dirty ratio and delete retention.

// internalLogSegmentBytes is Kafka's offsets.topic.segment.bytes and
// transaction.state.log.segment.bytes.
const internalLogSegmentBytes = 100 << 20

// internalLogConfig is the config of the broker's compacted internal logs,
// the group log and the transaction log.
func internalLogConfig() storage.Config {
	c := storage.DefaultConfig()
	c.Sync = storage.SyncAlways
	c.SegmentBytes = internalLogSegmentBytes
	c.RetentionAge, c.RetentionBytes = -1, -1
	c.Cleanup = storage.CleanupCompact
	return c
}

// openInternalLog opens a compacted internal log. On one node everything
// recovered is durable, so the high watermark (the cleaner's bound) is
// its end.
func (b *Broker) openInternalLog(name string) (*storage.Log, error) {
	l, err := storage.Open(filepath.Join(b.cfg.DataDir, name), internalLogConfig(), b.storageOptions())
	if err != nil {
		return nil, err
	}
	l.SetHighWatermark(l.EndOffset())
	return l, nil
}

// internalLogTarget registers an internal log with the cleaner.
func internalLogTarget(name string, l *storage.Log) compact.Target {
	return compact.Target{Name: name, Log: l, Settings: func() compact.Settings {
		return compact.SettingsOf(l.Config(), l.HighWatermark())
	}}
}

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
	raw := journalBatch(recs)
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.log.Append(raw, 0); err != nil {
		return fmt.Errorf("%w: group log: %w", ErrStorage, err)
	}
	j.log.SetHighWatermark(j.log.EndOffset())
	return nil
}

// journalBatch encodes a coordinator journal's keyed records (the group
// and transaction coordinators' record types are both a key and a value)
// as one plain batch stamped now.
func journalBatch[R ~struct{ Key, Value []byte }](recs []R) []byte {
	batch := make([]message.Record, len(recs))
	ts := nowMs()
	for i, r := range recs {
		kv := struct{ Key, Value []byte }(r)
		batch[i] = message.Record{Key: kv.Key, Value: kv.Value, Timestamp: ts}
	}
	return message.EncodeBatch(batch, message.BatchOptions{ProducerID: -1, BaseSequence: -1})
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
