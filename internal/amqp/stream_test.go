package amqp_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

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

// firstStreamBody consumes queue from its first offset and returns the
// first body, with the count queue.declare reports.
func firstStreamBody(t *testing.T, conn *amqp.Connection, queue string) (string, int) {
	t.Helper()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	q, err := ch.QueueDeclare(queue, true, false, false, false, amqp.Table{"x-queue-type": "stream"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Qos(10, 0, false); err != nil {
		t.Fatal(err)
	}
	ds, err := ch.Consume(queue, "", true, false, false, false, amqp.Table{"x-stream-offset": "first"})
	if err != nil {
		t.Fatal(err)
	}
	return string(recv(t, ds).Body), q.Messages
}

// TestStreamQueuesAreIsolatedByVHost: mallory, who has every permission
// in tenant-b and none in tenant-a, declares a stream with the name of
// alice's stream in tenant-a and reads only her own messages, before and
// after a restart; Kafka clients see neither stream's topic; deleting
// tenant-b deletes its stream's topic and leaves tenant-a's.
func TestStreamQueuesAreIsolatedByVHost(t *testing.T) {
	b := testbroker.Start(t)
	putVHost(t, b, "tenant-a")
	putVHost(t, b, "tenant-b")
	grant(t, b, "alice", "tenant-a", ".*", ".*", ".*")
	grant(t, b, "mallory", "tenant-b", ".*", ".*", ".*")
	users := []struct{ user, vhost, body string }{
		{"alice", "tenant-a", "alice's order"},
		{"mallory", "tenant-b", "mallory's order"},
	}
	for _, u := range users {
		ch, err := dialAs(t, b, u.user, u.vhost).Channel()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ch.QueueDeclare("orders", true, false, false, false, amqp.Table{"x-queue-type": "stream"}); err != nil {
			t.Fatal(err)
		}
		if err := publishConfirmed(ch, "", "orders", u.body); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		t.Helper()
		for _, u := range users {
			body, n := firstStreamBody(t, dialAs(t, b, u.user, u.vhost), "orders")
			if body != u.body || n != 1 {
				t.Errorf("%s: %s's stream orders in %s holds %d messages, first %q; want 1, %q", when, u.user, u.vhost, n, body, u.body)
			}
		}
	}
	check("before a restart")
	topics, err := kadm.NewClient(kafkaClient(t, b.Addr)).ListTopicsWithInternal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if names := topics.Names(); len(names) != 0 {
		t.Errorf("Kafka clients see topics %v", names)
	}
	b.Restart()
	check("after a restart")

	if err := core(b).DeleteVHost(context.Background(), "tenant-b"); err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, info := range core(b).Topics() {
		left = append(left, info.Name)
	}
	if want := "[__amqp_74656e616e742d61_orders]"; fmt.Sprint(left) != want {
		t.Errorf("topics after deleting tenant-b: %v, want %s", left, want)
	}
	body, n := firstStreamBody(t, dialAs(t, b, "alice", "tenant-a"), "orders")
	if body != "alice's order" || n != 1 {
		t.Errorf("tenant-a's stream after tenant-b's delete: %d messages, first %q", n, body)
	}
}

// topicNames lists the topics a new Kafka client sees (kgo caches
// metadata answers for a while).
func topicNames(t *testing.T, addr string) []string {
	t.Helper()
	topics, err := kadm.NewClient(kafkaClient(t, addr)).ListTopicsWithInternal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return topics.Names()
}

// TestStreamQueueDeleteKeepsKafkaTopic: deleting a stream queue of "/"
// declared over a topic Kafka clients created leaves the topic and its
// records; deleting one whose declare created its topic deletes it.
func TestStreamQueueDeleteKeepsKafkaTopic(t *testing.T) {
	b := testbroker.Start(t)
	ctx := context.Background()
	adm := kadm.NewClient(kafkaClient(t, b.Addr))
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	prod := kafkaClient(t, b.Addr, kgo.DefaultProduceTopic("orders"))
	for i := 0; i < 3; i++ {
		if err := prod.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("kafka-%d", i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	_, ch := dial(t, b)
	for _, q := range []string{"orders", "fresh"} {
		if _, err := ch.QueueDeclare(q, true, false, false, false, amqp.Table{"x-queue-type": "stream"}); err != nil {
			t.Fatal(err)
		}
		if err := publishConfirmed(ch, "", q, "amqp"); err != nil {
			t.Fatal(err)
		}
	}
	if got := fmt.Sprint(topicNames(t, b.Addr)); got != "[fresh orders]" {
		t.Fatalf("topics %s", got)
	}
	for _, q := range []string{"orders", "fresh"} {
		if _, err := ch.QueueDelete(q, false, false, false); err != nil {
			t.Fatal(err)
		}
	}
	if got := fmt.Sprint(topicNames(t, b.Addr)); got != "[orders]" {
		t.Fatalf("topics after deleting both streams: %s, want [orders]", got)
	}
	var got []string
	for _, r := range readKafka(t, b.Addr, "orders", 4) {
		got = append(got, string(r.Value))
	}
	if fmt.Sprint(got) != "[kafka-0 kafka-1 kafka-2 amqp]" {
		t.Fatalf("orders holds %v", got)
	}
}

// TestStreamQueueNames: a stream queue's topic name must be one Kafka
// takes: at most 249 bytes of [a-zA-Z0-9._-], counting, outside "/",
// the prefix and the vhost name in hex (406, saying so); in "/" a stream
// may not use the prefix of other vhosts' topics (403).
func TestStreamQueueNames(t *testing.T) {
	b := testbroker.Start(t)
	putVHost(t, b, "long-tenant")
	grant(t, b, "guest", "long-tenant", ".*", ".*", ".*")
	conn := dialAs(t, b, "guest", "long-tenant")
	stream := amqp.Table{"x-queue-type": "stream"}
	name := strings.Repeat("q", 230)
	declare := func(conn *amqp.Connection, name string) error {
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		_, err = ch.QueueDeclare(name, true, false, false, false, stream)
		return err
	}
	wantAMQPError(t, "a 230-byte stream name in long-tenant", declare(conn, name), 406,
		"PRECONDITION_FAILED - stream queue would need a topic name of 260 bytes, over Kafka's limit of 249 ('__amqp_' + the vhost name in hex + '_' + the queue name): shorten the queue or vhost name (queue 'qqq…")
	wantAMQPError(t, "a stream name with a space", declare(conn, "my orders"), 406,
		"PRECONDITION_FAILED - a stream queue is a Kafka topic, whose name takes only [a-zA-Z0-9._-]; queue name 'my orders' contains ' '")
	if err := declare(conn, name[:200]); err != nil {
		t.Fatalf("a 200-byte stream name in long-tenant: %v", err)
	}
	root, _ := dial(t, b)
	if err := declare(root, name); err != nil {
		t.Fatalf("a 230-byte stream name in /: %v", err)
	}
	wantAMQPError(t, "a 250-byte stream name in /", declare(root, strings.Repeat("q", 250)), 406,
		"PRECONDITION_FAILED - a stream queue of vhost '/' is the Kafka topic of its name, at most 249 bytes; queue name 'qqq…")
	wantAMQPError(t, "a stream of / named like another vhost's topic", declare(root, "__amqp_6c6f6e672d74656e616e74_orders"), 403,
		"ACCESS_REFUSED - queue name '__amqp_6c6f6e672d74656e616e74_orders' contains reserved prefix '__amqp_' (the topics of other vhosts' streams)")
}

// TestKafkaClientsCannotReachVHostStreams: with authorization off, a
// Kafka client may do anything but touch the topic of another vhost's
// stream: it is left out of listings and log dirs, and producing,
// fetching, creating, deleting one is refused.
func TestKafkaClientsCannotReachVHostStreams(t *testing.T) {
	b := testbroker.Start(t)
	ctx := context.Background()
	putVHost(t, b, "tenant-a")
	grant(t, b, "guest", "tenant-a", ".*", ".*", ".*")
	ch, err := dialAs(t, b, "guest", "tenant-a").Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("orders", true, false, false, false, amqp.Table{"x-queue-type": "stream"}); err != nil {
		t.Fatal(err)
	}
	if err := publishConfirmed(ch, "", "orders", "secret"); err != nil {
		t.Fatal(err)
	}
	const private = "__amqp_74656e616e742d61_orders"
	adm := kadm.NewClient(kafkaClient(t, b.Addr))
	if names := topicNames(t, b.Addr); len(names) != 0 {
		t.Errorf("listing shows %v", names)
	}
	md, err := adm.Metadata(ctx, private)
	if err == nil {
		err = md.Topics[private].Err
	}
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Errorf("metadata of %s: %v", private, err)
	}
	dirs, err := adm.DescribeAllLogDirs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	dirs.Each(func(d kadm.DescribedLogDir) {
		d.Topics.Each(func(p kadm.DescribedLogDirPartition) {
			if p.Topic == private {
				t.Errorf("log dirs show %s", private)
			}
		})
	})
	if err := kafkaClient(t, b.Addr).ProduceSync(ctx, &kgo.Record{Topic: private, Value: []byte("forged")}).FirstErr(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Errorf("produce to %s: %v", private, err)
	}
	fetch := kmsg.NewPtrFetchRequest()
	ft := kmsg.NewFetchRequestTopic()
	info, err := core(b).Topic(ctx, private, false)
	if err != nil {
		t.Fatal(err)
	}
	ft.Topic, ft.TopicID = private, info.ID // by name before v13, by id since
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = append(ft.Partitions, fp)
	fetch.Topics = append(fetch.Topics, ft)
	fetch.MaxBytes = 1 << 20
	resp, err := fetch.RequestWith(ctx, kafkaClient(t, b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.TopicAuthorizationFailed.Code {
		t.Errorf("fetch from %s: error code %d", private, code)
	}
	created, err := adm.CreateTopic(ctx, 1, 1, nil, "__amqp_74656e616e742d61_planted")
	if err == nil {
		err = created.Err
	}
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Errorf("create a topic with the stream prefix: %v", err)
	}
	deleted, err := adm.DeleteTopic(ctx, private)
	if err == nil {
		err = deleted.Err
	}
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Errorf("delete %s: %v", private, err)
	}
	body, n := firstStreamBody(t, dialAs(t, b, "guest", "tenant-a"), "orders")
	if body != "secret" || n != 1 {
		t.Errorf("the stream after Kafka's attempts: %d messages, first %q", n, body)
	}
}
