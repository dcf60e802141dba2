package kafka_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/testbroker"
)

// connHooks counts a client's connections, disconnections and SASL
// handshakes.
type connHooks struct {
	connects, disconnects, handshakes atomic.Int64
}

func (h *connHooks) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err == nil {
		h.connects.Add(1)
	}
}

func (h *connHooks) OnBrokerDisconnect(kgo.BrokerMetadata, net.Conn) { h.disconnects.Add(1) }

func (h *connHooks) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if key == 17 && err == nil {
		h.handshakes.Add(1)
	}
}

// TestSASLReauthenticationKeepsClientsWorking: with 2 s sessions
// (KIP-368), a producer and a group consumer (franz-go honours
// SessionLifetimeMs) run across several lifetimes: every record arrives
// in order, both clients re-authenticate on their connections, and the
// broker never closes one.
func TestSASLReauthenticationKeepsClientsWorking(t *testing.T) {
	b := startSASL(t, testbroker.WithConfig(func(c *config.Config) { c.ReauthAfter = 2 * time.Second }))
	ctx := ctxT(t, 60*time.Second)
	var ph, ch connHooks
	prod := saslClient(t, b, "SASL_PLAINTEXT", scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism(),
		kgo.DefaultProduceTopic("reauth"), kgo.AllowAutoTopicCreation(), kgo.WithHooks(&ph))
	cons := saslClient(t, b, "SASL_SSL", scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha256Mechanism(),
		kgo.ConsumeTopics("reauth"), kgo.ConsumerGroup("reauth-g"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.HeartbeatInterval(300*time.Millisecond), kgo.FetchMaxWait(500*time.Millisecond), kgo.WithHooks(&ch))

	const n = 50 // one every 140 ms: 7 s, three and a half lifetimes
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			if err := prod.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
				t.Errorf("produce %d: %v", i, err)
				return
			}
			time.Sleep(140 * time.Millisecond)
		}
	}()
	for next := 0; next < n; {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d: %v", next, n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Value) != fmt.Sprint(next) {
				t.Fatalf("record %q, want %d", r.Value, next)
			}
			next++
		})
	}
	wg.Wait()
	for name, h := range map[string]*connHooks{"producer": &ph, "consumer": &ch} {
		reauths := h.handshakes.Load() - h.connects.Load()
		if reauths < 2 || h.disconnects.Load() != 0 {
			t.Errorf("%s: %d connections, %d handshakes (%d re-authentications), %d disconnections; want ≥2 re-authentications and none closed",
				name, h.connects.Load(), h.handshakes.Load(), reauths, h.disconnects.Load())
		}
	}
}

// saslLogin authenticates a raw connection with PLAIN and returns the
// SaslAuthenticate answer.
func saslLogin(t *testing.T, c *rawConn, user, pass string) *kmsg.SASLAuthenticateResponse {
	t.Helper()
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Mechanism = "PLAIN"
	if h := c.roundTrip(hs, 1).(*kmsg.SASLHandshakeResponse); h.ErrorCode != 0 {
		t.Fatalf("handshake: %v", kerr.ErrorForCode(h.ErrorCode))
	}
	auth := kmsg.NewPtrSASLAuthenticateRequest()
	auth.SASLAuthBytes = []byte("\x00" + user + "\x00" + pass)
	return c.roundTrip(auth, 2).(*kmsg.SASLAuthenticateResponse)
}

// TestSASLSessionExpiry covers KIP-368 on the wire with 1 s sessions:
// SessionLifetimeMs is announced; re-authentication works at once, but
// not twice within a second (ILLEGAL_SASL_STATE, connection open); it may
// not change the principal (SASL_AUTHENTICATION_FAILED, closed) nor the
// mechanism (closed at the next frame); a request already in flight is
// answered in order around it; a client that lets its session expire is
// disconnected at its next request, while one that re-authenticates after
// expiry goes on.
func TestSASLSessionExpiry(t *testing.T) {
	b := startSASL(t, testbroker.WithConfig(func(c *config.Config) { c.ReauthAfter = time.Second }))
	if _, err := b.Node().Broker.PutUser(context.Background(), "bob", "bob-secret", nil); err != nil {
		t.Fatal(err)
	}
	addr := b.KafkaAddr("SASL_PLAINTEXT")
	metadata := func(c *rawConn) {
		t.Helper()
		if md := c.roundTrip(kmsg.NewPtrMetadataRequest(), 12).(*kmsg.MetadataResponse); len(md.Brokers) != 1 {
			t.Fatalf("metadata: %+v", md)
		}
	}

	lapsed, renewed := dialRaw(t, addr), dialRaw(t, addr)
	for _, c := range []*rawConn{lapsed, renewed} {
		if a := saslLogin(t, c, "alice", "alice-secret"); a.ErrorCode != 0 || a.SessionLifetimeMillis != 1000 {
			t.Fatalf("login: %v, lifetime %d ms", kerr.ErrorForCode(a.ErrorCode), a.SessionLifetimeMillis)
		}
	}

	// Re-authentication right away, with a fetch long poll in flight
	// before it: the answers come back in request order.
	c := dialRaw(t, addr)
	saslLogin(t, c, "alice", "alice-secret")
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Mechanism = "PLAIN"
	auth := kmsg.NewPtrSASLAuthenticateRequest()
	auth.SASLAuthBytes = []byte("\x00alice\x00alice-secret")
	c.write(append(append(frame(fetchReq("reauth-fetch", 0, 300, 1), 12, 1), frame(hs, 1, 2)...), frame(auth, 2, 3)...))
	for want := int32(1); want <= 3; want++ {
		if corr, _ := c.read(want != 2); corr != want {
			t.Fatalf("answer %d has correlation id %d", want, corr)
		}
	}
	if h := c.roundTrip(hs, 1).(*kmsg.SASLHandshakeResponse); h.ErrorCode != kerr.IllegalSaslState.Code {
		t.Fatalf("second re-authentication within a second: %v", kerr.ErrorForCode(h.ErrorCode))
	}
	metadata(c)

	// Another principal is refused.
	c = dialRaw(t, addr)
	saslLogin(t, c, "alice", "alice-secret")
	if a := saslLogin(t, c, "bob", "bob-secret"); a.ErrorCode != kerr.SaslAuthenticationFailed.Code || a.ErrorMessage == nil ||
		!strings.Contains(*a.ErrorMessage, "Cannot change principals during re-authentication from User.alice: User.bob") {
		t.Fatalf("re-authentication as bob: %v %v", kerr.ErrorForCode(a.ErrorCode), a.ErrorMessage)
	}
	c.expectClosed()

	// Another mechanism: the handshake is accepted, the next frame closes.
	c = dialRaw(t, addr)
	saslLogin(t, c, "alice", "alice-secret")
	hs256 := kmsg.NewPtrSASLHandshakeRequest()
	hs256.Mechanism = "SCRAM-SHA-256"
	if h := c.roundTrip(hs256, 1).(*kmsg.SASLHandshakeResponse); h.ErrorCode != 0 {
		t.Fatalf("re-authentication handshake with another mechanism: %v", kerr.ErrorForCode(h.ErrorCode))
	}
	c.write(frame(auth, 2, 4))
	c.expectClosed()

	time.Sleep(1100 * time.Millisecond)
	lapsed.write(frame(kmsg.NewPtrMetadataRequest(), 12, 5))
	lapsed.expectClosed()
	if a := saslLogin(t, renewed, "alice", "alice-secret"); a.ErrorCode != 0 {
		t.Fatalf("re-authentication after expiry: %v", kerr.ErrorForCode(a.ErrorCode))
	}
	metadata(renewed)
}

// dialRawTLS is dialRaw over TLS with an optional client certificate.
func dialRawTLS(t *testing.T, addr string, cfg *tls.Config) (*rawConn, error) {
	t.Helper()
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawConn{t: t, nc: nc}, nil
}

// connectionUsers asks the admin API which users the open Kafka
// connections act as.
func connectionUsers(t *testing.T, b *testbroker.Broker) []string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+b.HTTPAddr+"/api/connections", nil)
	req.SetBasicAuth("guest", "guest")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var conns []struct {
		Protocol, User string
	}
	if err := json.NewDecoder(resp.Body).Decode(&conns); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range conns {
		out = append(out, c.Protocol+" "+c.User)
	}
	return out
}

// TestPrincipalsAndPerUserLimit: a verified client certificate on an SSL
// listener makes the connection User:<CN> (the admin API shows it), one
// without a certificate stays anonymous; with
// max.connections.per.user=1 a second connection of the same user is
// closed, over a certificate or SASL alike, and a slot frees when its
// connection closes.
func TestPrincipalsAndPerUserLimit(t *testing.T) {
	b := startSASL(t, testbroker.WithTLS("requested"), testbroker.WithKafkaListeners("SSL", "SASL_PLAINTEXT"),
		testbroker.WithConfig(func(c *config.Config) { c.Limits.MaxConnectionsPerUser = 1 }))
	tlsCfg := func(cn string) *tls.Config {
		cfg := &tls.Config{RootCAs: b.CA.Pool, ServerName: "localhost"}
		if cn != "" {
			cfg.Certificates = []tls.Certificate{b.CA.Client(cn).TLS}
		}
		return cfg
	}
	dial := func(cn string) *rawConn {
		c, err := dialRawTLS(t, b.KafkaAddr("SSL"), tlsCfg(cn))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := dial("alice")
	first.roundTrip(kmsg.NewPtrApiVersionsRequest(), 3)
	anon := dial("")
	anon.roundTrip(kmsg.NewPtrApiVersionsRequest(), 3)
	// The anonymous connection has no user to show.
	if users := strings.Join(connectionUsers(t, b), ","); users != "kafka User:alice,kafka " && users != "kafka ,kafka User:alice" {
		t.Fatalf("connections' users: %q, want alice's and an anonymous one", users)
	}

	second := dial("alice")
	second.write(frame(kmsg.NewPtrApiVersionsRequest(), 3, 1))
	second.expectClosed()
	first.nc.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		third := dial("alice")
		third.write(frame(kmsg.NewPtrApiVersionsRequest(), 3, 1))
		var size [4]byte
		if _, err := third.nc.Read(size[:]); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("alice's slot never freed after her connection closed")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// SASL: the second login of bob is refused with the reason, then closed.
	if _, err := b.Node().Broker.PutUser(context.Background(), "bob", "bob-secret", nil); err != nil {
		t.Fatal(err)
	}
	if a := saslLogin(t, dialRaw(t, b.KafkaAddr("SASL_PLAINTEXT")), "bob", "bob-secret"); a.ErrorCode != 0 {
		t.Fatalf("bob's first login: %v", kerr.ErrorForCode(a.ErrorCode))
	}
	c := dialRaw(t, b.KafkaAddr("SASL_PLAINTEXT"))
	if a := saslLogin(t, c, "bob", "bob-secret"); a.ErrorCode != kerr.SaslAuthenticationFailed.Code || a.ErrorMessage == nil || !strings.Contains(*a.ErrorMessage, "max.connections.per.user") {
		t.Fatalf("bob's second login: %v %v", kerr.ErrorForCode(a.ErrorCode), a.ErrorMessage)
	}
	c.expectClosed()
}
