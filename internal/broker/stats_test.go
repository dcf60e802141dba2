package broker

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/storage"
)

// TestGroupLagAge checks the age of the record at each committed offset:
// the first timestamp of its batch (the broker's for LogAppendTime
// topics), 0 when caught up, clamped at 0 for timestamps from the future,
// and aged from the log start when retention passed the committed offset.
func TestGroupLagAge(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_750_000_000_000)
	var clock atomic.Int64
	clock.Store(now.Add(-90 * time.Second).UnixMilli())
	b, err := Open(Config{
		DataDir: t.TempDir(), NodeID: 1, LogDefaults: storage.DefaultConfig(), DefaultPartitions: 1,
		MaxMessageBytes: 1 << 20, Group: group.DefaultConfig(),
		Now: func() time.Time { return time.UnixMilli(clock.Load()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ago := func(d time.Duration) int64 { return now.Add(-d).UnixMilli() }
	create := func(name string, configs map[string]string) {
		t.Helper()
		if _, err := b.CreateTopic(ctx, CreateTopicRequest{Name: name, Partitions: 1, ReplicationFactor: -1, Configs: configs}); err != nil {
			t.Fatal(err)
		}
	}

	// At now-90s the broker stamps its own time over the producer's.
	create("lat", map[string]string{"message.timestamp.type": "LogAppendTime"})
	produceValues(t, b, "lat", 0, ago(500*time.Second), "x")
	clock.Store(now.UnixMilli())
	create("ct", nil)
	produceValues(t, b, "ct", 0, ago(120*time.Second), "a", "b", "c") // offsets 0-2
	produceValues(t, b, "ct", 0, ago(60*time.Second), "d", "e")       // 3-4
	produceValues(t, b, "ct", 0, ago(10*time.Second), "f")            // 5
	create("future", nil)
	produceValues(t, b, "future", 0, now.Add(time.Minute).UnixMilli(), "z")
	create("trimmed", nil)
	produceValues(t, b, "trimmed", 0, ago(300*time.Second), "a")
	produceValues(t, b, "trimmed", 0, ago(200*time.Second), "b")
	if _, err := b.DeleteRecords("trimmed", 0, 1); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		group, topic string
		committed    int64
		want         time.Duration
	}{
		{"start", "ct", 0, 120 * time.Second},
		{"mid-batch", "ct", 1, 120 * time.Second}, // its batch's first timestamp
		{"second-batch", "ct", 3, 60 * time.Second},
		{"last", "ct", 5, 10 * time.Second},
		{"caught-up", "ct", 6, 0},
		{"beyond", "ct", 100, 0},
		{"log-append-time", "lat", 0, 90 * time.Second},
		{"future", "future", 0, 0},
		{"below-start", "trimmed", 0, 200 * time.Second},
	}
	for _, c := range cases {
		gerr, errs := b.Groups.CommitOffsets(ctx, c.group, "", "", -1, []group.OffsetCommit{{Topic: c.topic, Offset: c.committed, LeaderEpoch: -1}})
		if gerr != nil || (len(errs) > 0 && errs[0] != nil) {
			t.Fatalf("commit %s: %v %v", c.group, gerr, errs)
		}
	}
	got := map[string]time.Duration{}
	for _, l := range b.GroupLags() {
		got[l.Group] = l.LagAge
	}
	for _, c := range cases {
		if a, ok := got[c.group]; !ok || a != c.want {
			t.Errorf("%s: LagAge = %v (found %v), want %v", c.group, a, ok, c.want)
		}
	}
}
