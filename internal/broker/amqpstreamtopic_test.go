package broker

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ternmq/tern/internal/storage"
)

var streamArgs = map[string]any{"x-queue-type": "stream"}

func declareStream(t *testing.T, v *VHost, name string) *Stream {
	t.Helper()
	res, err := v.DeclareQueue(context.Background(), name, false, true, false, false, streamArgs, 0)
	if err != nil {
		t.Fatalf("declare stream %s in %s: %v", name, v.Name(), err)
	}
	return res.Stream
}

func mustStream(t *testing.T, b *Broker, vhost, name string) *Stream {
	t.Helper()
	st, ok := mustVHost(t, b, vhost).Stream(name)
	if !ok {
		t.Fatalf("no stream %s in vhost %s", name, vhost)
	}
	return st
}

// topicEnd is the topic's high watermark, or -1 when it does not exist.
func topicEnd(b *Broker, topic string) int64 {
	_, hw, _, err := b.PartitionOffsets(topic, 0)
	if err != nil {
		return -1
	}
	return hw
}

// appendRecords writes catalog records to a closed broker's data
// directory, as a broker that crashed right after writing them would
// have left it, or an older version would have written them.
func appendRecords(t *testing.T, dir string, recs ...metaRecord) {
	t.Helper()
	ml, err := storage.Open(filepath.Join(dir, metaDirName), storage.DefaultConfig(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := (&metaLog{log: ml}).append(context.Background(), recs...); err != nil {
		t.Fatal(err)
	}
	if err := ml.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestStreamTopicNames(t *testing.T) {
	for _, c := range []struct {
		vhost, name, topic string
		err                error
	}{
		{"/", "orders", "orders", nil},
		{"tenant-a", "orders", "__amqp_74656e616e742d61_orders", nil},
		// The first '_' after the hex ends the vhost: these differ.
		{"a_b", "c", "__amqp_615f62_c", nil},
		{"a", "b_c", "__amqp_61_b_c", nil},
		{"/x", "q", "__amqp_2f78_q", nil},
		{"/", "__amqp_61_orders", "", ErrAccessRefused},
		{"tenant-a", "__amqp_x", "__amqp_74656e616e742d61___amqp_x", nil},
		{"/", strings.Repeat("q", 249), strings.Repeat("q", 249), nil},
		{"/", strings.Repeat("q", 250), "", ErrPreconditionFailed},
		{"v", strings.Repeat("q", 238), "__amqp_76_" + strings.Repeat("q", 238), nil}, // 248 bytes
		{"v", strings.Repeat("q", 240), "", ErrPreconditionFailed},
		{strings.Repeat("v", 121), "q", "", ErrPreconditionFailed}, // 7+242+1+1
		{"v", "a b", "", ErrPreconditionFailed},
		{"/", "ünïcode", "", ErrPreconditionFailed},
		{"/", "..", "", ErrPreconditionFailed},
	} {
		topic, err := streamTopic(c.vhost, c.name)
		if topic != c.topic || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("streamTopic(%q, %q) = %q, %v; want %q, %v", c.vhost, c.name, topic, err, c.topic, c.err)
		}
		if err == nil && ValidateTopicName(topic) != nil {
			t.Errorf("streamTopic(%q, %q) = %q, not a valid topic name", c.vhost, c.name, topic)
		}
		if err == nil && IsStreamTopic(topic) != (c.vhost != DefaultVHost) {
			t.Errorf("IsStreamTopic(%q) = %v", topic, IsStreamTopic(topic))
		}
	}
}

// TestStreamTopicPerVHost: a stream queue of "/" is the topic of its
// name, one of another vhost a topic of its own, so the same name in
// three vhosts is three logs; across a restart each stream keeps its
// topic, and deleting a vhost or a stream deletes the topic it created.
func TestStreamTopicPerVHost(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := openUsersBroker(t, dir)
	for _, n := range []string{"a", "b"} {
		if _, err := b.PutVHost(ctx, n, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	topics := map[string]string{"/": "events", "a": "__amqp_61_events", "b": "__amqp_62_events"}
	for vhost, topic := range topics {
		v := mustVHost(t, b, vhost)
		if st := declareStream(t, v, "events"); st.Topic() != topic {
			t.Fatalf("stream of %s is topic %s, want %s", vhost, st.Topic(), topic)
		}
		publishTo(t, v, "events", "in "+vhost)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openUsersBroker(t, dir)
	defer b.Close()
	for vhost, topic := range topics {
		if st := mustStream(t, b, vhost, "events"); st.Topic() != topic || !st.owned() {
			t.Errorf("after restart, stream of %s is topic %s (owned %v), want %s (owned)", vhost, st.Topic(), st.owned(), topic)
		}
		if end := topicEnd(b, topic); end != 1 {
			t.Errorf("topic %s holds %d records, want 1", topic, end)
		}
		if info, err := b.Topic(ctx, topic, false); err != nil || info.Internal != (vhost != "/") {
			t.Errorf("topic %s: %+v %v", topic, info, err)
		}
	}
	if err := b.DeleteVHost(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if topicEnd(b, topics["a"]) != -1 || topicEnd(b, topics["b"]) != 1 || topicEnd(b, "events") != 1 {
		t.Fatal("deleting vhost a must delete its stream's topic, and only that")
	}
	if _, err := mustVHost(t, b, "b").DeleteQueue(ctx, "events", false, false, 0); err != nil {
		t.Fatal(err)
	}
	if topicEnd(b, topics["b"]) != -1 || topicEnd(b, "events") != 1 {
		t.Fatal("deleting b's stream must delete its topic, and only that")
	}
	if _, err := mustVHost(t, b, "/").DeleteQueue(ctx, "events", false, false, 0); err != nil {
		t.Fatal(err)
	}
	if topicEnd(b, "events") != -1 {
		t.Fatal("the topic a stream of / created outlived it")
	}
}

// TestStreamKeepsTopicItDidNotCreate: a stream of "/" declared over an
// existing topic leaves it, with its records, when deleted; so does one
// whose topic was deleted and created again since it created it. A
// private topic that existed before its stream (a super user made it)
// is the stream's, and goes with it.
func TestStreamKeepsTopicItDidNotCreate(t *testing.T) {
	ctx := context.Background()
	b := openUsersBroker(t, t.TempDir())
	defer b.Close()
	root := mustVHost(t, b, "/")
	if _, err := b.CreateTopic(ctx, CreateTopicRequest{Name: "orders", Partitions: 1, ReplicationFactor: -1}); err != nil {
		t.Fatal(err)
	}
	if st := declareStream(t, root, "orders"); st.owned() {
		t.Fatal("a stream over an existing topic owns it")
	}
	publishTo(t, root, "orders", "kept")
	if _, err := root.DeleteQueue(ctx, "orders", false, false, 0); err != nil {
		t.Fatal(err)
	}
	if end := topicEnd(b, "orders"); end != 1 {
		t.Fatalf("the topic the stream attached to has %d records after the stream's delete, want 1", end)
	}

	declareStream(t, root, "fresh")
	if err := b.DeleteTopic(ctx, "fresh"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateTopic(ctx, CreateTopicRequest{Name: "fresh", Partitions: 1, ReplicationFactor: -1}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.DeleteQueue(ctx, "fresh", false, false, 0); err != nil {
		t.Fatal(err)
	}
	if topicEnd(b, "fresh") != 0 {
		t.Fatal("the stream deleted a topic created after its own was deleted")
	}

	if _, err := b.PutVHost(ctx, "a", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateTopic(ctx, CreateTopicRequest{Name: "__amqp_61_pre", Partitions: 1, ReplicationFactor: -1}); err != nil {
		t.Fatal(err)
	}
	declareStream(t, mustVHost(t, b, "a"), "pre")
	if _, err := mustVHost(t, b, "a").DeleteQueue(ctx, "pre", false, false, 0); err != nil {
		t.Fatal(err)
	}
	if topicEnd(b, "__amqp_61_pre") != -1 {
		t.Fatal("a private topic outlived its stream")
	}
}

// TestStreamTopicDeleteFinishedAtStart: a crash after a stream's (or its
// vhost's) delete record and before its topic's delete leaves the topic;
// the next start deletes it if the stream owned it, and keeps it if not.
func TestStreamTopicDeleteFinishedAtStart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := openUsersBroker(t, dir)
	for _, n := range []string{"v1", "v2"} {
		if _, err := b.PutVHost(ctx, n, "", nil); err != nil {
			t.Fatal(err)
		}
		declareStream(t, mustVHost(t, b, n), "s")
	}
	root := mustVHost(t, b, "/")
	declareStream(t, root, "ours")
	if _, err := b.CreateTopic(ctx, CreateTopicRequest{Name: "kafkas", Partitions: 1, ReplicationFactor: -1}); err != nil {
		t.Fatal(err)
	}
	declareStream(t, root, "kafkas")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	appendRecords(t, dir,
		metaRecord{Type: metaAMQPQueueDelete, VHost: "v1", AMQPQueue: &amqpQueueRecord{Name: "s"}},
		metaRecord{Type: metaVHostDelete, VHost: "v2"},
		metaRecord{Type: metaAMQPQueueDelete, VHost: "/", AMQPQueue: &amqpQueueRecord{Name: "ours"}},
		metaRecord{Type: metaAMQPQueueDelete, VHost: "/", AMQPQueue: &amqpQueueRecord{Name: "kafkas"}},
	)
	b = openUsersBroker(t, dir)
	for _, topic := range []string{"__amqp_7631_s", "__amqp_7632_s", "ours"} {
		if topicEnd(b, topic) != -1 {
			t.Errorf("topic %s of a deleted stream survived the start", topic)
		}
	}
	if topicEnd(b, "kafkas") != 0 {
		t.Error("a start deleted the topic a deleted stream had attached to")
	}
	// Once finished, it stays finished.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openUsersBroker(t, dir)
	defer b.Close()
	if topicEnd(b, "ours") != -1 || topicEnd(b, "kafkas") != 0 {
		t.Error("second start")
	}
}

// TestStreamRecordsFromBeforeTopicOwnership: catalog records from before
// streams named their topic. A stream of "/" keeps the topic of its name
// and does not own it; one of another vhost, which shared the topic of
// its name with every vhost, is moved to a private topic once, and the
// shared topic is kept with its records; one whose vhost name is too
// long for a private topic is deleted, its topic kept.
func TestStreamRecordsFromBeforeTopicOwnership(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	long := strings.Repeat("v", 121)
	b := openUsersBroker(t, dir)
	for _, n := range []string{"t", long} {
		if _, err := b.PutVHost(ctx, n, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, topic := range []string{"old", "shared"} {
		if _, err := b.CreateTopic(ctx, CreateTopicRequest{Name: topic, Partitions: 1, ReplicationFactor: -1}); err != nil {
			t.Fatal(err)
		}
		if _, wait, err := b.Produce(ctx, topic, 0, encodeQueueMessage(QueueMessage{Body: []byte("before")})); err != nil || wait() != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	legacy := func(vhost, name string) metaRecord {
		return metaRecord{Type: metaAMQPQueue, VHost: vhost, AMQPQueue: &amqpQueueRecord{Name: name, Args: streamArgs}}
	}
	appendRecords(t, dir, legacy("/", "old"), legacy("t", "shared"), legacy(long, "shared"))

	b = openUsersBroker(t, dir)
	if st := mustStream(t, b, "/", "old"); st.Topic() != "old" || st.owned() {
		t.Errorf("old stream of /: topic %s, owned %v", st.Topic(), st.owned())
	}
	st := mustStream(t, b, "t", "shared")
	if st.Topic() != "__amqp_74_shared" || !st.owned() || topicEnd(b, "__amqp_74_shared") != 0 {
		t.Errorf("old stream of t: topic %s, owned %v, %d records", st.Topic(), st.owned(), topicEnd(b, st.Topic()))
	}
	if _, ok := mustVHost(t, b, long).Stream("shared"); ok {
		t.Error("a stream that cannot have a private topic was kept")
	}
	if topicEnd(b, "shared") != 1 || topicEnd(b, "old") != 1 {
		t.Error("the topics old streams shared lost records")
	}
	publishTo(t, mustVHost(t, b, "t"), "shared", "after")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	// Moved once: the next start finds the stream on its own topic.
	b = openUsersBroker(t, dir)
	defer b.Close()
	if st := mustStream(t, b, "t", "shared"); st.Topic() != "__amqp_74_shared" || topicEnd(b, st.Topic()) != 1 {
		t.Errorf("second start: t's stream on %s with %d records", st.Topic(), topicEnd(b, st.Topic()))
	}
	if _, err := mustVHost(t, b, "/").DeleteQueue(ctx, "old", false, false, 0); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteVHost(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if topicEnd(b, "old") != 1 || topicEnd(b, "shared") != 1 {
		t.Error("deleting old streams deleted topics they never owned")
	}
	if topicEnd(b, "__amqp_74_shared") != -1 {
		t.Error("deleting t kept its stream's private topic")
	}
}

// TestStreamTopicsAreSuperUsersOnly: Kafka clients reach the topics of
// other vhosts' streams only as super users, whatever the ACLs say and
// with authorization off; other topics are as before.
func TestStreamTopicsAreSuperUsersOnly(t *testing.T) {
	ctx := context.Background()
	const private = "__amqp_61_events"
	off := openACLBroker(t, t.TempDir(), ACLConfig{})
	defer off.Close()
	on := openACLBroker(t, t.TempDir(), ACLConfig{Enabled: true, SuperUsers: []string{"User:root"}})
	defer on.Close()
	if errs := on.CreateACLs(ctx, []ACL{acl(topic, "*", lit, "User:*", "*", ACLOpAll, allow), acl(topic, "__amqp_", ACLPatternPrefixed, "User:plain", "*", ACLOpAll, allow)}); errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	for _, b := range []*Broker{off, on} {
		if _, err := b.PutUser(ctx, "plain", "x", nil); err != nil {
			t.Fatal(err)
		}
		for p, want := range map[string]bool{"User:guest": true, "User:plain": false, AnonymousPrincipal: false} {
			for _, op := range []ACLOperation{ACLOpRead, ACLOpWrite, ACLOpDescribe, ACLOpCreate, ACLOpDelete} {
				if got := b.Authorize(p, netip.Addr{}, op, topic, private); got != want {
					t.Errorf("acls on %v: %s %v on %s: %v, want %v", b.cfg.ACL.Enabled, p, op, private, got, want)
				}
			}
			if !b.Authorize(p, netip.Addr{}, ACLOpRead, topic, "events") {
				t.Errorf("acls on %v: %s may not read events", b.cfg.ACL.Enabled, p)
			}
		}
	}
	if !on.Authorize("User:root", netip.Addr{}, ACLOpRead, topic, private) {
		t.Error("a configured super user may not read a stream topic")
	}
}
