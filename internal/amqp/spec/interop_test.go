package spec_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"reflect"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/ternmq/tern/internal/amqp/spec"
)

// TestInteropWithAMQP091Client plays the server side of a handshake, a
// publish, a consume with one delivery and a close against the real
// amqp091-go client: the client decodes what this codec encodes
// (connection.start/tune/open-ok, channel.open-ok, basic.consume-ok,
// basic.deliver with properties and headers), and this codec decodes what
// the client encodes (protocol header, start-ok, tune-ok, open,
// channel.open, basic.publish with properties and headers, consume, close).
func TestInteropWithAMQP091Client(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	serverDone := make(chan error, 1)
	go func() { serverDone <- serve(ln) }()

	conn, err := amqp.DialConfig("amqp://guest:guest@"+ln.Addr().String()+"/", amqp.Config{Heartbeat: 0, Locale: "en_US"})
	if err != nil {
		t.Fatalf("dial: %v (server: %v)", err, <-serverDone)
	}
	if conn.Properties["product"] != "tern" || conn.Major != 0 || conn.Minor != 9 {
		t.Errorf("server properties as the client saw them: %v %d.%d", conn.Properties, conn.Major, conn.Minor)
	}
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	defer func() {
		select {
		case e := <-closed:
			if e != nil {
				t.Errorf("client closed the connection: %v", e)
			}
		default:
		}
	}()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = ch.PublishWithContext(ctx, "ex", "rk", true, false, amqp.Publishing{
		Headers: amqp.Table{
			"bool": true, "int8": int8(-8), "uint8": uint8(8), "int16": int16(-16), "uint16": uint16(16),
			"int32": int32(-32), "uint32": uint32(32), "int64": int64(-64), "float32": float32(0.5), "float64": 0.25,
			"decimal": amqp.Decimal{Scale: 2, Value: 314}, "string": "s", "bytes": []byte{1, 2},
			"time": time.Unix(1700000000, 0), "void": nil,
			"array": []any{"a", int32(1), amqp.Table{"in": "array"}}, "table": amqp.Table{"nested": true},
		},
		ContentType: "text/plain", ContentEncoding: "utf-8", DeliveryMode: amqp.Persistent, Priority: 5,
		CorrelationId: "corr", ReplyTo: "reply", Expiration: "1000", MessageId: "mid",
		Timestamp: time.Unix(1700000001, 0), Type: "type", UserId: "guest", AppId: "app",
		Body: []byte("hello"),
	})
	if err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume("q", "ctag", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-deliveries:
		if d.ConsumerTag != "ctag" || d.DeliveryTag != 42 || !d.Redelivered || d.Exchange != "ex" || d.RoutingKey != "rk" ||
			string(d.Body) != "hello, world" || d.ContentType != "application/json" || d.DeliveryMode != 2 ||
			d.MessageId != "m-1" || d.Timestamp.Unix() != 1700000002 || d.Priority != 3 {
			t.Errorf("delivery as the client saw it: %+v", d)
		}
		wantHeaders := amqp.Table{"x-first-death-reason": "expired", "count": int64(2), "n": int32(-1), "ok": true,
			"list": []any{"a", amqp.Table{"b": uint16(7)}}}
		if !reflect.DeepEqual(d.Headers, wantHeaders) {
			t.Errorf("delivery headers as the client saw them:\n got  %#v\n want %#v", d.Headers, wantHeaders)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery")
	}
	if err := conn.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if err := <-serverDone; err != nil {
		t.Fatal(err)
	}
}

// serve is the test's AMQP server: one connection, a fixed script.
func serve(ln net.Listener) error {
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	s := &script{r: bufio.NewReader(c), c: c}

	if err := spec.ReadProtocolHeader(s.r); err != nil {
		return err
	}
	s.send(0, &spec.ConnectionStart{
		VersionMajor: 0, VersionMinor: 9,
		ServerProperties: spec.Table{"product": "tern", "capabilities": spec.Table{"publisher_confirms": true, "basic.nack": true}},
		Mechanisms:       "PLAIN AMQPLAIN", Locales: "en_US",
	})
	startOK := expect[*spec.ConnectionStartOK](s, 0)
	if s.err == nil {
		caps, _ := startOK.ClientProperties["capabilities"].(spec.Table)
		if startOK.Mechanism != "PLAIN" || startOK.Response != "\x00guest\x00guest" || startOK.Locale != "en_US" ||
			startOK.ClientProperties["product"] != "AMQP 0.9.1 Client" || caps["consumer_cancel_notify"] != true {
			s.fail("start-ok: %+v", startOK)
		}
	}
	s.send(0, &spec.ConnectionTune{ChannelMax: 2047, FrameMax: 131072, Heartbeat: 0})
	if tuneOK := expect[*spec.ConnectionTuneOK](s, 0); s.err == nil && (tuneOK.FrameMax != 131072 || tuneOK.ChannelMax != 2047) {
		s.fail("tune-ok: %+v", tuneOK)
	}
	if open := expect[*spec.ConnectionOpen](s, 0); s.err == nil && open.VirtualHost != "/" {
		s.fail("open: %+v", open)
	}
	s.send(0, &spec.ConnectionOpenOK{})

	expect[*spec.ChannelOpen](s, 1)
	s.send(1, &spec.ChannelOpenOK{})

	pub := expect[*spec.BasicPublish](s, 1)
	if s.err == nil && (pub.Exchange != "ex" || pub.RoutingKey != "rk" || !pub.Mandatory || pub.Immediate) {
		s.fail("publish: %+v", pub)
	}
	h, body := s.content(1)
	if s.err == nil {
		p := h.Properties
		wantHeaders := spec.Table{
			"bool": true, "int8": int8(-8), "uint8": uint8(8), "int16": int16(-16), "uint16": uint16(16),
			"int32": int32(-32), "uint32": uint32(32), "int64": int64(-64), "float32": float32(0.5), "float64": 0.25,
			"decimal": spec.Decimal{Scale: 2, Value: 314}, "string": "s", "bytes": []byte{1, 2},
			"time": time.Unix(1700000000, 0).UTC(), "void": nil,
			"array": []any{"a", int32(1), spec.Table{"in": "array"}}, "table": spec.Table{"nested": true},
		}
		if !reflect.DeepEqual(p.Headers, wantHeaders) {
			s.fail("publish headers:\n got  %#v\n want %#v", p.Headers, wantHeaders)
		}
		p.Headers = nil
		want := spec.Properties{
			Flags: spec.FlagContentType | spec.FlagContentEncoding | spec.FlagHeaders | spec.FlagDeliveryMode | spec.FlagPriority |
				spec.FlagCorrelationID | spec.FlagReplyTo | spec.FlagExpiration | spec.FlagMessageID | spec.FlagTimestamp |
				spec.FlagType | spec.FlagUserID | spec.FlagAppID,
			ContentType: "text/plain", ContentEncoding: "utf-8", DeliveryMode: 2, Priority: 5,
			CorrelationID: "corr", ReplyTo: "reply", Expiration: "1000", MessageID: "mid",
			Timestamp: time.Unix(1700000001, 0).UTC(), Type: "type", UserID: "guest", AppID: "app",
		}
		if !reflect.DeepEqual(p, want) || h.ClassID != spec.ClassBasic || h.BodySize != 5 || string(body) != "hello" {
			s.fail("publish content: %+v %q", h, body)
		}
	}

	if consume := expect[*spec.BasicConsume](s, 1); s.err == nil && (consume.Queue != "q" || consume.ConsumerTag != "ctag") {
		s.fail("consume: %+v", consume)
	}
	s.send(1, &spec.BasicConsumeOK{ConsumerTag: "ctag"})
	s.send(1, &spec.BasicDeliver{ConsumerTag: "ctag", DeliveryTag: 42, Redelivered: true, Exchange: "ex", RoutingKey: "rk"})
	s.sendContent(1, spec.Properties{
		ContentType: "application/json", DeliveryMode: 2, Priority: 3, MessageID: "m-1", Timestamp: time.Unix(1700000002, 0),
		Headers: spec.Table{"x-first-death-reason": "expired", "count": int64(2), "n": int32(-1), "ok": true,
			"list": []any{"a", spec.Table{"b": uint16(7)}}},
	}, []byte("hello, world"))

	if cl := expect[*spec.ConnectionClose](s, 0); s.err == nil && cl.ReplyCode != spec.ReplySuccess {
		s.fail("close: %+v", cl)
	}
	s.send(0, &spec.ConnectionCloseOK{})
	if s.err == nil { // as RabbitMQ does, let the client close the socket first
		if _, err := spec.ReadFrame(s.r, 0); err != io.EOF {
			s.fail("after close-ok: %v, want EOF", err)
		}
	}
	return s.err
}

// script reads and writes frames with the codec under test; the first
// error sticks and makes later steps no-ops.
type script struct {
	r   *bufio.Reader
	c   net.Conn
	err error
}

func (s *script) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf(format, args...)
	}
}

func (s *script) send(channel uint16, m spec.Method) {
	if s.err != nil {
		return
	}
	b, err := spec.AppendMethodFrame(nil, channel, m)
	if err != nil {
		s.fail("encoding %s: %v", m.Name(), err)
		return
	}
	if _, err := s.c.Write(b); err != nil {
		s.fail("writing %s: %v", m.Name(), err)
	}
}

func (s *script) sendContent(channel uint16, p spec.Properties, body []byte) {
	if s.err != nil {
		return
	}
	b, err := spec.AppendHeaderFrame(nil, channel, &spec.ContentHeader{ClassID: spec.ClassBasic, BodySize: uint64(len(body)), Properties: p})
	if err != nil {
		s.fail("encoding header: %v", err)
		return
	}
	if b, err = spec.AppendBodyFrames(b, channel, body, 4096); err != nil {
		s.fail("encoding body: %v", err)
		return
	}
	if _, err := s.c.Write(b); err != nil {
		s.fail("writing content: %v", err)
	}
}

// frame reads the next non-heartbeat frame.
func (s *script) frame() spec.Frame {
	for s.err == nil {
		f, err := spec.ReadFrame(s.r, 131072)
		if err != nil {
			s.fail("reading frame: %v", err)
			break
		}
		if f.Type != spec.FrameHeartbeat {
			return f
		}
	}
	return spec.Frame{}
}

// expect reads the next frame and decodes it as a method of type M on
// channel.
func expect[M spec.Method](s *script, channel uint16) M {
	var zero M
	f := s.frame()
	if s.err != nil {
		return zero
	}
	if f.Type != spec.FrameMethod || f.Channel != channel {
		s.fail("got a %s frame on channel %d, want a method on channel %d", f.Type, f.Channel, channel)
		return zero
	}
	m, err := spec.DecodeMethod(f.Payload)
	if err != nil {
		s.fail("decoding method: %v", err)
		return zero
	}
	typed, ok := m.(M)
	if !ok {
		s.fail("got %s, want %T", m.Name(), zero)
	}
	return typed
}

// content reads a content header and its body frames.
func (s *script) content(channel uint16) (spec.ContentHeader, []byte) {
	f := s.frame()
	if s.err != nil {
		return spec.ContentHeader{}, nil
	}
	if f.Type != spec.FrameHeader || f.Channel != channel {
		s.fail("got a %s frame on channel %d, want a content header", f.Type, f.Channel)
		return spec.ContentHeader{}, nil
	}
	h, err := spec.DecodeContentHeader(f.Payload)
	if err != nil {
		s.fail("decoding content header: %v", err)
		return h, nil
	}
	var body []byte
	for s.err == nil && uint64(len(body)) < h.BodySize {
		f := s.frame()
		if s.err == nil && (f.Type != spec.FrameBody || f.Channel != channel) {
			s.fail("got a %s frame, want a body frame", f.Type)
		}
		body = append(body, f.Payload...)
	}
	return h, body
}
