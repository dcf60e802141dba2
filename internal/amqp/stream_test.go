package amqp_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ternmq/tern/internal/testbroker"
)

func kafkaClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func readKafka(t *testing.T, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl := kafkaClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records from %s", len(out), n, topic)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// TestStreamQueueIsAKafkaTopic publishes to a stream queue over AMQP and
// reads the records with a Kafka client, then produces with Kafka and
// consumes everything over AMQP from the first offset.
func TestStreamQueueIsAKafkaTopic(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	if _, err := ch.QueueDeclare("events", true, false, false, false, amqp.Table{"x-queue-type": "stream"}); err != nil {
		t.Fatal(err)
	}
	ch.Confirm(false)
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 10))
	for i := 0; i < 5; i++ {
		if err := ch.PublishWithContext(context.Background(), "", "events", false, false, amqp.Publishing{Body: []byte(fmt.Sprintf("amqp-%d", i)), Headers: amqp.Table{"i": int32(i)}}); err != nil {
			t.Fatal(err)
		}
		if c := <-confirms; !c.Ack {
			t.Fatal("stream publish nacked")
		}
	}
	recs := readKafka(t, b.Addr, "events", 5)
	for i, r := range recs {
		if string(r.Value) != fmt.Sprintf("amqp-%d", i) || string(r.Key) != "events" || r.Offset != int64(i) {
			t.Fatalf("record %d: key %q value %q offset %d", i, r.Key, r.Value, r.Offset)
		}
	}

	prod := kafkaClient(t, b.Addr, kgo.DefaultProduceTopic("events"))
	for i := 0; i < 5; i++ {
		if err := prod.ProduceSync(context.Background(), &kgo.Record{Key: []byte("k"), Value: []byte(fmt.Sprintf("kafka-%d", i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := ch.Qos(3, 0, false); err != nil {
		t.Fatal(err)
	}
	ds, err := ch.Consume("events", "", false, false, false, false, amqp.Table{"x-stream-offset": "first"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 10 {
		d := recv(t, ds)
		// Every stream delivery carries its offset, as in RabbitMQ.
		if off, ok := d.Headers["x-stream-offset"].(int64); !ok || off != int64(len(got)) {
			t.Fatalf("delivery %d has x-stream-offset %#v", len(got), d.Headers["x-stream-offset"])
		}
		if n := len(got); n < 5 && d.Headers["i"] != int32(n) {
			t.Fatalf("delivery %d lost its publisher's headers: %v", n, d.Headers)
		}
		got = append(got, string(d.Body))
		d.Ack(false)
	}
	want := "[amqp-0 amqp-1 amqp-2 amqp-3 amqp-4 kafka-0 kafka-1 kafka-2 kafka-3 kafka-4]"
	if fmt.Sprint(got) != want {
		t.Fatalf("stream consumer got %v", got)
	}
	// Reading is not consuming: a second consumer from the start sees it all.
	ds2, err := ch.Consume("events", "again", false, false, false, false, amqp.Table{"x-stream-offset": int64(8)})
	if err != nil {
		t.Fatal(err)
	}
	if d := recv(t, ds2); string(d.Body) != "kafka-3" {
		t.Fatalf("consumer from offset 8 got %q first", d.Body)
	}
}

// TestKafkaTopicBoundIntoExchange attaches an existing Kafka topic to an
// exchange as a stream queue: messages routed to it are records Kafka
// consumers read.
func TestKafkaTopicBoundIntoExchange(t *testing.T) {
	b := testbroker.Start(t)
	ctx := context.Background()
	if _, err := kadm.NewClient(kafkaClient(t, b.Addr)).CreateTopic(ctx, 1, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	_, ch := dial(t, b)
	if _, err := ch.QueueDeclare("orders", true, false, false, false, amqp.Table{"x-queue-type": "stream"}); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind("orders", "order.*", "amq.topic", false, nil); err != nil {
		t.Fatal(err)
	}
	ch.Confirm(false)
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 1))
	ch.PublishWithContext(ctx, "amq.topic", "order.created", false, false, amqp.Publishing{Body: []byte(`{"id":1}`)})
	<-confirms
	recs := readKafka(t, b.Addr, "orders", 1)
	if string(recs[0].Value) != `{"id":1}` || string(recs[0].Key) != "order.created" {
		t.Fatalf("kafka saw key %q value %q", recs[0].Key, recs[0].Value)
	}
}
