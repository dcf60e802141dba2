package amqp_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/ternmq/tern/internal/testbroker"
)

func publish(t *testing.T, ch *amqp.Channel, queue string, p amqp.Publishing) {
	t.Helper()
	if err := ch.PublishWithContext(context.Background(), "", queue, false, false, p); err != nil {
		t.Fatal(err)
	}
}

func drain(t *testing.T, ch *amqp.Channel, queue string) []string {
	t.Helper()
	var out []string
	for {
		d, ok, err := ch.Get(queue, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, string(d.Body))
	}
}

func TestMessageTTLAndExpiration(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	if _, err := ch.QueueDeclare("ttl", false, true, false, false, amqp.Table{"x-message-ttl": int32(100)}); err != nil {
		t.Fatal(err)
	}
	publish(t, ch, "ttl", amqp.Publishing{Body: []byte("old")})
	time.Sleep(250 * time.Millisecond)
	publish(t, ch, "ttl", amqp.Publishing{Body: []byte("new")})
	publish(t, ch, "ttl", amqp.Publishing{Body: []byte("short"), Expiration: "0"})
	if got := drain(t, ch, "ttl"); len(got) != 1 || got[0] != "new" {
		t.Fatalf("got %v, want only the unexpired message", got)
	}
}

func TestMaxLengthOverflow(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	ch.QueueDeclare("drop", false, true, false, false, amqp.Table{"x-max-length": int32(2)})
	for i := 0; i < 4; i++ {
		publish(t, ch, "drop", amqp.Publishing{Body: []byte(fmt.Sprint(i))})
	}
	if got := drain(t, ch, "drop"); fmt.Sprint(got) != "[2 3]" {
		t.Fatalf("drop-head kept %v, want [2 3]", got)
	}
	ch.QueueDeclare("reject", false, true, false, false, amqp.Table{"x-max-length": int32(1), "x-overflow": "reject-publish"})
	ch.Confirm(false)
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 2))
	publish(t, ch, "reject", amqp.Publishing{Body: []byte("in")})
	publish(t, ch, "reject", amqp.Publishing{Body: []byte("out")})
	if c := <-confirms; !c.Ack {
		t.Fatal("first publish nacked")
	}
	if c := <-confirms; c.Ack {
		t.Fatal("publish over the limit with reject-publish was acked")
	}
}

func TestPriorityQueue(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	ch.QueueDeclare("prio", false, true, false, false, amqp.Table{"x-max-priority": int32(5)})
	publish(t, ch, "prio", amqp.Publishing{Body: []byte("low"), Priority: 1})
	publish(t, ch, "prio", amqp.Publishing{Body: []byte("high"), Priority: 5})
	publish(t, ch, "prio", amqp.Publishing{Body: []byte("none")})
	if got := drain(t, ch, "prio"); fmt.Sprint(got) != "[high low none]" {
		t.Fatalf("priority order %v", got)
	}
}

func TestExclusiveQueueIsLocked(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	if _, err := ch.QueueDeclare("mine", false, false, true, false, nil); err != nil {
		t.Fatal(err)
	}
	_, other := dial(t, b)
	_, err := other.QueueDeclare("mine", false, false, true, false, nil)
	if e, ok := err.(*amqp.Error); !ok || e.Code != 405 {
		t.Fatalf("declare of another connection's exclusive queue: %v, want 405", err)
	}
}

func TestTransactions(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	ch.QueueDeclare("txq", false, true, false, false, nil)
	if err := ch.Tx(); err != nil {
		t.Fatal(err)
	}
	publish(t, ch, "txq", amqp.Publishing{Body: []byte("rolled-back")})
	if err := ch.TxRollback(); err != nil {
		t.Fatal(err)
	}
	publish(t, ch, "txq", amqp.Publishing{Body: []byte("committed")})
	_, peek := dial(t, b)
	if got := drain(t, peek, "txq"); len(got) != 0 {
		t.Fatalf("uncommitted publish visible: %v", got)
	}
	if err := ch.TxCommit(); err != nil {
		t.Fatal(err)
	}
	if got := drain(t, peek, "txq"); fmt.Sprint(got) != "[committed]" {
		t.Fatalf("after commit: %v", got)
	}
}

func TestQueueDeleteCancelsConsumers(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	ch.QueueDeclare("going", false, false, false, false, nil)
	cancels := ch.NotifyCancel(make(chan string, 1))
	if _, err := ch.Consume("going", "c1", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	_, admin := dial(t, b)
	if _, err := admin.QueueDelete("going", false, false, false); err != nil {
		t.Fatal(err)
	}
	select {
	case tag := <-cancels:
		if tag != "c1" {
			t.Fatalf("cancel for %q", tag)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no server-initiated basic.cancel after queue.delete")
	}
}

func TestUnackedMessagesRequeuedOnChannelClose(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	ch.QueueDeclare("work", false, false, false, false, nil)
	publish(t, ch, "work", amqp.Publishing{Body: []byte("job")})
	d, ok, err := ch.Get("work", false)
	if err != nil || !ok || d.Redelivered {
		t.Fatalf("get: %v %v %v", ok, err, d.Redelivered)
	}
	ch.Close()
	_, ch2 := dial(t, b)
	d, ok, _ = ch2.Get("work", false)
	if !ok || string(d.Body) != "job" || !d.Redelivered {
		t.Fatalf("after channel close: ok=%v body=%q redelivered=%v", ok, d.Body, d.Redelivered)
	}
}

func TestDeadLetteringWithXDeath(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ch.ExchangeDeclare("dlx", "direct", false, true, false, false, nil))
	_, err := ch.QueueDeclare("dead", false, true, false, false, nil)
	must(err)
	must(ch.QueueBind("dead", "parked", "dlx", false, nil))
	_, err = ch.QueueDeclare("work", false, true, false, false, amqp.Table{
		"x-dead-letter-exchange": "dlx", "x-dead-letter-routing-key": "parked", "x-message-ttl": int32(50),
	})
	must(err)
	publish(t, ch, "work", amqp.Publishing{Body: []byte("rejected"), Headers: amqp.Table{"app": "x"}})
	d, ok, err := ch.Get("work", false)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	must(d.Reject(false))
	publish(t, ch, "work", amqp.Publishing{Body: []byte("expired")})
	deadline := time.Now().Add(5 * time.Second)
	var got []amqp.Delivery
	for len(got) < 2 && time.Now().Before(deadline) {
		if d, ok, _ := ch.Get("dead", true); ok {
			got = append(got, d)
			continue
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(got) != 2 {
		t.Fatalf("%d messages dead-lettered, want 2", len(got))
	}
	reasons := map[string]string{}
	for _, d := range got {
		deaths, _ := d.Headers["x-death"].([]any)
		if len(deaths) != 1 {
			t.Fatalf("%q: x-death %v", d.Body, d.Headers["x-death"])
		}
		entry := deaths[0].(amqp.Table)
		if entry["queue"] != "work" || entry["count"] != int64(1) {
			t.Fatalf("%q: x-death entry %v", d.Body, entry)
		}
		reasons[string(d.Body)] = entry["reason"].(string)
		if d.RoutingKey != "parked" {
			t.Fatalf("dead-lettered with routing key %q", d.RoutingKey)
		}
	}
	if reasons["rejected"] != "rejected" || reasons["expired"] != "expired" {
		t.Fatalf("reasons %v", reasons)
	}
	if got[0].Headers["app"] != "x" && got[1].Headers["app"] != "x" {
		t.Fatal("application headers lost in dead-lettering")
	}
}

func TestSingleActiveConsumer(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	ch.QueueDeclare("sac", false, false, false, false, amqp.Table{"x-single-active-consumer": true})
	_, ch1 := dial(t, b)
	_, ch2 := dial(t, b)
	d1, err := ch1.Consume("sac", "first", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := ch2.Consume("sac", "second", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		publish(t, ch, "sac", amqp.Publishing{Body: []byte(fmt.Sprint(i))})
	}
	for i := 0; i < 4; i++ {
		d := recv(t, d1)
		d.Ack(false)
	}
	select {
	case d := <-d2:
		t.Fatalf("inactive consumer got %q", d.Body)
	case <-time.After(100 * time.Millisecond):
	}
	ch1.Close() // the active consumer leaves: the next one takes over
	publish(t, ch, "sac", amqp.Publishing{Body: []byte("after")})
	if d := recv(t, d2); string(d.Body) != "after" {
		t.Fatalf("second consumer got %q", d.Body)
	}
}

func TestConsumerPriority(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	ch.QueueDeclare("cp", false, false, false, false, nil)
	_, lowCh := dial(t, b)
	_, highCh := dial(t, b)
	low, _ := lowCh.Consume("cp", "low", false, false, false, false, amqp.Table{"x-priority": int32(1)})
	high, _ := highCh.Consume("cp", "high", false, false, false, false, amqp.Table{"x-priority": int32(10)})
	for i := 0; i < 5; i++ {
		publish(t, ch, "cp", amqp.Publishing{Body: []byte(fmt.Sprint(i))})
	}
	for i := 0; i < 5; i++ {
		recv(t, high).Ack(false)
	}
	select {
	case d := <-low:
		t.Fatalf("low-priority consumer got %q while the high one had credit", d.Body)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestQueueExpires(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	if _, err := ch.QueueDeclare("short-lived", false, false, false, false, amqp.Table{"x-expires": int32(200)}); err != nil {
		t.Fatal(err)
	}
	// A declare counts as use, so probe rarely: expiry is checked each second.
	deadline := time.Now().Add(6 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(1500 * time.Millisecond)
		_, probe := dial(t, b)
		if _, err := probe.QueueDeclarePassive("short-lived", false, false, false, false, nil); err != nil {
			return // gone, as x-expires says
		}
	}
	t.Fatal("queue with x-expires=200ms still exists after 5s unused")
}

func TestRejectPublishDLX(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	ch.ExchangeDeclare("overflow", "fanout", false, true, false, false, nil)
	ch.QueueDeclare("spill", false, false, false, false, nil)
	ch.QueueBind("spill", "", "overflow", false, nil)
	ch.QueueDeclare("bounded", false, false, false, false, amqp.Table{
		"x-max-length": int32(1), "x-overflow": "reject-publish-dlx", "x-dead-letter-exchange": "overflow",
	})
	publish(t, ch, "bounded", amqp.Publishing{Body: []byte("kept")})
	publish(t, ch, "bounded", amqp.Publishing{Body: []byte("spilled")})
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if d, ok, _ := ch.Get("spill", true); ok {
			if string(d.Body) != "spilled" {
				t.Fatalf("dead-lettered %q", d.Body)
			}
			if got := drain(t, ch, "bounded"); fmt.Sprint(got) != "[kept]" {
				t.Fatalf("bounded queue holds %v", got)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("refused message was not dead-lettered")
}

// A burst of confirms mixes acks and nacks: each publish gets its own
// verdict even when acks go out as one multiple=true ack.
func TestConfirmBurstMixesAcksAndNacks(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	ch.QueueDeclare("burst", true, false, false, false, amqp.Table{"x-max-length": int32(3), "x-overflow": "reject-publish"})
	ch.Confirm(false)
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 200))
	for i := 0; i < 6; i++ {
		publish(t, ch, "burst", amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte(fmt.Sprint(i))})
	}
	ch.QueuePurge("burst", false)
	for i := 0; i < 100; i++ {
		publish(t, ch, "", amqp.Publishing{Body: []byte("unrouted")})
	}
	for tag := uint64(1); tag <= 106; tag++ {
		select {
		case c := <-confirms:
			wantAck := tag <= 3 || tag > 6
			if c.DeliveryTag != tag || c.Ack != wantAck {
				t.Fatalf("confirm %+v, want tag %d ack=%v", c, tag, wantAck)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no confirm for publish %d", tag)
		}
	}
}

// Deleting a queue while its delivery loop is busy dead-lettering must
// not hang: the loop republishes through the vhost, and the delete waits
// for the loop.
func TestDeleteQueueWhileDeadLettering(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	ch.QueueDeclare("dl-target", false, false, false, false, nil)
	ch.QueueDeclare("dl-src", false, false, false, false, amqp.Table{
		"x-max-length": int32(1), "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dl-target",
	})
	_, pub := dial(t, b)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			// Errors end the loop: the queue may be gone already.
			if pub.PublishWithContext(context.Background(), "", "dl-src", false, false, amqp.Publishing{Body: []byte("x")}) != nil {
				return
			}
		}
	}()
	time.Sleep(200 * time.Millisecond)
	deleted := make(chan error, 1)
	go func() {
		_, err := ch.QueueDelete("dl-src", false, false, false)
		deleted <- err
	}()
	select {
	case err := <-deleted:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("queue.delete hung while the queue was dead-lettering")
	}
	close(stop)
	<-done
}
