package amqp_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/ternmq/tern/internal/amqp/spec"
	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/testbroker"
)

// TestExternalLoginWithClientCertificate: on amqps a verified client
// certificate offers EXTERNAL, which logs in as the user its common name
// names; a certificate naming no user is refused, and without a
// certificate EXTERNAL is not offered at all.
func TestExternalLoginWithClientCertificate(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithTLS("requested"))
	ctx := context.Background()
	bk := b.Node().Broker
	if _, err := bk.PutUser(ctx, "alice", "not-used-here", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := bk.SetPermission(ctx, broker.Permission{User: "alice", VHost: "/", Configure: ".*", Write: ".*", Read: ".*"}); err != nil {
		t.Fatal(err)
	}
	url := "amqps://" + b.AMQPSAddr + "/"
	withCert := func(cn string) *tls.Config {
		cfg := &tls.Config{RootCAs: b.CA.Pool, ServerName: "localhost"}
		if cn != "" {
			cfg.Certificates = []tls.Certificate{b.CA.Client(cn).TLS}
		}
		return cfg
	}

	conn, err := amqp.DialTLS_ExternalAuth(url, withCert("alice"))
	if err != nil {
		t.Fatalf("EXTERNAL as alice: %v", err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("alice-q", false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if users := connectionUsers(b); !users["alice"] {
		t.Fatalf("connection users %v, want alice", users)
	}
	conn.Close()

	_, err = amqp.DialTLS_ExternalAuth(url, withCert("mallory"))
	var aerr *amqp.Error
	if !errors.As(err, &aerr) || aerr.Code != amqp.AccessRefused {
		t.Fatalf("EXTERNAL as an unknown user: %v", err)
	}
	if _, err := amqp.DialTLS_ExternalAuth(url, withCert("")); !errors.Is(err, amqp.ErrSASL) {
		t.Fatalf("EXTERNAL without a certificate: %v, want the mechanism not offered", err)
	}
	// A password still works beside a certificate.
	conn, err = amqp.DialTLS("amqps://guest:guest@"+b.AMQPSAddr+"/", withCert("alice"))
	if err != nil {
		t.Fatalf("PLAIN over TLS with a certificate: %v", err)
	}
	conn.Close()
}

func connectionUsers(b *testbroker.Broker) map[string]bool {
	out := map[string]bool{}
	for _, c := range b.Node().ConnInfos() {
		out[c.User] = true
	}
	return out
}

// TestConnectionsPerUserLimit: max.connections.per.user refuses a user's
// connection past the limit with 530, leaves other users alone, and
// frees the slot when a connection closes.
func TestConnectionsPerUserLimit(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(func(c *config.Config) { c.Limits.MaxConnectionsPerUser = 1 }))
	ctx := context.Background()
	bk := b.Node().Broker
	if _, err := bk.PutUser(ctx, "bob", "pw", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := bk.SetPermission(ctx, broker.Permission{User: "bob", VHost: "/", Configure: ".*", Write: ".*", Read: ".*"}); err != nil {
		t.Fatal(err)
	}
	first, err := amqp.Dial(b.AMQPURL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = amqp.Dial(b.AMQPURL)
	var aerr *amqp.Error
	if !errors.As(err, &aerr) || aerr.Code != amqp.NotAllowed {
		t.Fatalf("second guest connection: %v, want 530", err)
	}
	bobConn, err := amqp.Dial("amqp://bob:pw@" + b.AMQPAddr + "/")
	if err != nil {
		t.Fatalf("another user: %v", err)
	}
	bobConn.Close()
	first.Close()
	// The slot frees once the broker has finished with the connection,
	// just after the client saw close-ok.
	deadline := time.Now().Add(10 * time.Second)
	for {
		again, err := amqp.Dial(b.AMQPURL)
		if err == nil {
			again.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the first closed: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestConnectionMemoryBoundsBodiesInProgress: with max.connection.memory
// at 1000 bytes, a publish whose body would take the bodies being
// received on the connection past it is refused with 406 on its channel,
// while the one in progress completes; a message alone may be larger,
// and completed bodies give their share back.
func TestConnectionMemoryBoundsBodiesInProgress(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(func(c *config.Config) { c.Limits.ConnectionMemory = 1000 }))
	r := dialRaw(t, b.AMQPAddr)
	r.handshake()
	for ch := uint16(1); ch <= 4; ch++ {
		r.send(ch, &spec.ChannelOpen{})
		if _, m := r.next(); m.Name() != "channel.open-ok" {
			t.Fatalf("got %s", m.Name())
		}
	}
	r.send(1, &spec.QueueDeclare{Queue: "mem-q"})
	r.next()
	header := func(ch uint16, size uint64) {
		r.send(ch, &spec.BasicPublish{RoutingKey: "mem-q"})
		h, err := spec.AppendHeaderFrame(nil, ch, &spec.ContentHeader{ClassID: spec.ClassBasic, BodySize: size})
		if err != nil {
			t.Fatal(err)
		}
		r.write(h)
	}
	body := func(ch uint16, n int) {
		f, err := spec.AppendFrame(nil, spec.Frame{Type: spec.FrameBody, Channel: ch, Payload: bytes.Repeat([]byte{'x'}, n)})
		if err != nil {
			t.Fatal(err)
		}
		r.write(f)
	}
	header(1, 800)
	body(1, 400)
	header(2, 300) // 800 + 300 > 1000
	r.expectChannelClose(2, spec.PreconditionFailed)
	body(1, 400) // the first completes
	header(3, 1200)
	body(3, 1200)  // alone, larger than the limit: allowed
	header(4, 900) // the budget was given back by both
	body(4, 900)
	for _, want := range []int{800, 1200, 900} {
		r.send(1, &spec.BasicGet{Queue: "mem-q", NoAck: true})
		if _, m := r.next(); m.Name() != "basic.get-ok" {
			t.Fatalf("basic.get: %s, want a %d-byte message", m.Name(), want)
		}
		got := 0
		for got < want {
			f, err := spec.ReadFrame(r.br, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if f.Type == spec.FrameBody {
				got += len(f.Payload)
			}
		}
		if got != want {
			t.Fatalf("got a %d-byte body, want %d", got, want)
		}
	}
}

// TestFailedLoginsAreThrottled: past auth.failures.per.minute wrong
// passwords from one address, even the right password is refused for the
// rest of the minute, and the refusal says why.
func TestFailedLoginsAreThrottled(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(func(c *config.Config) { c.Limits.AuthFailuresPerMinute = 2 }))
	for range 2 {
		if _, err := amqp.Dial("amqp://guest:wrong@" + b.AMQPAddr + "/"); err == nil {
			t.Fatal("wrong password accepted")
		}
	}
	_, err := amqp.Dial(b.AMQPURL)
	var aerr *amqp.Error
	if !errors.As(err, &aerr) || aerr.Code != amqp.AccessRefused || !strings.Contains(aerr.Reason, "too many failed logins") {
		t.Fatalf("right password after the limit: %v", err)
	}
}

// TestDefaultExchangeRefusalText: the reply text is RabbitMQ's, with one
// code prefix and no internal wording.
func TestDefaultExchangeRefusalText(t *testing.T) {
	b := testbroker.Start(t)
	conn, err := amqp.Dial(b.AMQPURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	err = ch.ExchangeDelete("", false, false)
	var aerr *amqp.Error
	if !errors.As(err, &aerr) || aerr.Code != amqp.AccessRefused || aerr.Reason != "ACCESS_REFUSED - operation not permitted on the default exchange" {
		t.Fatalf("exchange.delete of the default exchange: %v", err)
	}
}

// TestAlternateExchangeAsBytesIsChecked: an alternate-exchange argument
// sent as a byte array (field type 'x') routes like a string, so it is
// checked like one: declaring it needs read on the exchange, which this
// user lacks.
func TestAlternateExchangeAsBytesIsChecked(t *testing.T) {
	b := testbroker.Start(t)
	ctx := context.Background()
	bk := b.Node().Broker
	if _, err := bk.PutUser(ctx, "mallory", "pw", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := bk.SetPermission(ctx, broker.Permission{User: "mallory", VHost: "/", Configure: "^mine$", Write: "^mine$", Read: "^$"}); err != nil {
		t.Fatal(err)
	}
	conn, err := amqp.Dial("amqp://mallory:pw@" + b.AMQPAddr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, ae := range []any{"victim", []byte("victim")} {
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		err = ch.ExchangeDeclare("mine", "fanout", false, false, false, false, amqp.Table{"alternate-exchange": ae})
		var aerr *amqp.Error
		if !errors.As(err, &aerr) || aerr.Code != amqp.AccessRefused {
			t.Fatalf("alternate-exchange %T: %v, want 403", ae, err)
		}
	}
}

// TestSecondContentHeaderIsAFrameError: a content header in the middle
// of a body is RabbitMQ's 505 UNEXPECTED_FRAME, which closes the
// connection (and with it any body budget).
func TestSecondContentHeaderIsAFrameError(t *testing.T) {
	b := testbroker.Start(t)
	r := dialRaw(t, b.AMQPAddr)
	r.handshake()
	r.send(1, &spec.ChannelOpen{})
	r.next()
	r.send(1, &spec.BasicPublish{RoutingKey: "q"})
	for range 2 {
		h, err := spec.AppendHeaderFrame(nil, 1, &spec.ContentHeader{ClassID: spec.ClassBasic, BodySize: 600})
		if err != nil {
			t.Fatal(err)
		}
		r.write(h)
	}
	r.expectConnectionClose(spec.UnexpectedFrame)
}

// TestConnectionMemoryZeroMeansTheMessageSize: max.connection.memory=0
// falls back to the message size cap, so two bodies in progress on two
// channels are fine.
func TestConnectionMemoryZeroMeansTheMessageSize(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(func(c *config.Config) { c.Limits.ConnectionMemory = 0 }))
	r := dialRaw(t, b.AMQPAddr)
	r.handshake()
	for ch := uint16(1); ch <= 2; ch++ {
		r.send(ch, &spec.ChannelOpen{})
		r.next()
	}
	r.send(1, &spec.QueueDeclare{Queue: "zero-q"})
	r.next()
	for ch := uint16(1); ch <= 2; ch++ {
		r.send(ch, &spec.BasicPublish{RoutingKey: "zero-q"})
		h, _ := spec.AppendHeaderFrame(nil, ch, &spec.ContentHeader{ClassID: spec.ClassBasic, BodySize: 10})
		r.write(h)
	}
	for ch := uint16(1); ch <= 2; ch++ {
		f, _ := spec.AppendFrame(nil, spec.Frame{Type: spec.FrameBody, Channel: ch, Payload: bytes.Repeat([]byte{'x'}, 10)})
		r.write(f)
	}
	r.send(1, &spec.QueueDeclare{Queue: "zero-q", Passive: true})
	for {
		ch, m := r.next()
		if ok, is := m.(*spec.QueueDeclareOK); is && ch == 1 {
			if ok.MessageCount != 2 {
				t.Fatalf("%d messages, want 2", ok.MessageCount)
			}
			return
		}
		if cl, is := m.(*spec.ChannelClose); is {
			t.Fatalf("channel %d closed: %d %s", ch, cl.ReplyCode, cl.ReplyText)
		}
	}
}
