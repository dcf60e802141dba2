package amqp_test

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

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
