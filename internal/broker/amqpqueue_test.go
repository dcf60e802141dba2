package broker

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/broker/queue"
	"github.com/ternmq/tern/internal/storage"
)

// collector is a QueueConsumer that records its deliveries.
type collector struct {
	mu        sync.Mutex
	got       []Delivered
	cancelled bool
	notify    chan struct{}
}

func newCollector() *collector { return &collector{notify: make(chan struct{}, 1000)} }

func (c *collector) Deliver(d Delivered) {
	c.mu.Lock()
	c.got = append(c.got, d)
	c.mu.Unlock()
	c.notify <- struct{}{}
}

func (c *collector) Cancelled() {
	c.mu.Lock()
	c.cancelled = true
	c.mu.Unlock()
}

func (c *collector) wait(t *testing.T, n int) []Delivered {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		c.mu.Lock()
		if len(c.got) >= n {
			out := append([]Delivered(nil), c.got...)
			c.mu.Unlock()
			return out
		}
		c.mu.Unlock()
		select {
		case <-c.notify:
		case <-deadline:
			t.Fatalf("got %d deliveries, want %d", len(c.got), n)
		}
	}
}

func openTestMQueue(t *testing.T, spec MQueueSpec) *MQueue {
	t.Helper()
	if spec.Config == (queue.Config{}) {
		spec.Config = queue.DefaultConfig()
	}
	if spec.MessageTTL == 0 {
		spec.MessageTTL = -1
	}
	q, err := openMQueue(t.TempDir(), spec, storage.SyncAlways, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	q.start()
	t.Cleanup(func() { q.close(false) })
	return q
}

func TestMQueuePrefetchAckAndRequeue(t *testing.T) {
	q := openTestMQueue(t, MQueueSpec{Name: "work", Durable: true})
	for i := 0; i < 5; i++ {
		ok, wait, err := q.Publish(QueueMessage{RoutingKey: "work", Body: []byte(fmt.Sprint(i)), Persistent: true, Timestamp: time.Now().UnixMilli()})
		if err != nil || !ok {
			t.Fatalf("publish %d: %v %v", i, ok, err)
		}
		if err := wait(); err != nil {
			t.Fatal(err)
		}
	}
	c := newCollector()
	if err := q.Consume(queue.ConsumerSpec{ID: 1, Channel: 1, Prefetch: 2}, c); err != nil {
		t.Fatal(err)
	}
	got := c.wait(t, 2)
	time.Sleep(50 * time.Millisecond)
	if n := len(c.got); n != 2 {
		t.Fatalf("prefetch 2 but %d delivered", n)
	}
	if string(got[0].Message.Body) != "0" || string(got[1].Message.Body) != "1" {
		t.Fatalf("delivered %q, %q", got[0].Message.Body, got[1].Message.Body)
	}
	// Reject the second with requeue: with the one credit that frees, it
	// is delivered again before anything newer. Then ack the first.
	if err := q.Reject(1, 0, true, got[1].Offset); err != nil {
		t.Fatal(err)
	}
	c.wait(t, 3)
	if err := q.Ack(1, 0, got[0].Offset); err != nil {
		t.Fatal(err)
	}
	got = c.wait(t, 4)
	if string(got[2].Message.Body) != "1" || !got[2].Redelivered {
		t.Fatalf("after requeue got %q redelivered=%v, want \"1\" redelivered", got[2].Message.Body, got[2].Redelivered)
	}
	if err := q.Ack(1, 0, 999); err == nil {
		t.Fatal("ack of an unknown delivery succeeded")
	}
}

// TestMQueueAcksSurviveReopen acks some messages, leaves one delivered
// but unacked, reopens the queue and checks acked ones are gone and the
// unacked one comes back redelivered.
func TestMQueueAcksSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	spec := MQueueSpec{Name: "durable", Durable: true, Config: queue.DefaultConfig(), MessageTTL: -1}
	q, err := openMQueue(dir, spec, storage.SyncAlways, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	q.start()
	for i := 0; i < 6; i++ {
		if _, wait, err := q.Publish(QueueMessage{Body: []byte(fmt.Sprint(i)), Persistent: true}); err != nil || wait() != nil {
			t.Fatal(err)
		}
	}
	c := newCollector()
	q.Consume(queue.ConsumerSpec{ID: 1, Channel: 1, Prefetch: 3}, c)
	got := c.wait(t, 3)
	q.Ack(1, 0, got[0].Offset, got[2].Offset) // 1 stays unacked
	if err := q.close(false); err != nil {
		t.Fatal(err)
	}

	q, err = openMQueue(dir, spec, storage.SyncAlways, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	q.start()
	defer q.close(false)
	if st := q.Stats(); st.Ready != 4 {
		t.Fatalf("ready after reopen = %d, want 4 (1 redelivered + 3 never delivered)", st.Ready)
	}
	c2 := newCollector()
	q.Consume(queue.ConsumerSpec{ID: 2, Channel: 2}, c2)
	got = c2.wait(t, 4)
	if string(got[0].Message.Body) != "1" || !got[0].Redelivered {
		t.Fatalf("first after reopen: %q redelivered=%v", got[0].Message.Body, got[0].Redelivered)
	}
	for i, want := range []string{"3", "4", "5"} {
		if d := got[i+1]; string(d.Message.Body) != want || d.Redelivered {
			t.Fatalf("delivery %d: %q redelivered=%v, want %q fresh", i+1, d.Message.Body, d.Redelivered, want)
		}
	}
}

// Concurrent publishers to a reject-publish queue with one place left:
// exactly one is taken, and every other publisher is told (no confirm
// for a message that was then dropped).
func TestMQueueRejectPublishAdmitsExactly(t *testing.T) {
	cfg := queue.DefaultConfig()
	cfg.MaxLength, cfg.Overflow = 1, queue.RejectPublish
	q := openTestMQueue(t, MQueueSpec{Name: "one-place", Durable: true, Config: cfg})
	const publishers = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	confirmed := 0
	for i := range publishers {
		wg.Go(func() {
			ok, wait, err := q.Publish(QueueMessage{Body: []byte(fmt.Sprint(i)), Persistent: true, Timestamp: time.Now().UnixMilli()})
			if err != nil {
				t.Error(err)
				return
			}
			if ok && wait() == nil {
				mu.Lock()
				confirmed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if st := q.Stats(); confirmed != 1 || st.Ready != 1 {
		t.Fatalf("%d publishes confirmed, %d ready; want exactly 1 of each", confirmed, st.Ready)
	}
}

// A publish is visible to basic.get, Stats and Purge at once, even before
// any delivery loop pass wrote its batch.
func TestMQueuePendingPublishesAreVisible(t *testing.T) {
	q := openTestMQueue(t, MQueueSpec{Name: "visible"})
	for i := range 3 {
		if ok, _, err := q.Publish(QueueMessage{Body: []byte(fmt.Sprint(i)), Timestamp: time.Now().UnixMilli()}); !ok || err != nil {
			t.Fatalf("publish %d: %v %v", i, ok, err)
		}
	}
	if st := q.Stats(); st.Ready != 3 {
		t.Fatalf("ready = %d right after 3 publishes, want 3", st.Ready)
	}
	d, ok, err := q.Get(7, true)
	if err != nil || !ok || string(d.Message.Body) != "0" {
		t.Fatalf("get: %q %v %v", d.Message.Body, ok, err)
	}
	q.Publish(QueueMessage{Body: []byte("3"), Timestamp: time.Now().UnixMilli()})
	if n := q.Purge(); n != 3 {
		t.Fatalf("purge removed %d, want 3", n)
	}
}
