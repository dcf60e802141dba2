package broker

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/ternmq/tern/internal/broker/exchange"
	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/storage"
)

// metaRecord is one change to the catalog. The catalog is a log of these
// (DESIGN §1: metadata is a log of changes), replayed at start; in a
// cluster the same records become the replicated metadata log.
type metaRecord struct {
	Type       string            `json:"type"`
	Topic      string            `json:"topic,omitempty"`
	TopicID    string            `json:"topic_id,omitempty"`
	Partitions int32             `json:"partitions,omitempty"`
	Configs    map[string]string `json:"configs,omitempty"`
	// NextProducerID is the first producer id not yet handed out.
	NextProducerID int64 `json:"next_producer_id,omitempty"`
	// AMQP topology: the virtual host, and a durable exchange/binding
	// change or a durable queue.
	VHost     string           `json:"vhost,omitempty"`
	Change    *exchange.Change `json:"change,omitempty"`
	AMQPQueue *amqpQueueRecord `json:"amqp_queue,omitempty"`
	// Users and permissions (users.go). A delete names the user in Topic.
	User       *userRecord `json:"user,omitempty"`
	Permission *Permission `json:"permission,omitempty"`
	// ACLs created or deleted together (acl.go).
	ACLs []ACL `json:"acls,omitempty"`
	// A virtual host created or updated (vhosts.go); a vhost_delete names
	// it in VHost alone.
	VHostMeta *vhostRecord `json:"vhost_meta,omitempty"`
}

// Meta record types.
const (
	metaCreateTopic   = "create_topic"
	metaDeleteTopic   = "delete_topic"
	metaTopicConfigs  = "topic_configs"
	metaPartitions    = "partitions"
	metaBrokerConfigs = "broker_configs"
	metaProducerIDs   = "producer_ids"

	metaAMQPTopology    = "amqp_topology"
	metaAMQPQueue       = "amqp_queue"
	metaAMQPQueueDelete = "amqp_queue_delete"

	metaUser             = "user"
	metaUserDelete       = "user_delete"
	metaPermission       = "permission"
	metaPermissionDelete = "permission_delete"

	metaACLCreate   = "acl_create"
	metaACLDelete   = "acl_delete"
	metaVHost       = "vhost"
	metaVHostDelete = "vhost_delete"
)

// metaLog persists catalog changes. Writes are serialized so the log's
// order is the order changes were applied in memory.
type metaLog struct {
	mu  sync.Mutex
	log *storage.Log
}

func (m *metaLog) append(_ context.Context, recs ...metaRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	batch := make([]message.Record, 0, len(recs))
	for _, r := range recs {
		v, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode meta record: %w", err)
		}
		batch = append(batch, message.Record{Key: []byte(r.Type + "/" + r.VHost + "/" + r.Topic), Value: v, Timestamp: nowMs()})
	}
	raw := message.EncodeBatch(batch, message.BatchOptions{ProducerID: -1, BaseSequence: -1})
	if _, err := m.log.Append(raw, 0); err != nil {
		return fmt.Errorf("%w: metadata log: %w", ErrStorage, err)
	}
	m.log.SetHighWatermark(m.log.EndOffset())
	return nil
}

// replay calls fn for every record of the log in order.
func (m *metaLog) replay(fn func(metaRecord) error) error {
	return readAll(m.log, func(r message.Record) error {
		var rec metaRecord
		if err := json.Unmarshal(r.Value, &rec); err != nil {
			return fmt.Errorf("%w: metadata record at offset %d: %w", ErrStorage, r.Offset, err)
		}
		return fn(rec)
	})
}

// readAll decodes every record of a log from its start to its end. It is
// for the broker's own small logs (metadata, groups), read once at start.
func readAll(l *storage.Log, fn func(message.Record) error) error {
	return eachBatch(l, func(b message.Batch) error {
		recs, err := message.Records(b, 0)
		if err != nil {
			return fmt.Errorf("%w: batch at %d: %w", ErrStorage, b.BaseOffset, err)
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// eachBatch calls fn with the header view of every batch from the log's
// start to its end, reading 1 MiB at a time. The batch aliases a buffer
// reused for the next read.
func eachBatch(l *storage.Log, fn func(message.Batch) error) error {
	off, end := l.StartOffset(), l.EndOffset()
	buf := make([]byte, 0, 1<<20)
	for off < end {
		s, err := l.Read(off, 1<<20, end)
		if err != nil {
			return fmt.Errorf("%w: read at %d: %w", ErrStorage, off, err)
		}
		if s.Size() == 0 {
			s.Release()
			return nil
		}
		buf, err = s.AppendTo(buf[:0])
		s.Release()
		if err != nil {
			return fmt.Errorf("%w: read at %d: %w", ErrStorage, off, err)
		}
		for p := buf; len(p) > 0; {
			b, err := message.ParseHeader(p)
			if err != nil {
				return fmt.Errorf("%w: batch at %d: %w", ErrStorage, off, err)
			}
			if err := fn(b); err != nil {
				return err
			}
			p = p[len(b.Raw):]
			off = b.LastOffset() + 1
		}
	}
	return nil
}
