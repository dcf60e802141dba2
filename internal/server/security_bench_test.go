package server_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/testbroker"
)

// BenchmarkProduceBySecurity produces 1 KiB records through each kind of
// Kafka listener of one node, so the cost of TLS and of SASL shows as a
// ratio to PLAINTEXT measured in the same run. fsync=os keeps the disk
// out of the comparison. b.N counts records; MB/s is record values.
//
//	go test ./internal/server -run '^$' -bench BenchmarkProduceBySecurity -benchtime 200000x -count 5
func BenchmarkProduceBySecurity(b *testing.B) {
	tb := testbroker.Start(b, testbroker.WithTLS("none"),
		testbroker.WithKafkaListeners(config.Plaintext, config.SSL, config.SASLSSL),
		testbroker.WithConfig(func(c *config.Config) { c.Log.Fsync = "os" }))
	// Random and uncompressed, so TLS encrypts every byte.
	value := make([]byte, 1024)
	rand.Read(value)
	for _, sec := range []string{config.Plaintext, config.SSL, config.SASLSSL} {
		b.Run(sec, func(b *testing.B) {
			opts := []kgo.Opt{kgo.SeedBrokers(tb.KafkaAddr(sec)), kgo.DefaultProduceTopic("bench-" + sec), kgo.AllowAutoTopicCreation(),
				kgo.ProducerLinger(0), kgo.MaxBufferedRecords(1 << 16), kgo.ProducerBatchCompression(kgo.NoCompression())}
			if sec != config.Plaintext {
				opts = append(opts, kgo.DialTLSConfig(&tls.Config{RootCAs: tb.CA.Pool, ServerName: "localhost"}))
			}
			if sec == config.SASLSSL {
				opts = append(opts, kgo.SASL(scram.Auth{User: "guest", Pass: "guest"}.AsSha256Mechanism()))
			}
			cl, err := kgo.NewClient(opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			ctx := context.Background()
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: value}).FirstErr(); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(value)))
			b.ResetTimer()
			errs := make(chan error, 1)
			for range b.N {
				cl.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
					if err != nil {
						select {
						case errs <- fmt.Errorf("produce: %w", err):
						default:
						}
					}
				})
			}
			if err := cl.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			select {
			case err := <-errs:
				b.Fatal(err)
			default:
			}
		})
	}
}
