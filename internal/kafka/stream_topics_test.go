package kafka_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ternmq/tern/internal/broker"
)

// TestStreamTopicsOnlyForSuperUsers: the topic behind a stream queue of
// a vhost other than "/" is internal and, with authorization off as
// with it on, a super user's alone: an administrator sees it (marked
// internal, so default listings skip it) and reads it; another user does
// not see it.
func TestStreamTopicsOnlyForSuperUsers(t *testing.T) {
	b := startSASL(t)
	ctx := ctxT(t, 30*time.Second)
	core := b.Node().Broker
	if _, err := core.PutUser(ctx, "ops", "ops-secret", []string{"administrator"}); err != nil {
		t.Fatal(err)
	}
	if _, err := core.PutVHost(ctx, "t", "", nil); err != nil {
		t.Fatal(err)
	}
	v, err := core.VHost("t")
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.DeclareQueue(ctx, "events", false, true, false, false, map[string]any{"x-queue-type": "stream"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	private := res.Stream.Topic()
	if !broker.IsStreamTopic(private) {
		t.Fatalf("stream of vhost t is topic %s", private)
	}
	if _, wait, err := v.Publish(broker.QueueMessage{RoutingKey: "events", Body: []byte("hello")}, nil); err != nil || wait() != nil {
		t.Fatal(err)
	}

	alice := kadm.NewClient(saslClient(t, b, "SASL_PLAINTEXT", mechanisms("alice", "alice-secret")["PLAIN"]))
	if topics, err := alice.ListTopicsWithInternal(ctx); err != nil || topics.Has(private) {
		t.Fatalf("alice lists %v (%v)", topics.Names(), err)
	}
	ops := kadm.NewClient(saslClient(t, b, "SASL_PLAINTEXT", mechanisms("ops", "ops-secret")["PLAIN"]))
	topics, err := ops.ListTopicsWithInternal(ctx)
	if err != nil || !topics[private].IsInternal {
		t.Fatalf("the administrator lists %+v (%v)", topics, err)
	}
	if topics, err := ops.ListTopics(ctx); err != nil || topics.Has(private) {
		t.Fatalf("a default listing shows internal topics: %v (%v)", topics.Names(), err)
	}
	cl := saslClient(t, b, "SASL_PLAINTEXT", mechanisms("ops", "ops-secret")["PLAIN"],
		kgo.ConsumeTopics(private), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	fs := cl.PollRecords(ctx, 1)
	if err := fs.Err0(); err != nil || len(fs.Records()) != 1 || string(fs.Records()[0].Value) != "hello" {
		t.Fatalf("the administrator reads %s: %v %v", private, fs.Records(), err)
	}
}
