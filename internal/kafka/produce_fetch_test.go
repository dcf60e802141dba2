package kafka_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ternmq/tern/internal/testbroker"
)

func newClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestProduceConsumeAcrossPartitions(t *testing.T) {
	b := testbroker.Start(t)
	ctx := ctxT(t, 30*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	prod := newClient(t, b.Addr, kgo.DefaultProduceTopic("orders"))
	const n = 300
	for i := 0; i < n; i++ {
		r := &kgo.Record{Key: []byte(fmt.Sprintf("k%d", i%10)), Value: []byte(fmt.Sprintf("v%d", i))}
		prod.Produce(ctx, r, nil)
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	results := prod.ProduceSync(ctx, &kgo.Record{Value: []byte("last")})
	if err := results.FirstErr(); err != nil {
		t.Fatal(err)
	}

	cons := newClient(t, b.Addr, kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[string]bool{}
	perPartition := map[int32]int64{}
	for len(seen) < n+1 {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("saw %d of %d records: %v", len(seen), n+1, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if last, ok := perPartition[r.Partition]; ok && r.Offset != last+1 {
				t.Fatalf("partition %d: offset %d after %d", r.Partition, r.Offset, last)
			}
			perPartition[r.Partition] = r.Offset
			seen[string(r.Value)] = true
		})
	}
	if len(perPartition) != 3 {
		t.Fatalf("records landed in %d partitions, want 3", len(perPartition))
	}
}

// TestLargeFetchesAreSplicedIntact produces records big enough that the
// fetch answer goes out through sendfile, and checks every byte arrives
// (the client verifies each batch's CRC) in order across many fetches.
func TestLargeFetchesAreSplicedIntact(t *testing.T) {
	b := testbroker.Start(t)
	ctx := ctxT(t, 60*time.Second)
	if _, err := kadm.NewClient(newClient(t, b.Addr)).CreateTopic(ctx, 2, 1, nil, "large"); err != nil {
		t.Fatal(err)
	}
	prod := newClient(t, b.Addr, kgo.DefaultProduceTopic("large"), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerBatchMaxBytes(1<<20))
	const n, size = 120, 64 << 10
	for i := 0; i < n; i++ {
		v := make([]byte, size)
		for j := range v {
			v[j] = byte(i + j*7)
		}
		prod.Produce(ctx, &kgo.Record{Key: []byte(fmt.Sprint(i)), Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cons := newClient(t, b.Addr, kgo.ConsumeTopics("large"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(3<<20), kgo.FetchMaxPartitionBytes(1<<20))
	got := 0
	for got < n {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d large records", got, n)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			var i int
			fmt.Sscan(string(r.Key), &i)
			if len(r.Value) != size {
				t.Fatalf("record %d: %d bytes", i, len(r.Value))
			}
			for j, c := range r.Value {
				if c != byte(i+j*7) {
					t.Fatalf("record %d byte %d corrupted", i, j)
				}
			}
			got++
		})
	}
}
