package amqp_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/ternmq/tern/internal/amqp/spec"
	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/testbroker"
)

// rawAMQP drives the handshake by hand so tests can send what no client
// library would.
type rawAMQP struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawAMQP {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawAMQP{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (r *rawAMQP) send(ch uint16, m spec.Method) {
	r.t.Helper()
	b, err := spec.AppendMethodFrame(nil, ch, m)
	if err != nil {
		r.t.Fatal(err)
	}
	r.write(b)
}

func (r *rawAMQP) write(b []byte) {
	r.t.Helper()
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

// next returns the next method, skipping heartbeats.
func (r *rawAMQP) next() (uint16, spec.Method) {
	r.t.Helper()
	for {
		f, err := spec.ReadFrame(r.br, 1<<20)
		if err != nil {
			r.t.Fatalf("read frame: %v", err)
		}
		if f.Type != spec.FrameMethod {
			continue
		}
		m, err := spec.DecodeMethod(f.Payload)
		if err != nil {
			r.t.Fatal(err)
		}
		return f.Channel, m
	}
}

func (r *rawAMQP) handshake() {
	r.t.Helper()
	r.write([]byte(spec.ProtocolHeader))
	r.next() // start
	r.send(0, &spec.ConnectionStartOK{Mechanism: "PLAIN", Response: "\x00guest\x00guest", Locale: "en_US"})
	r.next() // tune
	r.send(0, &spec.ConnectionTuneOK{ChannelMax: 10, FrameMax: 4096, Heartbeat: 0})
	r.send(0, &spec.ConnectionOpen{VirtualHost: "/"})
	if _, m := r.next(); m.Name() != "connection.open-ok" {
		r.t.Fatalf("got %s, want connection.open-ok", m.Name())
	}
}

func (r *rawAMQP) expectConnectionClose(code uint16) {
	r.t.Helper()
	for {
		ch, m := r.next()
		if cl, ok := m.(*spec.ConnectionClose); ok && ch == 0 {
			if cl.ReplyCode != code {
				r.t.Fatalf("connection.close %d %q, want %d", cl.ReplyCode, cl.ReplyText, code)
			}
			return
		}
	}
}

func (r *rawAMQP) expectChannelClose(channel uint16, code uint16) {
	r.t.Helper()
	for {
		ch, m := r.next()
		if cl, ok := m.(*spec.ChannelClose); ok && ch == channel {
			if cl.ReplyCode != code {
				r.t.Fatalf("channel.close %d %q, want %d", cl.ReplyCode, cl.ReplyText, code)
			}
			return
		}
		if cl, ok := m.(*spec.ConnectionClose); ok {
			r.t.Fatalf("connection closed (%d %q) instead of channel", cl.ReplyCode, cl.ReplyText)
		}
	}
}

func TestWrongProtocolHeaderGetsOursBack(t *testing.T) {
	b := testbroker.Start(t)
	r := dialRaw(t, b.AMQPAddr)
	r.write([]byte("AMQP\x01\x01\x00\x0a"))
	got := make([]byte, 8)
	if _, err := io.ReadFull(r.br, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != spec.ProtocolHeader {
		t.Fatalf("answer %q, want %q", got, spec.ProtocolHeader)
	}
	if _, err := r.br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("connection not closed after the header: %v", err)
	}
}

func TestConnectionLevelBadInput(t *testing.T) {
	b := testbroker.Start(t)
	frameHeader := func(typ byte, ch uint16, size uint32) []byte {
		h := []byte{typ}
		h = binary.BigEndian.AppendUint16(h, ch)
		return binary.BigEndian.AppendUint32(h, size)
	}
	tests := []struct {
		name string
		send func(r *rawAMQP)
		code uint16
	}{
		{"frame larger than frame-max", func(r *rawAMQP) {
			r.write(frameHeader(1, 1, 1<<20))
		}, spec.FrameError},
		{"unknown class", func(r *rawAMQP) {
			f := append(frameHeader(1, 1, 4), 0x03, 0xe7, 0, 10, spec.FrameEnd)
			r.write(f)
		}, spec.NotImplemented},
		{"unknown method of a known class", func(r *rawAMQP) {
			f := append(frameHeader(1, 0, 4), 0, 10, 0, 99, spec.FrameEnd)
			r.write(f)
		}, spec.CommandInvalid},
		{"method on an unopened channel", func(r *rawAMQP) {
			r.send(7, &spec.QueueDeclare{Queue: "x"})
		}, spec.ChannelError},
		{"body without a publish", func(r *rawAMQP) {
			r.send(1, &spec.ChannelOpen{})
			r.next()
			r.write(append(frameHeader(3, 1, 3), 'a', 'b', 'c', spec.FrameEnd))
		}, spec.UnexpectedFrame},
		{"body longer than the header said", func(r *rawAMQP) {
			r.send(1, &spec.ChannelOpen{})
			r.next()
			r.send(1, &spec.BasicPublish{RoutingKey: "q"})
			h, _ := spec.AppendHeaderFrame(nil, 1, &spec.ContentHeader{ClassID: spec.ClassBasic, BodySize: 2})
			r.write(h)
			r.write(append(frameHeader(3, 1, 3), 'a', 'b', 'c', spec.FrameEnd))
		}, spec.FrameError},
		{"channel.flow(false), which RabbitMQ does not implement", func(r *rawAMQP) {
			r.send(1, &spec.ChannelOpen{})
			r.next()
			r.send(1, &spec.ChannelFlow{Active: true})
			if _, m := r.next(); m.Name() != "channel.flow-ok" {
				r.t.Fatalf("channel.flow(true) answered with %s", m.Name())
			}
			r.send(1, &spec.ChannelFlow{Active: false})
		}, spec.NotImplemented},
		{"method instead of the content header", func(r *rawAMQP) {
			r.send(1, &spec.ChannelOpen{})
			r.next()
			r.send(1, &spec.BasicPublish{RoutingKey: "q"})
			r.send(1, &spec.BasicQos{PrefetchCount: 1})
		}, spec.UnexpectedFrame},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, b.AMQPAddr)
			r.handshake()
			tc.send(r)
			r.expectConnectionClose(tc.code)
			// The broker is unharmed.
			ok := dialRaw(t, b.AMQPAddr)
			ok.handshake()
		})
	}
}

func TestChannelLevelBadInput(t *testing.T) {
	b := testbroker.Start(t)
	r := dialRaw(t, b.AMQPAddr)
	r.handshake()
	open := func(ch uint16) {
		r.send(ch, &spec.ChannelOpen{})
		if _, m := r.next(); m.Name() != "channel.open-ok" {
			t.Fatalf("got %s", m.Name())
		}
	}
	open(1)
	r.send(1, &spec.BasicPublish{Exchange: "nope", RoutingKey: "k"})
	h, _ := spec.AppendHeaderFrame(nil, 1, &spec.ContentHeader{ClassID: spec.ClassBasic})
	r.write(h)
	r.expectChannelClose(1, spec.NotFound)
	r.send(1, &spec.ChannelCloseOK{})

	open(2)
	r.send(2, &spec.BasicAck{DeliveryTag: 99})
	r.expectChannelClose(2, spec.PreconditionFailed)
	r.send(2, &spec.ChannelCloseOK{})

	open(3)
	r.send(3, &spec.QueueDeclare{Queue: "amq.reserved"})
	r.expectChannelClose(3, spec.AccessRefused)
	r.send(3, &spec.ChannelCloseOK{})

	open(4)
	r.send(4, &spec.BasicPublish{RoutingKey: "q", Immediate: true})
	r.expectConnectionClose(spec.NotImplemented)
}

// TestHeartbeats negotiates a 1 s heartbeat: the server sends heartbeat
// frames, and closes the connection when the client stays silent for two
// intervals.
func TestHeartbeats(t *testing.T) {
	b := testbroker.Start(t)
	r := dialRaw(t, b.AMQPAddr)
	r.write([]byte(spec.ProtocolHeader))
	r.next()
	r.send(0, &spec.ConnectionStartOK{Mechanism: "PLAIN", Response: "\x00guest\x00guest", Locale: "en_US"})
	r.next()
	r.send(0, &spec.ConnectionTuneOK{ChannelMax: 10, FrameMax: 131072, Heartbeat: 1})
	r.send(0, &spec.ConnectionOpen{VirtualHost: "/"})
	r.next()
	start := time.Now()
	sawHeartbeat := false
	for {
		f, err := spec.ReadFrame(r.br, 1<<20)
		if err != nil {
			if !sawHeartbeat {
				t.Fatalf("connection ended (%v) without a heartbeat", err)
			}
			if d := time.Since(start); d < 1500*time.Millisecond || d > 5*time.Second {
				t.Fatalf("silent client dropped after %v, want about 2s", d)
			}
			return
		}
		if f.Type == spec.FrameHeartbeat {
			sawHeartbeat = true
		}
	}
}

// TestResourceAlarmBlocksPublishers starts a broker whose disk alarm is
// on from the start (the free-space limit is above any disk): capable
// clients get connection.blocked, and their publishes are held.
func TestResourceAlarmBlocksPublishers(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(func(c *config.Config) { c.DiskFreeLimit = 1 << 62 }))
	// No conn.Close: a blocked connection is not read from, so the
	// client's close would wait for an answer; the broker's shutdown at
	// the end of the test closes it instead.
	conn, err := amqp.Dial(b.AMQPURL)
	if err != nil {
		t.Fatal(err)
	}
	blocked := conn.NotifyBlocked(make(chan amqp.Blocking, 1))
	ch, _ := conn.Channel()
	ch.QueueDeclare("held", false, false, false, false, nil)
	ch.Confirm(false)
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 1))
	ch.PublishWithContext(context.Background(), "", "held", false, false, amqp.Publishing{Body: []byte("x")})
	select {
	case bl := <-blocked:
		if !bl.Active {
			t.Fatalf("blocking %+v", bl)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no connection.blocked for a publish during the disk alarm")
	}
	select {
	case c := <-confirms:
		t.Fatalf("publish confirmed (%+v) during a resource alarm", c)
	case <-time.After(300 * time.Millisecond):
	}
}
