package amqp_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"

	"github.com/ternmq/tern/internal/testbroker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func dial(t *testing.T, b *testbroker.Broker) (*amqp.Connection, *amqp.Channel) {
	t.Helper()
	conn, err := amqp.Dial(b.AMQPURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return conn, ch
}

func recv(t *testing.T, ds <-chan amqp.Delivery) amqp.Delivery {
	t.Helper()
	select {
	case d, ok := <-ds:
		if !ok {
			t.Fatal("delivery channel closed")
		}
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery within 5s")
	}
	return amqp.Delivery{}
}

func TestPublishConsumeAckWithConfirms(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	q, err := ch.QueueDeclare("tasks", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 100))
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		err := ch.PublishWithContext(ctx, "", q.Name, false, false, amqp.Publishing{
			ContentType: "text/plain", DeliveryMode: amqp.Persistent, Body: []byte(fmt.Sprint(i)),
			Headers: amqp.Table{"n": int32(i)},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20; i++ {
		select {
		case c := <-confirms:
			if !c.Ack {
				t.Fatalf("publish %d nacked", c.DeliveryTag)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("missing confirm")
		}
	}
	if err := ch.Qos(5, 0, false); err != nil {
		t.Fatal(err)
	}
	ds, err := ch.Consume(q.Name, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		d := recv(t, ds)
		if string(d.Body) != fmt.Sprint(i) || d.ContentType != "text/plain" || d.Headers["n"] != int32(i) {
			t.Fatalf("delivery %d: body %q type %q headers %v", i, d.Body, d.ContentType, d.Headers)
		}
		if err := d.Ack(false); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNackRequeueRedeliversInPlace(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	q, _ := ch.QueueDeclare("", false, true, true, false, nil)
	for _, s := range []string{"a", "b", "c"} {
		ch.PublishWithContext(context.Background(), "", q.Name, false, false, amqp.Publishing{Body: []byte(s)})
	}
	ds, err := ch.Consume(q.Name, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := recv(t, ds)
	recv(t, ds)
	recv(t, ds)
	if err := a.Nack(false, true); err != nil {
		t.Fatal(err)
	}
	again := recv(t, ds)
	if string(again.Body) != "a" || !again.Redelivered {
		t.Fatalf("redelivery %q redelivered=%v", again.Body, again.Redelivered)
	}
}

func TestExchangeRoutingTypes(t *testing.T) {
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ch.ExchangeDeclare("logs", "topic", false, true, false, false, nil))
	qa, _ := ch.QueueDeclare("", false, true, true, false, nil)
	qb, _ := ch.QueueDeclare("", false, true, true, false, nil)
	must(ch.QueueBind(qa.Name, "app.*.error", "logs", false, nil))
	must(ch.QueueBind(qb.Name, "app.#", "logs", false, nil))
	must(ch.PublishWithContext(ctx, "logs", "app.web.error", false, false, amqp.Publishing{Body: []byte("1")}))
	must(ch.PublishWithContext(ctx, "logs", "app.web.info", false, false, amqp.Publishing{Body: []byte("2")}))
	time.Sleep(100 * time.Millisecond)
	count := func(q string) int {
		n := 0
		for {
			_, ok, err := ch.Get(q, true)
			must(err)
			if !ok {
				return n
			}
			n++
		}
	}
	if a, bb := count(qa.Name), count(qb.Name); a != 1 || bb != 2 {
		t.Fatalf("topic routing: %d and %d messages, want 1 and 2", a, bb)
	}
	// Mandatory publish to nowhere comes back as basic.return.
	returns := ch.NotifyReturn(make(chan amqp.Return, 1))
	must(ch.PublishWithContext(ctx, "logs", "nobody.listens", true, false, amqp.Publishing{Body: []byte("r")}))
	select {
	case r := <-returns:
		if r.ReplyCode != 312 || string(r.Body) != "r" {
			t.Fatalf("return %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no basic.return for an unroutable mandatory message")
	}
}

func TestChannelErrorsCloseOnlyTheChannel(t *testing.T) {
	b := testbroker.Start(t)
	conn, ch := dial(t, b)
	// NotifyClose before the call that closes the channel: registered
	// after the close, it hands back a closed chan (nil).
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	err := ch.PublishWithContext(context.Background(), "missing-exchange", "k", false, false, amqp.Publishing{Body: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-closed:
		if e == nil || e.Code != 404 {
			t.Fatalf("channel closed with %v, want 404", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("publishing to a missing exchange did not close the channel")
	}
	ch2, err := conn.Channel()
	if err != nil {
		t.Fatalf("connection did not survive a channel error: %v", err)
	}
	if _, err := ch2.QueueDeclarePassive("no-such-queue", false, false, false, false, nil); err == nil {
		t.Fatal("passive declare of a missing queue succeeded")
	} else if e, ok := err.(*amqp.Error); !ok || e.Code != 404 {
		t.Fatalf("passive declare error %v, want 404", err)
	}
	ch3, _ := conn.Channel()
	closed3 := ch3.NotifyClose(make(chan *amqp.Error, 1))
	if err := ch3.Ack(42, false); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-closed3:
		if e == nil || e.Code != 406 {
			t.Fatalf("ack of unknown tag closed with %v, want 406", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ack of an unknown delivery tag did not close the channel")
	}
}

func TestWrongPasswordIsRefused(t *testing.T) {
	b := testbroker.Start(t)
	_, err := amqp.Dial("amqp://guest:wrong@" + b.AMQPAddr + "/")
	if err == nil {
		t.Fatal("wrong password accepted")
	}
	if _, err := amqp.Dial("amqp://guest:guest@" + b.AMQPAddr + "/no-such-vhost"); err == nil {
		t.Fatal("unknown vhost accepted")
	}
}

func TestDurableQueueSurvivesRestart(t *testing.T) {
	b := testbroker.Start(t)
	conn, ch := dial(t, b)
	if _, err := ch.QueueDeclare("keep", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	ch.Confirm(false)
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 10))
	for i := 0; i < 3; i++ {
		ch.PublishWithContext(context.Background(), "", "keep", false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte(fmt.Sprint(i))})
		<-confirms
	}
	d, ok, err := ch.Get("keep", false)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	d.Ack(false)
	conn.Close()
	b.Restart()
	_, ch = dial(t, b)
	q, err := ch.QueueDeclarePassive("keep", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if q.Messages != 2 {
		t.Fatalf("%d messages after restart, want 2 (one was acked)", q.Messages)
	}
	d, ok, _ = ch.Get("keep", true)
	if !ok || string(d.Body) != "1" {
		t.Fatalf("first after restart %q", d.Body)
	}
}
