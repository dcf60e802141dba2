package interop_test

import (
	"fmt"
	"testing"
	"time"
)

// pikaMsg is one delivery as pika_roundtrip.py records it.
type pikaMsg struct {
	Body          string         `json:"body"`
	ContentType   *string        `json:"content_type"`
	Headers       map[string]any `json:"headers"`
	CorrelationID *string        `json:"correlation_id"`
	MessageID     *string        `json:"message_id"`
	DeliveryMode  *int           `json:"delivery_mode"`
	Redelivered   bool           `json:"redelivered"`
}

type pikaGet struct {
	Body         string `json:"body"`
	MessageCount int    `json:"message_count"`
	Redelivered  bool   `json:"redelivered"`
}

type pikaResult struct {
	DeclareOK struct {
		Queue         string `json:"queue"`
		MessageCount  int    `json:"message_count"`
		ConsumerCount int    `json:"consumer_count"`
	} `json:"declare_ok"`
	Confirmed         int                 `json:"confirmed"`
	CountAfterPublish int                 `json:"count_after_publish"`
	Consumed          []pikaMsg           `json:"consumed"`
	MaxUnacked        int                 `json:"max_unacked"`
	CountAfterConsume int                 `json:"count_after_consume"`
	Gets              []*pikaGet          `json:"gets"`
	Topic             map[string][]string `json:"topic"`
	Requeue           []pikaMsg           `json:"requeue"`
	RequeueLeft       int                 `json:"requeue_left"`
}

func strp(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// TestPikaRoundTrip drives pika (python3-pika) through
// testdata/pika_roundtrip.py: a durable queue, N persistent messages with
// publisher confirms and content_type, headers, correlation_id and
// message_id; a consumer with basic_qos(prefetch_count=10) and manual acks
// that must see every message exactly once, in publish order, with its
// properties, never more than 10 unacked; basic_get (with message_count
// and get-empty); a topic exchange with "a.*" and "#.z" bindings; and
// basic_nack with requeue, whose redelivery must carry redelivered=true.
func TestPikaRoundTrip(t *testing.T) {
	interop(t)
	needPython(t, "pika")
	b := startBroker(t)
	const n = 200
	var r pikaResult
	runPy(t, 60*time.Second, &r, "pika_roundtrip.py", "--url", b.AMQPURL, "--prefix", "pika", "--count", fmt.Sprint(n))

	if r.DeclareOK.Queue != "pika-q" || r.DeclareOK.MessageCount != 0 || r.DeclareOK.ConsumerCount != 0 {
		t.Errorf("queue.declare-ok = %+v, want pika-q, 0 messages, 0 consumers", r.DeclareOK)
	}
	if r.Confirmed != n || r.CountAfterPublish != n {
		t.Errorf("confirmed %d, queue depth after publish %d; want %d, %d", r.Confirmed, r.CountAfterPublish, n, n)
	}
	if len(r.Consumed) != n {
		t.Errorf("consumer got %d messages, want %d", len(r.Consumed), n)
	}
	seen := map[string]int{}
	for i, m := range r.Consumed {
		seen[m.Body]++
		want := fmt.Sprintf("m%d-pika", i)
		if m.Body != want {
			t.Errorf("delivery %d: body %q, want %q (publish order)", i, m.Body, want)
			continue
		}
		hi, _ := m.Headers["i"].(float64)
		if strp(m.ContentType) != "text/plain" || strp(m.CorrelationID) != fmt.Sprintf("c%d", i) ||
			strp(m.MessageID) != fmt.Sprintf("id%d", i) || m.DeliveryMode == nil || *m.DeliveryMode != 2 ||
			len(m.Headers) != 2 || hi != float64(i) || m.Headers["tag"] != "pika" || m.Redelivered {
			t.Errorf("delivery %d (%s): content_type %s, correlation_id %s, message_id %s, delivery_mode %v, headers %v, redelivered %v; want text/plain, c%d, id%d, 2, {i:%d tag:pika}, false",
				i, m.Body, strp(m.ContentType), strp(m.CorrelationID), strp(m.MessageID), m.DeliveryMode, m.Headers, m.Redelivered, i, i, i)
		}
	}
	for body, c := range seen {
		if c != 1 {
			t.Errorf("%s delivered %d times", body, c)
		}
	}
	if r.MaxUnacked < 1 || r.MaxUnacked > 10 {
		t.Errorf("at most %d deliveries unacked at once, want 1..10 (prefetch_count=10)", r.MaxUnacked)
	}
	if r.CountAfterConsume != 0 {
		t.Errorf("queue depth after consuming and acking all: %d, want 0", r.CountAfterConsume)
	}

	wantGets := []*pikaGet{{Body: "g0", MessageCount: 1}, {Body: "g1", MessageCount: 0}, nil}
	if len(r.Gets) != 3 {
		t.Errorf("basic_get results %v, want 3", r.Gets)
	} else {
		for i, w := range wantGets {
			g := r.Gets[i]
			if (g == nil) != (w == nil) || (g != nil && *g != *w) {
				t.Errorf("basic_get %d = %+v, want %+v (nil: get-empty)", i, g, w)
			}
		}
	}

	if got := fmt.Sprint(r.Topic["a.*"]); got != "[a.b a.z]" {
		t.Errorf("queue bound by a.* got %s, want [a.b a.z]", got)
	}
	if got := fmt.Sprint(r.Topic["#.z"]); got != "[a.z b.z]" {
		t.Errorf("queue bound by #.z got %s, want [a.z b.z]", got)
	}

	if len(r.Requeue) != 2 || r.Requeue[0].Body != "again" || r.Requeue[0].Redelivered ||
		r.Requeue[1].Body != "again" || !r.Requeue[1].Redelivered {
		t.Errorf("nack(requeue) deliveries %+v, want [again redelivered=false, again redelivered=true]", r.Requeue)
	}
	if r.RequeueLeft != 0 {
		t.Errorf("requeue queue depth after ack: %d, want 0", r.RequeueLeft)
	}
}
