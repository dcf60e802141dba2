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
