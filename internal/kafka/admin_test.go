package kafka_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ternmq/tern/internal/testbroker"
)

// TestTopicAdministration drives the admin APIs with kadm the way
// operators' tools do: create, grow, configure, describe, trim and delete,
// and checks the answers and that configs survive a restart.
func TestTopicAdministration(t *testing.T) {
	b := testbroker.Start(t)
	ctx := ctxT(t, 30*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))

	seven := "604800000"
	created, err := adm.CreateTopic(ctx, 2, 1, map[string]*string{"retention.ms": &seven, "cleanup.policy": kadm.StringPtr("delete")}, "admin")
	if err != nil || created.Err != nil {
		t.Fatalf("create: %v %v", err, created.Err)
	}
	if created.ID == (kadm.TopicID{}) {
		t.Fatal("created topic has no id")
	}
	if r, _ := adm.CreateTopic(ctx, 1, 1, nil, "admin"); !errors.Is(r.Err, kerr.TopicAlreadyExists) {
		t.Fatalf("second create: %v", r.Err)
	}
	if r, _ := adm.CreateTopic(ctx, 1, 3, nil, "replicated"); !errors.Is(r.Err, kerr.InvalidReplicationFactor) {
		t.Fatalf("replication factor 3 on one node: %v", r.Err)
	}
	if r, _ := adm.CreateTopic(ctx, 1, 1, nil, "bad/name"); !errors.Is(r.Err, kerr.InvalidTopicException) {
		t.Fatalf("bad name: %v", r.Err)
	}
	if r, _ := adm.CreateTopic(ctx, 1, 1, map[string]*string{"no.such.config": kadm.StringPtr("1")}, "badcfg"); !errors.Is(r.Err, kerr.InvalidConfig) {
		t.Fatalf("unknown config: %v", r.Err)
	}

	// Grow to 5 partitions; shrinking is refused.
	if rs, err := adm.UpdatePartitions(ctx, 5, "admin"); err != nil || rs["admin"].Err != nil {
		t.Fatalf("grow: %v %v", err, rs["admin"].Err)
	}
	if rs, _ := adm.UpdatePartitions(ctx, 3, "admin"); !errors.Is(rs["admin"].Err, kerr.InvalidPartitions) {
		t.Fatalf("shrink: %v", rs["admin"].Err)
	}
	md, err := adm.Metadata(ctx, "admin")
	if err != nil || len(md.Topics["admin"].Partitions) != 5 {
		t.Fatalf("metadata after grow: %v %d partitions", err, len(md.Topics["admin"].Partitions))
	}

	// Incremental alter, then describe: sources tell override from default.
	if err := alterTopic(ctx, adm, "admin", "retention.bytes", "1048576"); err != nil {
		t.Fatal(err)
	}
	if err := alterTopic(ctx, adm, "admin", "max.message.bytes", "-5"); !errors.Is(err, kerr.InvalidConfig) {
		t.Fatalf("invalid value accepted: %v", err)
	}
	checkConfigs := func(when string) {
		t.Helper()
		rc, err := adm.DescribeTopicConfigs(ctx, "admin")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]kadm.Config{}
		for _, c := range rc[0].Configs {
			got[c.Key] = c
		}
		if c := got["retention.bytes"]; c.MaybeValue() != "1048576" || c.Source.String() != "DYNAMIC_TOPIC_CONFIG" {
			t.Fatalf("%s: retention.bytes = %q from %v", when, c.MaybeValue(), c.Source)
		}
		if c := got["retention.ms"]; c.MaybeValue() != seven {
			t.Fatalf("%s: retention.ms = %q", when, c.MaybeValue())
		}
		if c := got["segment.bytes"]; c.Source.String() == "DYNAMIC_TOPIC_CONFIG" {
			t.Fatalf("%s: segment.bytes = %q from %v, want a broker default", when, c.MaybeValue(), c.Source)
		}
	}
	checkConfigs("before restart")

	// Broker config: describe and change a dynamic default.
	bc, err := adm.DescribeBrokerConfigs(ctx, 1)
	if err != nil || len(bc[0].Configs) == 0 {
		t.Fatalf("describe broker: %v", err)
	}
	rs, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "log.segment.bytes", Value: kadm.StringPtr("2097152")}})
	if err != nil || rs[0].Err != nil {
		t.Fatalf("alter broker: %v %v", err, rs[0].Err)
	}

	b.Restart()
	adm = kadm.NewClient(newClient(t, b.Addr))
	checkConfigs("after restart")
	rc, err := adm.DescribeTopicConfigs(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rc[0].Configs {
		if c.Key == "segment.bytes" && c.MaybeValue() != "2097152" {
			t.Fatalf("segment.bytes = %s after the broker default changed", c.MaybeValue())
		}
	}
	md, _ = adm.Metadata(ctx, "admin")
	if len(md.Topics["admin"].Partitions) != 5 {
		t.Fatalf("%d partitions after restart", len(md.Topics["admin"].Partitions))
	}

	// DeleteRecords moves the low watermark; fetching below it fails.
	prod := newClient(t, b.Addr, kgo.DefaultProduceTopic("admin"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for i := 0; i < 10; i++ {
		if err := prod.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	var del kadm.Offsets
	del.Add(kadm.Offset{Topic: "admin", Partition: 0, At: 4})
	dr, err := adm.DeleteRecords(ctx, del)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := dr.Lookup("admin", 0); r.Err != nil || r.LowWatermark != 4 {
		t.Fatalf("delete records: %+v", r)
	}
	starts, _ := adm.ListStartOffsets(ctx, "admin")
	if s, _ := starts.Lookup("admin", 0); s.Offset != 4 {
		t.Fatalf("start offset %d after DeleteRecords(4)", s.Offset)
	}

	// ListOffsets by time finds the first record at or after it.
	cut := time.Now()
	time.Sleep(5 * time.Millisecond)
	if err := prod.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	byTime, err := adm.ListOffsetsAfterMilli(ctx, cut.UnixMilli(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := byTime.Lookup("admin", 0); o.Offset != 10 {
		t.Fatalf("offset after %v = %d, want 10", cut, o.Offset)
	}

	// Cluster and log dir descriptions.
	brokers, err := adm.ListBrokers(ctx)
	if err != nil || len(brokers) != 1 || brokers[0].NodeID != 1 {
		t.Fatalf("brokers: %v %+v", err, brokers)
	}
	dirs, err := adm.DescribeAllLogDirs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	dirs.Each(func(d kadm.DescribedLogDir) { size += d.Size() })
	if size == 0 {
		t.Fatal("log dirs report no data")
	}
	var req kadm.OffsetForLeaderEpochRequest
	req.Add("admin", 0, 0)
	epochs, err := adm.OffsetForLeaderEpoch(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range epochs["admin"] {
		if e.Err != nil || e.LeaderEpoch != 0 || e.EndOffset != 11 {
			t.Fatalf("offset for leader epoch: %+v", e)
		}
	}

	// Delete, then re-create with the same name: the new topic is empty.
	if r, err := adm.DeleteTopic(ctx, "admin"); err != nil || r.Err != nil {
		t.Fatalf("delete: %v %v", err, r.Err)
	}
	if r, _ := adm.DeleteTopic(ctx, "admin"); !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("second delete: %v", r.Err)
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "admin"); err != nil {
		t.Fatal(err)
	}
	ends, _ := adm.ListEndOffsets(ctx, "admin")
	if e, _ := ends.Lookup("admin", 0); e.Offset != 0 {
		t.Fatalf("re-created topic starts at end offset %d", e.Offset)
	}
}

// TestGroupAdministration covers listing, offset deletion and group
// deletion on an empty group with committed offsets.
func TestGroupAdministration(t *testing.T) {
	b := testbroker.Start(t)
	ctx := ctxT(t, 30*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "g-topic"); err != nil {
		t.Fatal(err)
	}
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: "g-topic", Partition: 0, At: 0, LeaderEpoch: -1})
	os.Add(kadm.Offset{Topic: "g-topic", Partition: 1, At: 0, LeaderEpoch: -1})
	if err := adm.CommitAllOffsets(ctx, "admin-group", os); err != nil {
		t.Fatal(err)
	}
	var bad kadm.Offsets
	bad.Add(kadm.Offset{Topic: "no-such-topic", Partition: 0, At: 1, LeaderEpoch: -1})
	if r, _ := adm.CommitOffsets(ctx, "admin-group", bad); r.Error() == nil {
		t.Fatal("commit to an unknown topic succeeded")
	}
	groups, err := adm.ListGroups(ctx)
	if err != nil || len(groups) != 1 {
		t.Fatalf("list groups: %v %v", err, groups)
	}
	dr, err := adm.DeleteOffsets(ctx, "admin-group", kadm.TopicsSet{"g-topic": {0: {}}})
	if err != nil || dr.Error() != nil {
		t.Fatalf("delete offsets: %v %v", err, dr.Error())
	}
	fetched, _ := adm.FetchOffsets(ctx, "admin-group")
	if _, ok := fetched.Lookup("g-topic", 0); ok {
		t.Fatal("deleted offset still fetched")
	}
	if _, ok := fetched.Lookup("g-topic", 1); !ok {
		t.Fatal("offset of partition 1 vanished")
	}
	if r, err := adm.DeleteGroup(ctx, "admin-group"); err != nil || r.Err != nil {
		t.Fatalf("delete group: %v %v", err, r.Err)
	}
	if r, _ := adm.DeleteGroup(ctx, "admin-group"); !errors.Is(r.Err, kerr.GroupIDNotFound) {
		t.Fatalf("delete missing group: %v", r.Err)
	}
	b.Restart()
	fetched, err = kadm.NewClient(newClient(t, b.Addr)).FetchOffsets(ctx, "admin-group")
	if err != nil {
		t.Fatal(err)
	}
	if len(fetched) != 0 {
		t.Fatalf("deleted group's offsets came back after restart: %v", fetched)
	}
}
