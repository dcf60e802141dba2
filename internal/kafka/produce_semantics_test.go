package kafka_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/testbroker"
)

// dropEveryNthProduce breaks the connection instead of answering every
// nth Produce, after the broker has written the batch: the client must
// retry, and the broker must recognise the retry as a duplicate.
type dropEveryNthProduce struct {
	n, count atomic.Int64
	dropped  atomic.Int64
}

func (d *dropEveryNthProduce) DropResponse(key int16) bool {
	if key != 0 {
		return false
	}
	if d.count.Add(1)%d.n.Load() == 0 {
		d.dropped.Add(1)
		return true
	}
	return false
}

func TestIdempotentProducerRetriesWithoutDuplicates(t *testing.T) {
	faults := &dropEveryNthProduce{}
	faults.n.Store(3)
	b := testbroker.Start(t, testbroker.WithKafkaFaults(faults))
	ctx := ctxT(t, 60*time.Second)
	if _, err := kadm.NewClient(newClient(t, b.Addr)).CreateTopic(ctx, 2, 1, nil, "idem"); err != nil {
		t.Fatal(err)
	}
	prod := newClient(t, b.Addr,
		kgo.DefaultProduceTopic("idem"),
		kgo.ProducerLinger(time.Millisecond),
		kgo.ProducerBatchMaxBytes(1024),
		kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }),
	)
	const n = 2000
	for i := 0; i < n; i++ {
		prod.Produce(ctx, &kgo.Record{Key: []byte(strconv.Itoa(i % 2)), Value: []byte(strconv.Itoa(i))}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if faults.dropped.Load() == 0 {
		t.Fatal("no produce answer was dropped: the test did not exercise retries")
	}
	faults.n.Store(1 << 40)

	cons := newClient(t, b.Addr, kgo.ConsumeTopics("idem"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[string]bool{}
	last := map[int32]int{}
	total := 0
	for total < n {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d", total, n)
		}
		fs.EachRecord(func(r *kgo.Record) {
			total++
			v := string(r.Value)
			if seen[v] {
				t.Fatalf("duplicate record %s at %d-%d", v, r.Partition, r.Offset)
			}
			seen[v] = true
			i, _ := strconv.Atoi(v)
			if prev, ok := last[r.Partition]; ok && i <= prev {
				t.Fatalf("partition %d: %d after %d, out of order", r.Partition, i, prev)
			}
			last[r.Partition] = i
		})
	}
	// Nothing beyond the n records is in the log.
	ends, err := kadm.NewClient(cons).ListEndOffsets(ctx, "idem")
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	ends.Each(func(o kadm.ListedOffset) { sum += o.Offset })
	if sum != n {
		t.Fatalf("log holds %d records, produced %d", sum, n)
	}
	t.Logf("%d produce answers dropped and retried", faults.dropped.Load())
}

// TestDuplicatesDetectedAcrossRestart re-sends an idempotent batch after
// a restart: the broker rebuilt producer state from the log and answers
// with the original offset instead of appending again.
func TestDuplicatesDetectedAcrossRestart(t *testing.T) {
	b := testbroker.Start(t)
	c := dialRaw(t, b.Addr)
	idem := func(seq int32, values ...string) []byte {
		raw := batch(values...)
		// producer id 7, epoch 0, base sequence seq; CRC recomputed.
		setProducer(raw, 7, 0, seq)
		return raw
	}
	first := c.roundTrip(produceReq("dedupe", 0, idem(0, "a", "b"), -1), 9).(*kmsgProduceResponse)
	if p := first.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.BaseOffset != 0 {
		t.Fatalf("first: %+v", p)
	}
	c.roundTrip(produceReq("dedupe", 0, idem(2, "c"), -1), 9)

	b.Restart()
	c = dialRaw(t, b.Addr)
	again := c.roundTrip(produceReq("dedupe", 0, idem(2, "c"), -1), 9).(*kmsgProduceResponse)
	if p := again.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.BaseOffset != 2 {
		t.Fatalf("retried batch after restart: %+v, want offset 2 and no error", p)
	}
	gap := c.roundTrip(produceReq("dedupe", 0, idem(9, "z"), -1), 9).(*kmsgProduceResponse)
	if p := gap.Topics[0].Partitions[0]; p.ErrorCode != kerrOutOfOrder {
		t.Fatalf("sequence gap: error %d, want OUT_OF_ORDER_SEQUENCE_NUMBER", p.ErrorCode)
	}
	if _, hw, _, _ := b.Node().Broker.PartitionOffsets("dedupe", 0); hw != 3 {
		t.Fatalf("high watermark %d, want 3", hw)
	}
}

// TestLongPollReturnsWhenDataArrives parks a fetch with a long MaxWait
// and checks it returns soon after a produce, not at the timeout.
func TestLongPollReturnsWhenDataArrives(t *testing.T) {
	b := testbroker.Start(t)
	ctx := ctxT(t, 30*time.Second)
	if _, err := kadm.NewClient(newClient(t, b.Addr)).CreateTopic(ctx, 1, 1, nil, "poll"); err != nil {
		t.Fatal(err)
	}
	cons := newClient(t, b.Addr, kgo.ConsumeTopics("poll"), kgo.FetchMaxWait(20*time.Second),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
	got := make(chan time.Time, 1)
	go func() {
		for {
			fs := cons.PollFetches(ctx)
			if ctx.Err() != nil {
				return
			}
			if fs.NumRecords() > 0 {
				got <- time.Now()
				return
			}
		}
	}()
	time.Sleep(500 * time.Millisecond) // let the fetch park
	prod := newClient(t, b.Addr, kgo.DefaultProduceTopic("poll"))
	sent := time.Now()
	if err := prod.ProduceSync(ctx, &kgo.Record{Value: []byte("wake")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	select {
	case at := <-got:
		if d := at.Sub(sent); d > 5*time.Second {
			t.Fatalf("fetch returned %v after the produce: woken by timeout, not by data", d)
		}
	case <-ctx.Done():
		t.Fatal("the parked fetch never returned the record")
	}
}

// TestRetentionRemovesOldSegments writes several segments, makes them
// old, and checks retention deletes whole old segments, moves the log
// start offset, and leaves the newest data readable.
func TestRetentionRemovesOldSegments(t *testing.T) {
	b := testbroker.Start(t)
	ctx := ctxT(t, 30*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))
	small := "4096"
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"segment.bytes": &small}, "short"); err != nil {
		t.Fatal(err)
	}
	prod := newClient(t, b.Addr, kgo.DefaultProduceTopic("short"), kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	value := make([]byte, 500)
	rand.Read(value)
	old := time.Now().Add(-48 * time.Hour)
	for i := 0; i < 60; i++ {
		r := &kgo.Record{Value: value, Timestamp: old}
		if i >= 50 {
			r.Timestamp = time.Now()
		}
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	day := "86400000"
	if err := alterTopic(ctx, adm, "short", "retention.ms", day); err != nil {
		t.Fatal(err)
	}
	if n := b.Node().Broker.EnforceRetention(ctx); n == 0 {
		t.Fatal("retention deleted nothing")
	}
	start, err := adm.ListStartOffsets(ctx, "short")
	if err != nil {
		t.Fatal(err)
	}
	so, _ := start.Lookup("short", 0)
	if so.Offset == 0 || so.Offset > 50 {
		t.Fatalf("log start offset %d after retention; want in (0, 50]", so.Offset)
	}
	// Size retention: every closed segment is over the limit.
	if err := alterTopic(ctx, adm, "short", "retention.ms", "-1"); err != nil {
		t.Fatal(err)
	}
	if err := alterTopic(ctx, adm, "short", "retention.bytes", "1000"); err != nil {
		t.Fatal(err)
	}
	b.Node().Broker.EnforceRetention(ctx)
	start, _ = adm.ListStartOffsets(ctx, "short")
	so2, _ := start.Lookup("short", 0)
	if so2.Offset <= so.Offset {
		t.Fatalf("size retention did not advance the start offset (%d → %d)", so.Offset, so2.Offset)
	}
	cons := newClient(t, b.Addr, kgo.ConsumeTopics("short"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	fs := cons.PollFetches(ctx)
	if fs.NumRecords() == 0 || fs.Records()[0].Offset != so2.Offset {
		t.Fatalf("consumer from the start did not begin at the new log start %d", so2.Offset)
	}
}

func alterTopic(ctx context.Context, adm *kadm.Client, topic, key, value string) error {
	resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: key, Value: &value}}, topic)
	if err != nil {
		return err
	}
	for _, r := range resp {
		if r.Err != nil {
			return fmt.Errorf("%s=%s: %w", key, value, r.Err)
		}
	}
	return nil
}

// TestRestartRereadsEverything produces to several partitions, restarts
// cleanly, and reads every record back with its offset, key and headers.
func TestRestartRereadsEverything(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(func(c *config.Config) { c.DefaultPartitions = 3 }))
	ctx := ctxT(t, 30*time.Second)
	prod := newClient(t, b.Addr, kgo.DefaultProduceTopic("durable"), kgo.AllowAutoTopicCreation())
	want := map[string]string{}
	for i := 0; i < 500; i++ {
		k, v := fmt.Sprintf("k%03d", i), fmt.Sprintf("v%d", i)
		want[k] = v
		prod.Produce(ctx, &kgo.Record{Key: []byte(k), Value: []byte(v), Headers: []kgo.RecordHeader{{Key: "n", Value: []byte(k)}}}, nil)
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	prod.Close()
	b.Restart()
	cons := newClient(t, b.Addr, kgo.ConsumeTopics("durable"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := map[string]string{}
	for len(got) < len(want) {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d after restart", len(got), len(want))
		}
		fs.EachRecord(func(r *kgo.Record) {
			if len(r.Headers) != 1 || string(r.Headers[0].Value) != string(r.Key) {
				t.Fatalf("record %s lost its header", r.Key)
			}
			got[string(r.Key)] = string(r.Value)
		})
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s = %q after restart, want %q", k, got[k], v)
		}
	}
}
