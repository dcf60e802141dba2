package broker

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/progress"
	"github.com/ternmq/tern/internal/storage"
)

func openProgressBroker(t *testing.T, dir string, reg *progress.Registry) *Broker {
	t.Helper()
	b, err := Open(Config{
		DataDir: dir, NodeID: 1, LogDefaults: storage.DefaultConfig(), DefaultPartitions: 1,
		MaxMessageBytes: 1 << 20, Group: group.DefaultConfig(), Progress: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// findTask returns the one task of kind in reg, failing otherwise.
func findTask(t *testing.T, reg *progress.Registry, kind string) progress.Info {
	t.Helper()
	var found []progress.Info
	for _, i := range reg.List() {
		if i.Kind == kind {
			found = append(found, i)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s tasks = %+v, want one", kind, found)
	}
	return found[0]
}

func produceValues(t *testing.T, b *Broker, topic string, part int32, ts int64, values ...string) {
	t.Helper()
	recs := make([]message.Record, len(values))
	for i, v := range values {
		recs[i] = message.Record{Value: []byte(v), Timestamp: ts}
	}
	_, wait, err := b.Produce(context.Background(), topic, part, message.EncodeBatch(recs, message.BatchOptions{ProducerID: -1, BaseSequence: -1}))
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// TestProgressOfLongOperations checks that recovery, a topic delete and a
// queue purge each leave a finished task with the right totals.
func TestProgressOfLongOperations(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	reg := progress.NewRegistry(nil)
	b := openProgressBroker(t, dir, reg)
	if r := findTask(t, reg, "open_logs"); r.State != progress.StateDone || r.Total != 0 || r.Target != dir {
		t.Errorf("recovery of an empty dir = %+v, want done with nothing to open", r)
	}

	// Delete: the total is the topic's bytes, all of them counted.
	for _, name := range []string{"gone", "kept"} {
		if _, err := b.CreateTopic(ctx, CreateTopicRequest{Name: name, Partitions: 3, ReplicationFactor: -1}); err != nil {
			t.Fatal(err)
		}
		for p := range int32(3) {
			produceValues(t, b, name, p, time.Now().UnixMilli(), "a", "b", "c")
		}
	}
	var size int64
	for _, p := range b.PartitionStats() {
		if p.Topic == "gone" {
			size += p.SizeBytes
		}
	}
	if err := b.DeleteTopic(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if d := findTask(t, reg, "delete_topic"); d.State != progress.StateDone || d.Target != "gone" || d.Unit != "bytes" ||
		size == 0 || d.Total != size || d.Done != size || d.FinishedAt.IsZero() {
		t.Errorf("delete_topic task = %+v, want done with %d of %d bytes", d, size, size)
	}

	// Purge: the total is the ready count.
	v, err := b.VHost("/")
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.DeclareQueue(ctx, "q", false, true, false, false, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, _, err := res.Queue.Publish(QueueMessage{Body: []byte("m"), Persistent: true, Timestamp: time.Now().UnixMilli()}); err != nil {
			t.Fatal(err)
		}
	}
	if n := res.Queue.Purge(); n != 5 {
		t.Fatalf("Purge = %d, want 5", n)
	}
	if p := findTask(t, reg, "purge_queue"); p.State != progress.StateDone || p.Target != "//q" || p.Total != 5 || p.Done != 5 {
		t.Errorf("purge_queue task = %+v, want done with 5 of 5 messages", p)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	// Recovery of a data dir with topics: 3 partitions of "kept" and the
	// queue, each counted as it is opened.
	reg = progress.NewRegistry(nil)
	b = openProgressBroker(t, dir, reg)
	defer b.Close()
	if r := findTask(t, reg, "open_logs"); r.State != progress.StateDone || r.Target != dir || r.Unit != "partitions" || r.Total != 4 || r.Done != 4 {
		t.Errorf("recovery task = %+v, want done with 4 of 4 partitions", r)
	}
}

// TestRecoveryFailureIsReported: a broker that cannot open its data
// directory leaves a failed recovery task with the error.
func TestRecoveryFailureIsReported(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	reg := progress.NewRegistry(nil)
	if b, err := Open(Config{DataDir: file, LogDefaults: storage.DefaultConfig(), Group: group.DefaultConfig(), Progress: reg}); err == nil {
		b.Close()
		t.Fatal("Open on a file succeeded")
	}
	if r := findTask(t, reg, "open_logs"); r.State != progress.StateFailed || r.Error == "" {
		t.Errorf("recovery task = %+v, want failed with the error", r)
	}
}
