package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/admin"
	"github.com/ternmq/tern/internal/progress"
	"github.com/ternmq/tern/internal/testbroker"
)

// client calls a node's admin API as one user.
type client struct {
	t          *testing.T
	base       string
	user, pass string
}

func newClient(t *testing.T, b *testbroker.Broker) *client {
	return &client{t: t, base: "http://" + b.HTTPAddr, user: "guest", pass: "guest"}
}

func (c *client) as(user, pass string) *client {
	cc := *c
	cc.user, cc.pass = user, pass
	return &cc
}

// do sends a request and returns the status and body; body may be nil,
// a string (sent as is) or a value (sent as JSON).
func (c *client) do(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// must sends a request that must answer want, and decodes the answer
// into v (when not nil).
func (c *client) must(want int, method, path string, body, v any) {
	c.t.Helper()
	code, out := c.do(method, path, body)
	if code != want {
		c.t.Fatalf("%s %s = %d %s, want %d", method, path, code, out, want)
	}
	if v != nil {
		if err := json.Unmarshal(out, v); err != nil {
			c.t.Fatalf("%s %s: decoding %s: %v", method, path, out, err)
		}
	}
}

type apiErr struct {
	Error, Reason string
}

func (c *client) mustFail(want int, method, path string, body any, reasonHas string) {
	c.t.Helper()
	var e apiErr
	c.must(want, method, path, body, &e)
	if e.Error == "" || !strings.Contains(e.Reason, reasonHas) {
		c.t.Fatalf("%s %s: error %+v, want a reason containing %q", method, path, e, reasonHas)
	}
}

func TestAPIAuthentication(t *testing.T) {
	b := testbroker.Start(t)
	c := newClient(t, b)
	code, _ := c.as("", "").do("GET", "/api/overview", nil)
	if code != http.StatusUnauthorized {
		t.Fatalf("no credentials: %d", code)
	}
	c.as("guest", "nope").mustFail(http.StatusUnauthorized, "GET", "/api/overview", nil, "login failed")
	c.must(http.StatusCreated, "PUT", "/api/users/watcher", map[string]any{"password": "pw", "tags": "monitoring"}, nil)
	c.as("watcher", "pw").mustFail(http.StatusForbidden, "GET", "/api/topics", nil, "not an administrator")
	c.mustFail(http.StatusNotFound, "GET", "/api/no-such-thing", nil, "no API endpoint")
	// Health and metrics stay open, as for scrapers and probes.
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, _ := c.as("", "").do("GET", p, nil); code != http.StatusOK {
			t.Fatalf("GET %s = %d", p, code)
		}
	}
	var who struct {
		Name string
		Tags []string
	}
	c.must(http.StatusOK, "GET", "/api/whoami", nil, &who)
	if who.Name != "guest" || len(who.Tags) != 1 || who.Tags[0] != "administrator" {
		t.Fatalf("whoami: %+v", who)
	}
}

type recordOut struct {
	Partition     int32
	Offset        int64
	Timestamp     int64
	Key           *string
	KeyEncoding   string `json:"key_encoding"`
	Value         *string
	ValueEncoding string `json:"value_encoding"`
	Headers       []struct{ Key, Value string }
}

type readOut struct {
	Records        []recordOut
	NextOffsets    map[string]int64 `json:"next_offsets"`
	HighWatermarks map[string]int64 `json:"high_watermarks"`
}

func TestAPITopicsAndRecords(t *testing.T) {
	b := testbroker.Start(t)
	c := newClient(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var detail struct {
		Name       string
		Partitions []struct {
			Partition                  int32
			StartOffset, HighWatermark int64 `json:"-"`
		}
		Configs []struct{ Name, Value, Source string }
	}
	c.must(http.StatusCreated, "POST", "/api/topics", map[string]any{"name": "orders", "partitions": 3, "configs": map[string]string{"retention.ms": "3600000"}}, &detail)
	if len(detail.Partitions) != 3 {
		t.Fatalf("created: %+v", detail)
	}
	found := false
	for _, cf := range detail.Configs {
		found = found || (cf.Name == "retention.ms" && cf.Value == "3600000" && cf.Source == "topic")
	}
	if !found {
		t.Fatalf("retention.ms override missing: %+v", detail.Configs)
	}
	c.mustFail(http.StatusConflict, "POST", "/api/topics", map[string]any{"name": "orders"}, "exists")
	c.mustFail(http.StatusBadRequest, "POST", "/api/topics", map[string]any{"name": "bad/name"}, "")

	// Keyed records land where Kafka's default partitioner puts them.
	keys := []string{"alice", "bob", "carol", "dave", "erin", "frank"}
	var recs []map[string]any
	for i, k := range keys {
		recs = append(recs, map[string]any{"key": k, "value": fmt.Sprintf("v%d", i), "headers": []map[string]string{{"key": "h", "value": k}}})
	}
	recs = append(recs, map[string]any{"partition": 1, "value": "AAEC/w==", "value_encoding": "base64"})
	var produced struct{ Offsets []struct{ Partition int32 } }
	c.must(http.StatusOK, "POST", "/api/topics/orders/records", map[string]any{"records": recs}, &produced)
	part := kgo.StickyKeyPartitioner(nil).ForTopic("orders")
	for i, k := range keys {
		want := int32(part.Partition(&kgo.Record{Key: []byte(k)}, 3))
		if produced.Offsets[i].Partition != want {
			t.Fatalf("key %q went to partition %d, Kafka's partitioner says %d", k, produced.Offsets[i].Partition, want)
		}
	}

	// A Kafka client reads what the API wrote, bytes and headers exact.
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	byValue := map[string]*kgo.Record{}
	for len(byValue) < len(recs) {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) { byValue[string(r.Value)] = r })
	}
	if r := byValue["v1"]; string(r.Key) != "bob" || len(r.Headers) != 1 || string(r.Headers[0].Value) != "bob" {
		t.Fatalf("record v1 as Kafka sees it: %+v", r)
	}
	if r := byValue["\x00\x01\x02\xff"]; r == nil || r.Key != nil || r.Partition != 1 {
		t.Fatalf("binary record: %+v", r)
	}

	// Reading back: every partition, then one from an offset, binary as
	// base64, and a continuation from next_offsets that finds nothing.
	var all readOut
	c.must(http.StatusOK, "GET", "/api/topics/orders/records", nil, &all)
	if len(all.Records) != len(recs) {
		t.Fatalf("read %d records, want %d", len(all.Records), len(recs))
	}
	for _, r := range all.Records {
		if r.Value != nil && *r.Value == "AAEC/w==" && r.ValueEncoding != "base64" {
			t.Fatalf("binary value: %+v", r)
		}
	}
	var cont readOut
	q := url.Values{"offsets": {fmt.Sprintf("0:%d,1:%d,2:%d", all.NextOffsets["0"], all.NextOffsets["1"], all.NextOffsets["2"])}}
	c.must(http.StatusOK, "GET", "/api/topics/orders/records?"+q.Encode(), nil, &cont)
	if len(cont.Records) != 0 {
		t.Fatalf("continuation returned %d records", len(cont.Records))
	}
	var one readOut
	c.must(http.StatusOK, "GET", "/api/topics/orders/records?partition=1&offset=1&limit=1", nil, &one)
	if len(one.Records) != 1 || one.Records[0].Offset != 1 || one.NextOffsets["1"] != 2 {
		t.Fatalf("partition 1 from offset 1: %+v", one)
	}
	c.mustFail(http.StatusNotFound, "GET", "/api/topics/orders/records?partition=7", nil, "partitions 0 to 2")

	// Long polling: a read at the end waits for the next record.
	got := make(chan readOut, 1)
	go func() {
		var r readOut
		code, out := c.do("GET", "/api/topics/orders/records?partition=0&offset=end&wait_ms=10000", nil)
		if code == http.StatusOK {
			json.Unmarshal(out, &r)
		}
		got <- r
	}()
	time.Sleep(200 * time.Millisecond)
	c.must(http.StatusOK, "POST", "/api/topics/orders/records", map[string]any{"records": []map[string]any{{"partition": 0, "value": "late"}}}, nil)
	select {
	case r := <-got:
		if len(r.Records) != 1 || *r.Records[0].Value != "late" {
			t.Fatalf("long poll: %+v", r)
		}
	case <-ctx.Done():
		t.Fatal("long poll did not answer")
	}

	// Alter: a bad value changes nothing; a good one and more partitions.
	c.mustFail(http.StatusBadRequest, "PATCH", "/api/topics/orders", map[string]any{"configs": map[string]string{"retention.ms": "soon"}, "partitions": 5}, "")
	c.must(http.StatusOK, "GET", "/api/topics/orders", nil, &detail)
	if len(detail.Partitions) != 3 {
		t.Fatalf("a refused alter grew the topic to %d partitions", len(detail.Partitions))
	}
	c.must(http.StatusOK, "PATCH", "/api/topics/orders", map[string]any{"configs": map[string]string{"retention.ms": "1000"}, "partitions": 4}, &detail)
	if len(detail.Partitions) != 4 {
		t.Fatalf("after alter: %d partitions", len(detail.Partitions))
	}
	var list []struct {
		Name       string
		Partitions int32
		Messages   int64
	}
	c.must(http.StatusOK, "GET", "/api/topics", nil, &list)
	if len(list) != 1 || list[0].Name != "orders" || list[0].Partitions != 4 || list[0].Messages != int64(len(recs)+1) {
		t.Fatalf("topic list: %+v", list)
	}
	c.must(http.StatusNoContent, "DELETE", "/api/topics/orders", nil, nil)
	c.mustFail(http.StatusNotFound, "GET", "/api/topics/orders", nil, "")
	var tasks []struct{ Kind, Target, State string }
	c.must(http.StatusOK, "GET", "/api/tasks", nil, &tasks)
	if len(tasks) == 0 || tasks[0].Kind != "delete_topic" || tasks[0].Target != "orders" || tasks[0].State != "done" {
		t.Fatalf("tasks after the delete: %+v", tasks)
	}
}

func TestAPIGroups(t *testing.T) {
	b := testbroker.Start(t)
	c := newClient(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c.must(http.StatusCreated, "POST", "/api/topics", map[string]any{"name": "ev", "partitions": 2}, nil)
	var rs []map[string]any
	for i := range 10 {
		rs = append(rs, map[string]any{"partition": i % 2, "value": fmt.Sprint(i)})
	}
	c.must(http.StatusOK, "POST", "/api/topics/ev/records", map[string]any{"records": rs}, nil)

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumerGroup("g1"), kgo.ConsumeTopics("ev"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for n < 10 {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatal(err)
		}
		n += fs.NumRecords()
	}
	var commitErr error
	cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{"ev": {0: {Epoch: -1, Offset: 3}, 1: {Epoch: -1, Offset: 5}}},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
			commitErr = err
		})
	if commitErr != nil {
		t.Fatal(commitErr)
	}

	var detail struct {
		State   string
		Members []struct {
			ClientID    string `json:"client_id"`
			Assignments []struct {
				Topic      string
				Partitions []int32
			}
		}
		Offsets []struct {
			Topic                         string
			Partition                     int32
			Committed, HighWatermark, Lag int64
		}
	}
	c.must(http.StatusOK, "GET", "/api/groups/g1", nil, &detail)
	if detail.State != "Stable" || len(detail.Members) != 1 || len(detail.Members[0].Assignments) != 1 || len(detail.Members[0].Assignments[0].Partitions) != 2 {
		t.Fatalf("live group: %+v", detail)
	}
	if len(detail.Offsets) != 2 || detail.Offsets[0].Lag != 2 || detail.Offsets[1].Lag != 0 {
		t.Fatalf("offsets: %+v", detail.Offsets)
	}
	var list []struct {
		Group   string
		Members int
		Lag     int64
	}
	c.must(http.StatusOK, "GET", "/api/groups", nil, &list)
	if len(list) != 1 || list[0].Group != "g1" || list[0].Members != 1 || list[0].Lag != 2 {
		t.Fatalf("group list: %+v", list)
	}
	reset := map[string]any{"topic": "ev", "to": "earliest"}
	c.mustFail(http.StatusConflict, "POST", "/api/groups/g1/offsets", reset, "stop its consumers")
	c.mustFail(http.StatusConflict, "DELETE", "/api/groups/g1", nil, "active members")
	cl.Close()

	var res struct {
		Offsets []struct {
			Partition     int32
			Previous, New int64
		}
	}
	reset["dry_run"] = true
	c.must(http.StatusOK, "POST", "/api/groups/g1/offsets", reset, &res)
	if len(res.Offsets) != 2 || res.Offsets[0].Previous != 3 || res.Offsets[0].New != 0 {
		t.Fatalf("dry run: %+v", res)
	}
	c.must(http.StatusOK, "POST", "/api/groups/g1/offsets", map[string]any{"topic": "ev", "partitions": []int{1}, "to": "shift", "shift": -2}, &res)
	if len(res.Offsets) != 1 || res.Offsets[0].Previous != 5 || res.Offsets[0].New != 3 {
		t.Fatalf("shift: %+v", res)
	}
	// What a Kafka client now sees committed: 3 (the dry run changed
	// nothing) and 3.
	cl2, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl2.Close()
	fetched, err := kadm.NewClient(cl2).FetchOffsets(ctx, "g1")
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[int32]int64{0: 3, 1: 3} {
		if o, _ := fetched.Lookup("ev", p); o.At != want {
			t.Fatalf("partition %d committed %d, want %d", p, o.At, want)
		}
	}
	c.must(http.StatusNoContent, "DELETE", "/api/groups/g1", nil, nil)
	c.mustFail(http.StatusNotFound, "GET", "/api/groups/g1", nil, "not found")
}

func TestAPIQueuesExchangesBindings(t *testing.T) {
	b := testbroker.Start(t)
	c := newClient(t, b)
	const vh = "/api/queues/%2F/"
	c.must(http.StatusCreated, "PUT", vh+"work", map[string]any{"durable": true, "arguments": map[string]any{"x-max-length": 100}}, nil)
	c.must(http.StatusNoContent, "PUT", vh+"work", map[string]any{"durable": true, "arguments": map[string]any{"x-max-length": 100}}, nil)
	c.mustFail(http.StatusConflict, "PUT", vh+"work", map[string]any{"durable": false}, "inequivalent")
	c.must(http.StatusCreated, "PUT", "/api/exchanges/%2F/events", map[string]any{"type": "topic"}, nil)
	var loc struct {
		PropertiesKey string `json:"properties_key"`
	}
	c.must(http.StatusCreated, "POST", "/api/bindings/%2F/e/events/q/work", map[string]any{"routing_key": "order.*"}, &loc)
	if loc.PropertiesKey != "order.*" {
		t.Fatalf("properties key: %+v", loc)
	}

	var routed struct{ Routed bool }
	c.must(http.StatusOK, "POST", "/api/exchanges/%2F/events/publish", map[string]any{
		"routing_key": "order.created", "payload": "hello",
		"properties": map[string]any{"delivery_mode": 2, "content_type": "text/plain", "headers": map[string]any{"n": 7, "s": "x"}},
	}, &routed)
	if !routed.Routed {
		t.Fatal("publish not routed")
	}
	c.must(http.StatusOK, "POST", "/api/exchanges/%2F/events/publish", map[string]any{"routing_key": "nobody", "payload": "x"}, &routed)
	if routed.Routed {
		t.Fatal("an unroutable publish said routed")
	}

	// Peek twice: the message stays, the second time redelivered.
	type got struct {
		Payload      string
		Redelivered  bool
		RoutingKey   string `json:"routing_key"`
		MessageCount int64  `json:"message_count"`
		Properties   map[string]any
	}
	for i := range 2 {
		var g []got
		c.must(http.StatusOK, "POST", vh+"work/get", map[string]any{"count": 5, "ackmode": "ack_requeue_true"}, &g)
		if len(g) != 1 || g[0].Payload != "hello" || g[0].RoutingKey != "order.created" || g[0].Redelivered != (i == 1) {
			t.Fatalf("peek %d: %+v", i, g)
		}
		if h, _ := g[0].Properties["headers"].(map[string]any); h["n"] != float64(7) || g[0].Properties["content_type"] != "text/plain" {
			t.Fatalf("properties: %+v", g[0].Properties)
		}
	}
	var queue struct {
		Messages      int64
		MessagesReady int64 `json:"messages_ready"`
		Arguments     map[string]any
		MessageStats  map[string]int64 `json:"message_stats"`
	}
	c.must(http.StatusOK, "GET", vh+"work", nil, &queue)
	if queue.Messages != 1 || queue.Arguments["x-max-length"] != float64(100) || queue.MessageStats["publish"] != 1 {
		t.Fatalf("queue: %+v", queue)
	}

	// An AMQP consumer gets the message the API published, properties
	// intact; then the API takes one an AMQP publisher sent.
	conn, err := amqp.Dial("amqp://guest:guest@" + b.AMQPAddr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	d, ok, err := ch.Get("work", true)
	if err != nil || !ok || string(d.Body) != "hello" || d.ContentType != "text/plain" || d.Headers["n"] != int64(7) || d.DeliveryMode != 2 {
		t.Fatalf("amqp get: %v %v %+v", ok, err, d)
	}
	if err := ch.Publish("", "work", false, false, amqp.Publishing{Body: []byte{0xff, 0x00}}); err != nil {
		t.Fatal(err)
	}
	var g []struct {
		Payload         string
		PayloadEncoding string `json:"payload_encoding"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(g) == 0 && time.Now().Before(deadline) {
		c.must(http.StatusOK, "POST", vh+"work/get", map[string]any{"count": 1, "ackmode": "ack_requeue_false"}, &g)
	}
	if len(g) != 1 || g[0].PayloadEncoding != "base64" || g[0].Payload != "/wA=" {
		t.Fatalf("binary get: %+v", g)
	}
	c.must(http.StatusOK, "GET", vh+"work", nil, &queue)
	if queue.Messages != 0 {
		t.Fatalf("after ack_requeue_false the queue has %d", queue.Messages)
	}

	// Purge, bindings, deletes.
	for range 3 {
		c.must(http.StatusOK, "POST", "/api/exchanges/%2F/amq.default/publish", map[string]any{"routing_key": "work", "payload": "p"}, nil)
	}
	c.must(http.StatusNoContent, "DELETE", vh+"work/contents", nil, nil)
	c.must(http.StatusOK, "GET", vh+"work", nil, &queue)
	if queue.Messages != 0 {
		t.Fatalf("after purge: %d", queue.Messages)
	}
	var binds []struct {
		Source, Destination, RoutingKey string
		PropertiesKey                   string `json:"properties_key"`
	}
	c.must(http.StatusOK, "GET", "/api/bindings/%2F", nil, &binds)
	if len(binds) != 2 || binds[0].Source != "" || binds[0].Destination != "work" || binds[1].Source != "events" {
		t.Fatalf("bindings: %+v", binds)
	}
	c.must(http.StatusNoContent, "DELETE", "/api/bindings/%2F/e/events/q/work/"+url.PathEscape(binds[1].PropertiesKey), nil, nil)
	c.mustFail(http.StatusNotFound, "DELETE", "/api/bindings/%2F/e/events/q/work/"+url.PathEscape(binds[1].PropertiesKey), nil, "properties_key")
	var exs []struct{ Name, Type string }
	c.must(http.StatusOK, "GET", "/api/exchanges/%2F", nil, &exs)
	if len(exs) != 7 || exs[0].Name != "" || exs[0].Type != "direct" {
		t.Fatalf("exchanges: %+v", exs)
	}
	c.must(http.StatusNoContent, "DELETE", "/api/exchanges/%2F/events", nil, nil)
	c.mustFail(http.StatusNotFound, "DELETE", "/api/exchanges/%2F/events", nil, "no exchange")
	c.must(http.StatusNoContent, "DELETE", vh+"work", nil, nil)
	c.mustFail(http.StatusNotFound, "DELETE", vh+"work", nil, "no queue")
	c.mustFail(http.StatusNotFound, "GET", vh+"work", nil, "no queue")
	c.mustFail(http.StatusNotFound, "GET", "/api/queues/nope", nil, "virtual host")
}

func TestAPIUsersConnectionsOverview(t *testing.T) {
	b := testbroker.Start(t)
	c := newClient(t, b)
	dial := func(user, pass string) (*amqp.Connection, error) {
		return amqp.Dial("amqp://" + user + ":" + pass + "@" + b.AMQPAddr + "/")
	}
	c.must(http.StatusCreated, "PUT", "/api/users/app", map[string]any{"password": "s3cret", "tags": []string{}}, nil)
	if _, err := dial("app", "s3cret"); err == nil || !strings.Contains(err.Error(), "access to vhost") {
		t.Fatalf("a user without permissions opened the vhost: %v", err)
	}
	c.mustFail(http.StatusBadRequest, "PUT", "/api/permissions/%2F/app", map[string]any{"configure": "(", "write": ".*", "read": ".*"}, "")
	c.must(http.StatusCreated, "PUT", "/api/permissions/%2F/app", map[string]any{"configure": ".*", "write": ".*", "read": ".*"}, nil)
	conn, err := dial("app", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Channel(); err != nil {
		t.Fatal(err)
	}
	var perms []struct{ User, VHost string }
	c.must(http.StatusOK, "GET", "/api/permissions", nil, &perms)
	if len(perms) != 2 {
		t.Fatalf("permissions: %+v", perms)
	}

	var conns []struct {
		Protocol, User, VHost, Client string
		Channels                      int
	}
	c.must(http.StatusOK, "GET", "/api/connections", nil, &conns)
	if len(conns) != 1 || conns[0].Protocol != "amqp" || conns[0].User != "app" || conns[0].VHost != "/" || conns[0].Channels != 1 {
		t.Fatalf("connections: %+v", conns)
	}
	var ov struct {
		ProductName  string         `json:"product_name"`
		ObjectTotals map[string]int `json:"object_totals"`
		Listeners    []struct{ Protocol string }
	}
	c.must(http.StatusOK, "GET", "/api/overview", nil, &ov)
	if ov.ProductName != "Tern" || ov.ObjectTotals["connections"] != 1 || ov.ObjectTotals["exchanges"] != 6 || len(ov.Listeners) != 3 {
		t.Fatalf("overview: %+v", ov)
	}
	var cl struct {
		ClusterID string `json:"cluster_id"`
		Nodes     []struct {
			ID    int32
			Ready bool
		}
	}
	c.must(http.StatusOK, "GET", "/api/cluster", nil, &cl)
	if cl.ClusterID == "" || len(cl.Nodes) != 1 || !cl.Nodes[0].Ready {
		t.Fatalf("cluster: %+v", cl)
	}

	c.must(http.StatusNoContent, "DELETE", "/api/users/app", nil, nil)
	if _, err := dial("app", "s3cret"); err == nil {
		t.Fatal("a deleted user logged in")
	}
	var users []struct{ Name string }
	c.must(http.StatusOK, "GET", "/api/users", nil, &users)
	if len(users) != 1 || users[0].Name != "guest" {
		t.Fatalf("users: %+v", users)
	}
}

// TestAPIDuringRecovery: before the node attaches its recovered core,
// the API says so (503 with what to watch) and /api/tasks shows the
// recovery's progress.
func TestAPIDuringRecovery(t *testing.T) {
	reg := progress.NewRegistry(nil)
	task := reg.Start("open_logs", "data", "partitions", 10)
	task.Add(4)
	s := admin.New(admin.Config{Progress: reg}, admin.NewMetrics())
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	c := &client{t: t, base: srv.URL, user: "guest", pass: "guest"}
	c.mustFail(http.StatusServiceUnavailable, "GET", "/api/topics", nil, "/api/tasks")
	var tasks []struct {
		Kind        string
		Done, Total int64
		State       string
	}
	c.as("", "").must(http.StatusOK, "GET", "/api/tasks", nil, &tasks)
	if len(tasks) != 1 || tasks[0].Kind != "open_logs" || tasks[0].Done != 4 || tasks[0].Total != 10 || tasks[0].State != "running" {
		t.Fatalf("tasks: %+v", tasks)
	}
}
