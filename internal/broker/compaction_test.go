package broker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/broker/txn"
	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/storage"
)

func TestStorageConfigCompactionSettings(t *testing.T) {
	entries := func(kv ...string) []ConfigEntry {
		var out []ConfigEntry
		for i := 0; i < len(kv); i += 2 {
			out = append(out, ConfigEntry{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	tests := []struct {
		name string
		in   []ConfigEntry
		want func(storage.Config) bool
	}{
		{"Kafka's defaults", entries("cleanup.policy", "compact", "min.cleanable.dirty.ratio", "0.5", "min.compaction.lag.ms", "0",
			"max.compaction.lag.ms", "9223372036854775807", "delete.retention.ms", "86400000", "segment.ms", "604800000"),
			func(c storage.Config) bool {
				return c.MinCleanableRatio == 0.5 && c.MinCompactionLag == 0 && c.MaxCompactionLag == math.MaxInt64 &&
					c.DeleteRetention == 24*time.Hour && c.SegmentAge == 7*24*time.Hour
			}},
		{"lags and ratio", entries("cleanup.policy", "compact", "min.cleanable.dirty.ratio", "0.1", "min.compaction.lag.ms", "1000",
			"max.compaction.lag.ms", "60000", "delete.retention.ms", "0", "segment.ms", "604800000"),
			func(c storage.Config) bool {
				// The max lag also rolls segments, so it holds on an idle topic.
				return c.MinCleanableRatio == 0.1 && c.MinCompactionLag == time.Second && c.MaxCompactionLag == time.Minute &&
					c.DeleteRetention == 0 && c.SegmentAge == time.Minute
			}},
		{"max lag rolls only compacted topics", entries("cleanup.policy", "delete", "max.compaction.lag.ms", "60000", "segment.ms", "604800000"),
			func(c storage.Config) bool { return c.SegmentAge == 7*24*time.Hour && !c.Cleanup.Compact() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if c := storageConfig(tc.in); !tc.want(c) || c.Validate() != nil {
				t.Fatalf("storage config %+v (valid: %v)", c, c.Validate())
			}
		})
	}
	for v, ok := range map[string]bool{"0": true, "0.5": true, "1": true, "1.5": false, "-0.1": false, "x": false} {
		if err := validateTopicConfigs(map[string]string{"min.cleanable.dirty.ratio": v}); (err == nil) != ok {
			t.Errorf("min.cleanable.dirty.ratio=%s: %v", v, err)
		}
	}
	for v, ok := range map[string]bool{"compact": true, "compact,delete": true, "delete,compact": true, "delete, compact": true, "compact,nope": false, "": false} {
		if err := validateTopicConfigs(map[string]string{"cleanup.policy": v}); (err == nil) != ok {
			t.Errorf("cleanup.policy=%q: %v", v, err)
		}
	}
}

func keyedBatch(keys ...string) []byte {
	recs := make([]message.Record, len(keys))
	for i, k := range keys {
		recs[i] = message.Record{Value: []byte("v"), Timestamp: time.Now().UnixMilli()}
		if k != "" {
			recs[i].Key = []byte(k)
		}
	}
	return message.EncodeBatch(recs, message.BatchOptions{ProducerID: -1, BaseSequence: -1})
}

// TestCompactedTopicRefusesKeylessRecords: as Kafka's LogValidator, a
// batch with a record without a key is refused whole on a compacted
// topic (INVALID_RECORD with Kafka's message), and nothing is written.
func TestCompactedTopicRefusesKeylessRecords(t *testing.T) {
	b := openTestBroker(t, nil)
	ctx := context.Background()
	for _, policy := range []string{"compact", "delete,compact", "delete"} {
		name := "keys-" + strings.ReplaceAll(policy, ",", "-")
		if _, err := b.CreateTopic(ctx, CreateTopicRequest{Name: name, Partitions: 1, ReplicationFactor: 1, Configs: map[string]string{"cleanup.policy": policy}}); err != nil {
			t.Fatal(err)
		}
		_, _, err := b.Produce(ctx, name, 0, keyedBatch("a", "", "b", ""))
		if policy == "delete" {
			if err != nil {
				t.Fatalf("%s: keyless records refused on a topic that is not compacted: %v", policy, err)
			}
			continue
		}
		want := fmt.Sprintf("One or more records have been rejected due to 2 record errors in total, and only showing the first three errors at most: "+
			"[RecordError(batchIndex=1, message='Compacted topic cannot accept message without key in topic partition %s-0.'), "+
			"RecordError(batchIndex=3, message='Compacted topic cannot accept message without key in topic partition %s-0.')]", name, name)
		if !errors.Is(err, ErrInvalidRecord) || err.Error() != want {
			t.Fatalf("%s: produce = %v\nwant ErrInvalidRecord: %s", policy, err, want)
		}
		if _, hw, _, _ := b.PartitionOffsets(name, 0); hw != 0 {
			t.Fatalf("%s: high watermark %d after a refused produce", policy, hw)
		}
		if _, wait, err := b.Produce(ctx, name, 0, keyedBatch("a", "b")); err != nil || wait() != nil {
			t.Fatalf("%s: keyed batch refused: %v", policy, err)
		}
	}
}

// openUncleaned opens a broker on dir whose cleaner runs only on
// CompactNow.
func openUncleaned(t *testing.T, dir string) *Broker {
	t.Helper()
	b, err := Open(Config{DataDir: dir, NodeID: 1, LogDefaults: storage.DefaultConfig(), DefaultPartitions: 1,
		MaxMessageBytes: 1 << 20, Group: group.DefaultConfig(), Cleaner: CleanerConfig{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGroupLogIsCompacted commits offsets many times, deletes a group,
// cleans the consumer offsets log and restarts: the log shrinks to one
// record per key, and the replayed coordinator has every latest offset.
func TestGroupLogIsCompacted(t *testing.T) {
	dir := t.TempDir()
	open := func() *Broker { return openUncleaned(t, dir) }
	b := open()
	if s := b.groupLog.Config(); !s.Cleanup.Compact() || s.SegmentBytes != internalLogSegmentBytes {
		t.Fatalf("group log config %+v", s)
	}
	cfg := b.groupLog.Config()
	cfg.SegmentBytes = 2048 // roll often, so there is something sealed to clean
	b.groupLog.SetConfig(cfg)
	ctx := context.Background()
	want := map[string]int64{}
	for i := range 40 {
		for _, g := range []string{"g1", "g2", "gone"} {
			var offs []group.OffsetCommit
			for p := range int32(3) {
				offs = append(offs, group.OffsetCommit{Topic: "t", Partition: p, Offset: int64(i*10) + int64(p), LeaderEpoch: -1})
				want[fmt.Sprintf("%s/%d", g, p)] = int64(i*10) + int64(p)
			}
			if err, errs := b.Groups.CommitOffsets(ctx, g, "", "", -1, offs); err != nil || errors.Join(errs...) != nil {
				t.Fatalf("commit: %v %v", err, errs)
			}
		}
	}
	if errs := b.Groups.DeleteGroups([]string{"gone"}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	before := b.groupLog.Size()
	if n, err := b.CompactNow(ctx); n != 1 || err != nil {
		t.Fatalf("CompactNow = %d, %v", n, err)
	}
	if after := b.groupLog.Size(); after >= before/4 {
		t.Fatalf("group log %d bytes after cleaning, %d before", after, before)
	}
	if st := b.CleanerStats(); st.Passes != 1 || len(st.Logs) != 2 || st.Logs[0].Log != groupsDirName || st.BytesRead <= st.BytesWritten {
		t.Fatalf("cleaner stats %+v", st)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b = open()
	defer b.Close()
	for _, g := range []string{"g1", "g2"} {
		offs, err := b.Groups.FetchOffsets(g, nil)
		if err != nil || len(offs) != 3 {
			t.Fatalf("%s offsets after restart: %v %v", g, offs, err)
		}
		for _, o := range offs {
			if w := want[fmt.Sprintf("%s/%d", g, o.Partition)]; o.Offset != w {
				t.Fatalf("%s/%d = %d after compaction and restart, want %d", g, o.Partition, o.Offset, w)
			}
		}
	}
	if offs, _ := b.Groups.FetchOffsets("gone", nil); len(offs) != 0 {
		t.Fatalf("deleted group's offsets came back: %v", offs)
	}
}

// TestIdempotenceSurvivesCompaction: when cleaning removes every record
// of a producer's last batch, its header stays, so after a restart the
// producer's retry of that batch is still recognised as a duplicate.
func TestIdempotenceSurvivesCompaction(t *testing.T) {
	dir := t.TempDir()
	open := func() *Broker { return openUncleaned(t, dir) }
	b := open()
	ctx := context.Background()
	if _, err := b.CreateTopic(ctx, CreateTopicRequest{Name: "idem", Partitions: 1, ReplicationFactor: 1,
		Configs: map[string]string{"cleanup.policy": "compact", "segment.bytes": "1024"}}); err != nil {
		t.Fatal(err)
	}
	batch := func(pid int64, seq int32, keys ...string) []byte {
		recs := make([]message.Record, len(keys))
		for i, k := range keys {
			recs[i] = message.Record{Key: []byte(k), Value: make([]byte, 100), Timestamp: time.Now().UnixMilli()}
		}
		return message.EncodeBatch(recs, message.BatchOptions{ProducerID: pid, ProducerEpoch: 0, BaseSequence: seq})
	}
	produce := func(raw []byte) int64 {
		res, wait, err := b.Produce(ctx, "idem", 0, raw)
		if err != nil || wait() != nil {
			t.Fatalf("produce: %v", err)
		}
		return res.BaseOffset
	}
	produce(batch(5, 0, "a", "b"))
	last := produce(batch(5, 2, "a", "b"))
	// Producer 6 overwrites both keys, and enough follows to seal it all.
	produce(batch(6, 0, "a", "b"))
	for i := range 20 {
		produce(batch(6, int32(2+2*i), fmt.Sprint("x", i), fmt.Sprint("y", i)))
	}
	if n, err := b.CompactNow(ctx); n != 1 || err != nil {
		t.Fatalf("CompactNow = %d, %v", n, err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = open()
	defer b.Close()
	if got := produce(batch(5, 2, "a", "b")); got != last {
		t.Fatalf("retry of producer 5's last batch after compaction and restart got offset %d, want the original %d", got, last)
	}
	if _, _, err := b.Produce(ctx, "idem", 0, batch(5, 7, "a")); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("out-of-order sequence after compaction: %v", err)
	}
}

// TestTransactionLogIsCompacted runs many transactions of a few ids,
// cleans the transaction log and restarts: the log shrinks to about one
// record per id, and the replayed coordinator knows each id's last state.
func TestTransactionLogIsCompacted(t *testing.T) {
	dir := t.TempDir()
	open := func() *Broker { return openUncleaned(t, dir) }
	b := open()
	if s := b.txnLog.Config(); !s.Cleanup.Compact() {
		t.Fatalf("transaction log config %+v", s)
	}
	cfg := b.txnLog.Config()
	cfg.SegmentBytes = 2048
	b.txnLog.SetConfig(cfg)
	ctx := context.Background()
	if _, err := b.CreateTopic(ctx, CreateTopicRequest{Name: "t", Partitions: 1, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	epochs := map[string]int16{}
	for range 30 {
		for _, id := range []string{"a", "b"} {
			pid, epoch, err := b.Txns.InitProducerID(ctx, id, 60000, -1, -1)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Txns.AddPartitions(ctx, id, pid, epoch, []txn.Partition{{Topic: "t", Partition: 0}}); err != nil {
				t.Fatal(err)
			}
			if err := b.Txns.EndTxn(ctx, id, pid, epoch, true); err != nil {
				t.Fatal(err)
			}
			epochs[id] = epoch
		}
	}
	before := b.txnLog.Size()
	if _, err := b.CompactNow(ctx); err != nil {
		t.Fatal(err)
	}
	if after := b.txnLog.Size(); after >= before/4 {
		t.Fatalf("transaction log %d bytes after cleaning, %d before", after, before)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = open()
	defer b.Close()
	d, errs := b.Txns.Describe([]string{"a", "b"})
	for i, id := range []string{"a", "b"} {
		if errs[i] != nil || d[i].State != txn.CompleteCommit || d[i].ProducerEpoch != epochs[id] {
			t.Fatalf("%s after compaction and restart: %+v %v, want CompleteCommit at epoch %d", id, d[i], errs[i], epochs[id])
		}
	}
}
