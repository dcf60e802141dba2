package amqp_test

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/ternmq/tern/internal/amqp/spec"
	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/testbroker"
)

// The listener's limits (amqp.channel.max, amqp.frame.max,
// amqp.max.message.size) and RabbitMQ's answers past them.

func withLimits(channelMax, frameMax int, maxMessage int64) testbroker.Option {
	return testbroker.WithConfig(func(c *config.Config) {
		c.AMQP = config.AMQPLimits{ChannelMax: channelMax, FrameMax: frameMax, MaxMessageSize: maxMessage}
	})
}

// tuned runs the handshake up to connection.tune and answers it with
// tuneOK, returning the server's connection.tune.
func (r *rawAMQP) tuned(tuneOK *spec.ConnectionTuneOK) *spec.ConnectionTune {
	r.t.Helper()
	r.write([]byte(spec.ProtocolHeader))
	r.next() // start
	r.send(0, &spec.ConnectionStartOK{Mechanism: "PLAIN", Response: "\x00guest\x00guest", Locale: "en_US"})
	_, m := r.next()
	tune, ok := m.(*spec.ConnectionTune)
	if !ok {
		r.t.Fatalf("got %s, want connection.tune", m.Name())
	}
	r.send(0, tuneOK)
	return tune
}

// expectConnectionCloseText waits for connection.close with code and text.
func (r *rawAMQP) expectConnectionCloseText(code uint16, text string) {
	r.t.Helper()
	for {
		ch, m := r.next()
		if cl, ok := m.(*spec.ConnectionClose); ok && ch == 0 {
			if cl.ReplyCode != code || cl.ReplyText != text {
				r.t.Fatalf("connection.close %d %q, want %d %q", cl.ReplyCode, cl.ReplyText, code, text)
			}
			return
		}
	}
}

func (r *rawAMQP) openChannel(id uint16) {
	r.t.Helper()
	r.send(id, &spec.ChannelOpen{})
	if ch, m := r.next(); m.Name() != "channel.open-ok" || ch != id {
		r.t.Fatalf("channel %d: got %s on %d", id, m.Name(), ch)
	}
}

// TestChannelMax: the server offers amqp.channel.max; a client may ask
// for fewer, not more or "no limit" (0); and it may have that many
// channels open at once, whatever their numbers — RabbitMQ's rules and
// words.
func TestChannelMax(t *testing.T) {
	b := testbroker.Start(t, withLimits(3, 131072, 128<<20))
	for _, tc := range []struct {
		ask  uint16
		text string
	}{
		{4, "NOT_ALLOWED - negotiated channel_max = 4 is higher than the maximum allowed value (3)"},
		{0, "NOT_ALLOWED - negotiated channel_max = 0 (no limit) is higher than the maximum allowed value (3)"},
	} {
		r := dialRaw(t, b.AMQPAddr)
		if tune := r.tuned(&spec.ConnectionTuneOK{ChannelMax: tc.ask, FrameMax: 131072}); tune.ChannelMax != 3 {
			t.Fatalf("offered channel_max %d, want 3", tune.ChannelMax)
		}
		r.expectConnectionCloseText(spec.NotAllowed, tc.text)
	}

	r := dialRaw(t, b.AMQPAddr)
	r.tuned(&spec.ConnectionTuneOK{ChannelMax: 2, FrameMax: 131072})
	r.send(0, &spec.ConnectionOpen{VirtualHost: "/"})
	r.next() // open-ok
	r.openChannel(1)
	r.openChannel(900) // numbers are not limited, the count is
	r.send(1, &spec.ChannelClose{})
	if _, m := r.next(); m.Name() != "channel.close-ok" {
		t.Fatalf("got %s", m.Name())
	}
	r.openChannel(2)
	r.send(3, &spec.ChannelOpen{})
	r.expectConnectionCloseText(spec.NotAllowed, "NOT_ALLOWED - number of channels opened (2) has reached the negotiated channel_max (2)")

	// A client library negotiates the server's limit and stays within it.
	conn, err := amqp.Dial(b.AMQPURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if conn.Config.ChannelMax != 3 {
		t.Fatalf("amqp091-go negotiated channel_max %d, want 3", conn.Config.ChannelMax)
	}
	for i := 0; i < 3; i++ {
		if _, err := conn.Channel(); err != nil {
			t.Fatalf("channel %d: %v", i+1, err)
		}
	}
}

// TestFrameMax: the server offers amqp.frame.max; a client asking for
// more is refused (530), and a frame larger than the negotiated size
// closes the connection with 501 FRAME_ERROR. Messages larger than a
// frame still travel, split into body frames.
func TestFrameMax(t *testing.T) {
	b := testbroker.Start(t, withLimits(2047, 8192, 128<<20))
	r := dialRaw(t, b.AMQPAddr)
	if tune := r.tuned(&spec.ConnectionTuneOK{ChannelMax: 10, FrameMax: 16384}); tune.FrameMax != 8192 {
		t.Fatalf("offered frame_max %d, want 8192", tune.FrameMax)
	}
	r.expectConnectionCloseText(spec.NotAllowed, "NOT_ALLOWED - negotiated frame_max = 16384 is higher than the maximum allowed value (8192)")

	r = dialRaw(t, b.AMQPAddr)
	r.tuned(&spec.ConnectionTuneOK{ChannelMax: 10, FrameMax: 4096})
	r.send(0, &spec.ConnectionOpen{VirtualHost: "/"})
	r.next() // open-ok
	// A method frame of 5000 bytes: under the server's 8192, over the
	// 4096 this connection negotiated.
	big := []byte{byte(spec.FrameMethod), 0, 1}
	big = binary.BigEndian.AppendUint32(big, 5000)
	r.write(big)
	r.expectConnectionClose(spec.FrameError)

	conn, ch := dial(t, b)
	if conn.Config.FrameSize != 8192 {
		t.Fatalf("amqp091-go negotiated frame_max %d, want 8192", conn.Config.FrameSize)
	}
	q, _ := ch.QueueDeclare("", false, true, true, false, nil)
	body := strings.Repeat("x", 50_000)
	if err := publishConfirmed(ch, "", q.Name, body); err != nil {
		t.Fatal(err)
	}
	d, ok, err := ch.Get(q.Name, true)
	if err != nil || !ok || string(d.Body) != body {
		t.Fatalf("a 50 kB message through 8 kB frames: %d bytes, %v %v", len(d.Body), ok, err)
	}
}

// TestMaxMessageSize: a publish whose body is over amqp.max.message.size
// closes its channel with RabbitMQ's 406, decided from the content header
// alone — before the body is sent, let alone kept — and before the write
// permission is looked at; a body of exactly the limit goes through.
func TestMaxMessageSize(t *testing.T) {
	b := testbroker.Start(t, withLimits(2047, 131072, 1000))
	conn, ch := dial(t, b)
	q, _ := ch.QueueDeclare("sized", false, false, false, false, nil)
	if err := publishConfirmed(ch, "", q.Name, strings.Repeat("a", 1000)); err != nil {
		t.Fatalf("a message of the limit: %v", err)
	}
	wantAMQPError(t, "a message over the limit", publishConfirmed(ch, "", q.Name, strings.Repeat("a", 1001)), 406,
		"PRECONDITION_FAILED - message size 1001 is larger than configured max size 1000")
	ch, _ = conn.Channel()
	if qi, err := ch.QueueDeclarePassive("sized", false, false, false, false, nil); err != nil || qi.Messages != 1 {
		t.Fatalf("queue after the refused publish: %+v %v", qi, err)
	}

	// Refused at the header: a 1 TB body is announced and never sent.
	r := dialRaw(t, b.AMQPAddr)
	r.handshake()
	r.openChannel(1)
	r.send(1, &spec.BasicPublish{RoutingKey: "sized"})
	h, _ := spec.AppendHeaderFrame(nil, 1, &spec.ContentHeader{ClassID: spec.ClassBasic, BodySize: 1 << 40})
	r.write(h)
	r.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	r.expectChannelClose(1, spec.PreconditionFailed)

	// Size comes before permissions, as in RabbitMQ.
	grant(t, b, "nowrite", "/", ".*", "", ".*")
	ch, _ = dialAs(t, b, "nowrite", "/").Channel()
	wantAMQPError(t, "over-size publish without write", publishConfirmed(ch, "", "sized", strings.Repeat("a", 1001)), 406,
		"PRECONDITION_FAILED - message size 1001 is larger than configured max size 1000")
	ch, _ = dialAs(t, b, "nowrite", "/").Channel()
	wantAMQPError(t, "publish without write", publishConfirmed(ch, "", "sized", "a"), 403,
		"ACCESS_REFUSED - write access to exchange 'amq.default' in vhost '/' refused for user 'nowrite'")
}
