package amqp_test

import (
	"context"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/ternmq/tern/internal/amqp/spec"
	"github.com/ternmq/tern/internal/testbroker"
)

// A consumer whose client stops reading its socket must not hold up the
// queue's other consumers: once its connection's buffer is full the queue
// passes it over, as it would a consumer out of credit.
func TestStalledConsumerDoesNotHoldUpOthers(t *testing.T) {
	const (
		messages = 800
		size     = 64 << 10 // 50 MiB in all: far more than one stalled socket holds
	)
	b := testbroker.Start(t)
	_, ch := dial(t, b)
	if _, err := ch.QueueDeclare("shared", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}

	// The stalled consumer: no-ack, no prefetch limit, never reads.
	stalled := dialRaw(t, b.AMQPAddr)
	stalled.handshake()
	stalled.send(1, &spec.ChannelOpen{})
	stalled.next()
	stalled.send(1, &spec.BasicConsume{Queue: "shared", ConsumerTag: "stalled", NoAck: true})
	if _, m := stalled.next(); m.Name() != "basic.consume-ok" {
		t.Fatalf("got %s, want basic.consume-ok", m.Name())
	}

	_, cch := dial(t, b)
	ds, err := cch.Consume("shared", "healthy", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, size)
	for range messages {
		if err := ch.PublishWithContext(context.Background(), "", "shared", false, false, amqp.Publishing{Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	// Round-robin would give the healthy consumer half; the stalled one
	// can only take what fits in socket buffers and its outbox (~10 MiB,
	// some 170 messages), so the healthy one gets the rest.
	got := 0
	deadline := time.After(20 * time.Second)
	for got < messages-300 {
		select {
		case <-ds:
			got++
		case <-deadline:
			t.Fatalf("healthy consumer got %d of %d messages; the stalled one holds up the queue", got, messages)
		}
	}
}
