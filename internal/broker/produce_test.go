package broker

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/storage"
	"github.com/ternmq/tern/internal/storage/vfs"
)

func openTestBroker(t *testing.T, fs vfs.FS) *Broker {
	t.Helper()
	b, err := Open(Config{
		DataDir: t.TempDir(), NodeID: 1, LogDefaults: storage.DefaultConfig(), AutoCreateTopics: true,
		DefaultPartitions: 1, MaxMessageBytes: 1 << 20, Group: group.DefaultConfig(), FS: fs,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func idempotentBatch(seq int32, values ...string) []byte {
	recs := make([]message.Record, len(values))
	for i, v := range values {
		recs[i] = message.Record{Value: []byte(v), Timestamp: time.Now().UnixMilli()}
	}
	return message.EncodeBatch(recs, message.BatchOptions{ProducerID: 5, ProducerEpoch: 0, BaseSequence: seq})
}

// TestRetryOfUndurableBatchIsNotAcknowledged fails the fsync of a
// partition's segment: the produce fails, and the client's retry of the
// same batch must fail too — answering it as a duplicate would
// acknowledge data that never reached the disk.
func TestRetryOfUndurableBatchIsNotAcknowledged(t *testing.T) {
	var failSync atomic.Bool
	fs := vfs.Inject(vfs.Default(), func(op vfs.Op, path string) error {
		if op == vfs.OpSync && failSync.Load() && strings.Contains(path, "retry-0") && strings.HasSuffix(path, ".log") {
			return syscall.EIO
		}
		return nil
	})
	b := openTestBroker(t, fs)
	ctx := context.Background()
	if _, err := b.CreateTopic(ctx, CreateTopicRequest{Name: "retry", Partitions: 1, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	failSync.Store(true)
	_, wait, err := b.Produce(ctx, "retry", 0, idempotentBatch(0, "a"))
	if err == nil {
		err = wait()
	}
	if !errors.Is(err, ErrStorage) {
		t.Fatalf("first produce: %v, want a storage error", err)
	}
	_, wait, err = b.Produce(ctx, "retry", 0, idempotentBatch(0, "a"))
	if err == nil {
		err = wait()
	}
	if err == nil {
		t.Fatal("retry of a batch whose fsync failed was acknowledged")
	}
}

func TestProduceRefusesSeveralBatchesPerPartition(t *testing.T) {
	b := openTestBroker(t, nil)
	two := append(idempotentBatch(0, "a"), idempotentBatch(1, "b")...)
	if _, _, err := b.Produce(context.Background(), "multi", 0, two); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("two batches in one partition: %v, want ErrInvalidRecord", err)
	}
	if _, hw, _, _ := b.PartitionOffsets("multi", 0); hw != 0 {
		t.Fatalf("high watermark %d after a refused produce", hw)
	}
}
