package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/testbroker"
)

// TestTLSListeners runs every protocol over TLS beside its plaintext
// listener with real clients: franz-go on an SSL Kafka listener,
// amqp091-go on amqps, an HTTPS health check. A plaintext client on the
// TLS port gets nothing, and a renewed certificate reaches new
// connections without a restart.
func TestTLSListeners(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithTLS("none"), testbroker.WithKafkaListeners(config.Plaintext, config.SSL))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clientTLS := &tls.Config{RootCAs: b.CA.Pool, ServerName: "localhost"}

	// Kafka over SSL: Metadata must advertise the SSL listener's own
	// port, or the client would reconnect to the plaintext one.
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.KafkaAddr(config.SSL)), kgo.DialTLSConfig(clientTLS),
		kgo.DefaultProduceTopic("secure"), kgo.AllowAutoTopicCreation(),
		kgo.ConsumeTopics("secure"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("over tls")}).FirstErr(); err != nil {
		t.Fatalf("produce over SSL: %v", err)
	}
	fs := cl.PollFetches(ctx)
	if err := fs.Err(); err != nil {
		t.Fatal(err)
	}
	if recs := fs.Records(); len(recs) != 1 || string(recs[0].Value) != "over tls" {
		t.Fatalf("consumed %v", recs)
	}

	// A plaintext Kafka request to the SSL port is not served.
	nc, err := net.Dial("tcp", b.KafkaAddr(config.SSL))
	if err != nil {
		t.Fatal(err)
	}
	nc.Write([]byte{0, 0, 0, 14, 0, 18, 0, 0, 0, 0, 0, 1, 0, 4, 't', 'e', 's', 't'}) // ApiVersions v0
	nc.SetReadDeadline(time.Now().Add(15 * time.Second))
	reply, _ := io.ReadAll(nc)
	nc.Close()
	if len(reply) >= 8 && bytes.Equal(reply[4:8], []byte{0, 0, 0, 1}) { // correlation id 1
		t.Fatalf("plaintext ApiVersions on the SSL port was answered: %x", reply)
	}

	// AMQP over TLS, as amqps:// URLs do.
	conn, err := amqp091.DialTLS("amqps://guest:guest@"+b.AMQPSAddr+"/", clientTLS)
	if err != nil {
		t.Fatalf("amqps: %v", err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("tls-q", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	// HTTPS serves what HTTP does.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS}, Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("https://" + b.HTTPSAddr + "/healthz")
	if err != nil {
		t.Fatalf("https: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("https /healthz: %s", resp.Status)
	}

	// Renew the certificate in place: new handshakes get it.
	servedCert := func() []byte {
		c, err := tls.Dial("tcp", b.AMQPSAddr, clientTLS)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Raw
	}
	old := servedCert()
	renewed := b.CA.Server("server")
	deadline := time.Now().Add(10 * time.Second)
	for got := servedCert(); !bytes.Equal(got, renewed.TLS.Certificate[0]); got = servedCert() {
		if !bytes.Equal(got, old) {
			t.Fatal("served a certificate that is neither the old nor the renewed one")
		}
		if time.Now().After(deadline) {
			t.Fatal("the renewed certificate was never served")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMaxConnections: max.connections counts every protocol together; a
// connection past it is closed before it is served, and a slot freed by
// a closing client is reused.
func TestMaxConnections(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(func(c *config.Config) { c.Limits.MaxConnections = 2 }))
	kafkaConn := func() net.Conn {
		nc, err := net.Dial("tcp", b.Addr)
		if err != nil {
			t.Fatal(err)
		}
		return nc
	}
	// served reports whether an ApiVersions request is answered.
	served := func(nc net.Conn) bool {
		nc.Write([]byte{0, 0, 0, 14, 0, 18, 0, 0, 0, 0, 0, 1, 0, 4, 't', 'e', 's', 't'})
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		var size [4]byte
		_, err := io.ReadFull(nc, size[:])
		return err == nil
	}
	first := kafkaConn()
	defer first.Close()
	if !served(first) {
		t.Fatal("first connection not served")
	}
	amqpConn, err := amqp091.Dial(b.AMQPURL)
	if err != nil {
		t.Fatalf("second connection (AMQP): %v", err)
	}
	third := kafkaConn()
	if served(third) {
		t.Fatal("a third connection was served with max.connections=2")
	}
	third.Close()
	if _, err := amqp091.Dial(b.AMQPURL); err == nil {
		t.Fatal("a third (AMQP) connection opened")
	}
	amqpConn.Close()
	// The slot is released once the broker has seen the close.
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc := kafkaConn()
		ok := served(nc)
		nc.Close()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a freed slot was never reused")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
