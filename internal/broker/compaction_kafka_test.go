package broker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/testbroker"
)

// Compaction through a real broker, driven by franz-go. The background
// cleaner is off: the tests run passes with CompactNow.

func startCompacting(t *testing.T) (*testbroker.Broker, *kadm.Client) {
	t.Helper()
	b := testbroker.Start(t, testbroker.WithConfig(func(c *config.Config) { c.LogCleaner.Enable = false }))
	return b, kadm.NewClient(client(t, b.Addr))
}

func client(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func compactNow(t *testing.T, b *testbroker.Broker) int {
	t.Helper()
	n, err := b.Node().Broker.CompactNow(context.Background())
	if err != nil {
		t.Fatalf("CompactNow: %v", err)
	}
	return n
}

func createTopic(t *testing.T, ctx context.Context, adm *kadm.Client, name string, configs map[string]*string) {
	t.Helper()
	resp, err := adm.CreateTopic(ctx, 1, 1, configs, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

// produceVersions writes versions of keys with two producers (one
// zstd-compressed), a tombstone every tombEvery-th record, then filler
// records that push everything before them out of the active segment.
// It returns the latest value of each key ("" when deleted) and how many
// records were written.
func produceVersions(t *testing.T, ctx context.Context, addr, topic string, keys, versions, tombEvery int) (map[string]string, int) {
	t.Helper()
	plain := client(t, addr, kgo.DefaultProduceTopic(topic), kgo.ProducerBatchCompression(kgo.NoCompression()))
	zstd := client(t, addr, kgo.DefaultProduceTopic(topic), kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	want := map[string]string{}
	n := 0
	for v := range versions {
		cl := plain
		if v%2 == 1 {
			cl = zstd
		}
		var recs []*kgo.Record
		for k := range keys {
			key := fmt.Sprintf("key-%03d", k)
			r := &kgo.Record{Key: []byte(key), Value: []byte(fmt.Sprintf("%s=v%d", key, v))}
			if n%tombEvery == 0 {
				r.Value = nil
			}
			want[key] = string(r.Value)
			recs = append(recs, r)
			n++
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		r := &kgo.Record{Key: []byte(fmt.Sprint("~filler-", i)), Value: make([]byte, 5000)}
		if err := plain.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	return want, n
}

// consumeAll reads the topic from offset from to its high watermark with
// a fresh client.
func consumeAll(t *testing.T, ctx context.Context, addr, topic string, from int64) []*kgo.Record {
	t.Helper()
	adm := kadm.NewClient(client(t, addr))
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)
	cl := client(t, addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(from)}}))
	var out []*kgo.Record
	for len(out) == 0 || out[len(out)-1].Offset < end.Offset-1 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d records of %s, not up to %d", len(out), topic, end.Offset)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch: %v", err) })
		out = append(out, fs.Records()...)
	}
	return out
}

// state replays records as a consumer rebuilding a table would: the last
// value per key, deletes dropping the key. It fails on a key seen twice
// when once is required.
func state(t *testing.T, recs []*kgo.Record, once bool) map[string]string {
	t.Helper()
	m := map[string]string{}
	seen := map[string]bool{}
	for _, r := range recs {
		k := string(r.Key)
		if strings.HasPrefix(k, "~") {
			continue
		}
		if once && seen[k] {
			t.Fatalf("key %s read twice after compaction", k)
		}
		seen[k] = true
		m[k] = string(r.Value)
	}
	return m
}

func sameState(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d keys read, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("key %s = %q, want %q", k, got[k], v)
		}
	}
}

// TestCompactedTopicThroughKafka writes many versions of many keys plus
// tombstones with franz-go, cleans, and reads the topic from the start:
// one record per key, the latest; after delete.retention.ms (0 here) a
// second pass removes the tombstones; a fetch at a removed offset gets
// the next record; a restart keeps it all.
func TestCompactedTopicThroughKafka(t *testing.T) {
	b, adm := startCompacting(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	createTopic(t, ctx, adm, "table", map[string]*string{
		"cleanup.policy": kadm.StringPtr("compact"), "segment.bytes": kadm.StringPtr("4096"), "delete.retention.ms": kadm.StringPtr("0"),
	})
	want, written := produceVersions(t, ctx, b.Addr, "table", 60, 12, 7)
	before := consumeAll(t, ctx, b.Addr, "table", 0)
	sameState(t, state(t, before, false), want)

	if n := compactNow(t, b); n != 1 {
		t.Fatalf("CompactNow cleaned %d logs, want 1", n)
	}
	after := consumeAll(t, ctx, b.Addr, "table", 0)
	sameState(t, state(t, after, true), want)
	if len(after) >= written/5 {
		t.Fatalf("read %d records after compaction, of %d written", len(after), written)
	}
	// Offsets are kept: a fetch inside a removed range gets the next
	// record there is.
	removed := before[1].Offset
	if after[0].Offset == removed {
		t.Fatal("offset 1 survived; pick another")
	}
	if got := consumeAll(t, ctx, b.Addr, "table", removed); got[0].Offset <= removed {
		t.Fatalf("fetch at removed offset %d answered offset %d", removed, got[0].Offset)
	}

	// The tombstones' horizon (delete.retention.ms=0) has passed by the
	// next pass: the deleted keys go entirely.
	if n := compactNow(t, b); n != 1 {
		t.Fatalf("second pass cleaned %d logs, want 1", n)
	}
	for k, v := range want {
		if v == "" {
			delete(want, k)
		}
	}
	final := consumeAll(t, ctx, b.Addr, "table", 0)
	sameState(t, state(t, final, true), want)

	b.Restart()
	sameState(t, state(t, consumeAll(t, ctx, b.Addr, "table", 0), true), want)
	starts, err := adm.ListStartOffsets(ctx, "table")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := starts.Lookup("table", 0); s.Offset != 0 {
		t.Fatalf("log start offset %d after compaction, want 0", s.Offset)
	}
}

// TestAlterConfigsSwitchesTopicToCompaction: a delete-policy topic is not
// cleaned; IncrementalAlterConfigs to compact makes the next pass clean
// it, and keyless produces are refused from then on (INVALID_RECORD).
func TestAlterConfigsSwitchesTopicToCompaction(t *testing.T) {
	b, adm := startCompacting(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	createTopic(t, ctx, adm, "switch", map[string]*string{"segment.bytes": kadm.StringPtr("4096")})
	want, written := produceVersions(t, ctx, b.Addr, "switch", 30, 10, 1000)
	if n := compactNow(t, b); n != 0 {
		t.Fatal("a topic with cleanup.policy=delete was cleaned")
	}
	resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "cleanup.policy", Value: kadm.StringPtr("compact,delete")}}, "switch")
	if err == nil {
		_, err = resp.On("switch", nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if n := compactNow(t, b); n != 1 {
		t.Fatalf("after switching to compact,delete, CompactNow cleaned %d logs", n)
	}
	got := consumeAll(t, ctx, b.Addr, "switch", 0)
	sameState(t, state(t, got, true), want)
	if len(got) >= written/5 {
		t.Fatalf("read %d of %d records after compaction", len(got), written)
	}

	prod := client(t, b.Addr, kgo.DefaultProduceTopic("switch"), kgo.RecordRetries(0))
	err = prod.ProduceSync(ctx, &kgo.Record{Value: []byte("no key")}).FirstErr()
	if !errors.Is(err, kerr.InvalidRecord) {
		t.Fatalf("keyless produce to a compacted topic: %v, want INVALID_RECORD", err)
	}
	// The answer carries Kafka's message (franz-go reports only the code).
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "switch"
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = message.EncodeBatch([]message.Record{{Key: []byte("k"), Value: []byte("a")}, {Value: []byte("b")}}, message.BatchOptions{ProducerID: -1, BaseSequence: -1})
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	raw, err := req.RequestWith(ctx, prod)
	if err != nil {
		t.Fatal(err)
	}
	part := raw.Topics[0].Partitions[0]
	wantMsg := "One or more records have been rejected due to 1 record errors in total, and only showing the first three errors at most: " +
		"[RecordError(batchIndex=1, message='Compacted topic cannot accept message without key in topic partition switch-0.')]"
	if part.ErrorCode != kerr.InvalidRecord.Code || part.ErrorMessage == nil || *part.ErrorMessage != wantMsg {
		t.Fatalf("keyless produce answered %d %v, want %d %q", part.ErrorCode, part.ErrorMessage, kerr.InvalidRecord.Code, wantMsg)
	}
	if err := prod.ProduceSync(ctx, &kgo.Record{Key: []byte("k"), Value: []byte("keyed")}).FirstErr(); err != nil {
		t.Fatalf("keyed produce after a refused one: %v", err)
	}
}
