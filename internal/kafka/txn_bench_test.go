package kafka_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ternmq/tern/internal/testbroker"
)

// BenchmarkTransactionalProduce compares 1 KiB records produced by an
// idempotent producer with the same records in transactions of 10, 100
// and 1000 records, each ended by a commit, on three partitions with the
// default durability (fsync before every acknowledgement). A transaction
// adds AddPartitionsToTxn, EndTxn, three transaction-log writes and a
// marker per partition, so its cost shrinks as transactions grow.
func BenchmarkTransactionalProduce(b *testing.B) {
	tb := testbroker.Start(b)
	value := make([]byte, 1024)
	rand.Read(value)
	for _, perTxn := range []int{0, 10, 100, 1000} {
		name := "idempotent"
		if perTxn > 0 {
			name = fmt.Sprintf("txn-%d", perTxn)
		}
		b.Run(name, func(b *testing.B) {
			topic := "bench-" + name
			opts := []kgo.Opt{kgo.SeedBrokers(tb.Addr), kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation(),
				kgo.ProducerLinger(0), kgo.MaxBufferedRecords(1 << 16), kgo.ProducerBatchCompression(kgo.NoCompression()),
				kgo.RecordPartitioner(kgo.RoundRobinPartitioner())}
			if perTxn > 0 {
				opts = append(opts, kgo.TransactionalID("bench-"+name))
			}
			cl, err := kgo.NewClient(opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			ctx := context.Background()
			if _, err := tb.Node().Broker.Topic(ctx, topic, true); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(value)))
			b.ResetTimer()
			if perTxn == 0 {
				for range b.N {
					cl.Produce(ctx, &kgo.Record{Value: value}, nil)
				}
				if err := cl.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				return
			}
			for done := 0; done < b.N; {
				if err := cl.BeginTransaction(); err != nil {
					b.Fatal(err)
				}
				for i := 0; i < perTxn && done < b.N; i++ {
					cl.Produce(ctx, &kgo.Record{Value: value}, nil)
					done++
				}
				if err := cl.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
