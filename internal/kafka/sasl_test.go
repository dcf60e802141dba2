package kafka_test

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/ternmq/tern/internal/testbroker"
)

// mechanisms are the SASL mechanisms every test tries, as franz-go speaks them.
func mechanisms(user, pass string) map[string]sasl.Mechanism {
	return map[string]sasl.Mechanism{
		"PLAIN":         plain.Auth{User: user, Pass: pass}.AsMechanism(),
		"SCRAM-SHA-256": scram.Auth{User: user, Pass: pass}.AsSha256Mechanism(),
		"SCRAM-SHA-512": scram.Auth{User: user, Pass: pass}.AsSha512Mechanism(),
	}
}

// startSASL starts a broker with SASL_PLAINTEXT and SASL_SSL listeners (and
// a PLAINTEXT one) and the user alice/alice-secret.
func startSASL(t *testing.T, opts ...testbroker.Option) *testbroker.Broker {
	t.Helper()
	b := testbroker.Start(t, append([]testbroker.Option{
		testbroker.WithTLS("none"),
		testbroker.WithKafkaListeners("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"),
	}, opts...)...)
	if _, err := b.Node().Broker.PutUser(context.Background(), "alice", "alice-secret", nil); err != nil {
		t.Fatal(err)
	}
	return b
}

// saslClient connects to the listener of security with mechanism m.
func saslClient(t *testing.T, b *testbroker.Broker, security string, m sasl.Mechanism, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append(opts, kgo.SASL(m), kgo.RetryTimeout(5*time.Second))
	if security == "SASL_SSL" {
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{RootCAs: b.CA.Pool, ServerName: "localhost"}))
	}
	return newClient(t, b.KafkaAddr(security), opts...)
}

// TestSASLMechanismsProduceAndConsume authenticates with PLAIN,
// SCRAM-SHA-256 and SCRAM-SHA-512 on SASL_PLAINTEXT and SASL_SSL, and
// produces and consumes a record over each authenticated connection.
func TestSASLMechanismsProduceAndConsume(t *testing.T) {
	b := startSASL(t)
	ctx := ctxT(t, 60*time.Second)
	for _, security := range []string{"SASL_PLAINTEXT", "SASL_SSL"} {
		for name, m := range mechanisms("alice", "alice-secret") {
			topic := strings.ToLower(security + "-" + name)
			cl := saslClient(t, b, security, m, kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation(),
				kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(topic)}).FirstErr(); err != nil {
				t.Fatalf("%s %s: produce: %v", security, name, err)
			}
			fs := cl.PollRecords(ctx, 1)
			if err := fs.Err0(); err != nil {
				t.Fatalf("%s %s: consume: %v", security, name, err)
			}
			if rs := fs.Records(); len(rs) != 1 || string(rs[0].Value) != topic {
				t.Fatalf("%s %s: consumed %v", security, name, rs)
			}
		}
	}
}

// TestSASLBadCredentialsServeNothing: a wrong password and an unknown user
// fail with SASL_AUTHENTICATION_FAILED on every mechanism, SCRAM with the
// same message for both (so a client cannot tell which users exist), and
// the connection serves nothing afterwards.
func TestSASLBadCredentialsServeNothing(t *testing.T) {
	b := startSASL(t)
	ctx := ctxT(t, 60*time.Second)
	for _, who := range []struct{ user, pass string }{{"alice", "wrong"}, {"nobody", "alice-secret"}} {
		for name, m := range mechanisms(who.user, who.pass) {
			cl := saslClient(t, b, "SASL_PLAINTEXT", m)
			_, err := kadm.NewClient(cl).ListTopics(ctx)
			if !errors.Is(err, kerr.SaslAuthenticationFailed) {
				t.Fatalf("%s as %s/%s: %v, want SASL_AUTHENTICATION_FAILED", name, who.user, who.pass, err)
			}
			want := "Authentication failed: Invalid username or password"
			if name != "PLAIN" {
				want = "Authentication failed during authentication due to invalid credentials with SASL mechanism " + name
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("%s as %s: %q does not say %q", name, who.user, err, want)
			}
		}
	}

	// On the wire: the failure is answered, then the connection closes,
	// and a request pipelined behind the bad token is never served.
	c := dialRaw(t, b.KafkaAddr("SASL_PLAINTEXT"))
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Mechanism = "PLAIN"
	if resp := c.roundTrip(hs, 1).(*kmsg.SASLHandshakeResponse); resp.ErrorCode != 0 {
		t.Fatalf("handshake: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	auth := kmsg.NewPtrSASLAuthenticateRequest()
	auth.SASLAuthBytes = []byte("\x00alice\x00wrong")
	c.write(append(frame(auth, 2, 7), frame(kmsg.NewPtrMetadataRequest(), 12, 8)...))
	resp := kmsg.NewPtrSASLAuthenticateResponse()
	resp.Version = 2
	corr, body := c.read(true)
	if err := resp.ReadFrom(body); err != nil || corr != 7 {
		t.Fatalf("authenticate answer: corr %d, %v", corr, err)
	}
	if resp.ErrorCode != kerr.SaslAuthenticationFailed.Code || resp.ErrorMessage == nil {
		t.Fatalf("authenticate: %v %v", kerr.ErrorForCode(resp.ErrorCode), resp.ErrorMessage)
	}
	c.expectClosed()
}

// TestSASLStateMachine drives the handshake by hand: anything but
// ApiVersions and SaslHandshake before authentication closes the
// connection without an answer (as does a second ApiVersions unless the
// first was above our range (KIP-511), or any
// request but SaslAuthenticate after the handshake); an unknown mechanism
// is answered with the enabled list and closes; after authentication a
// second handshake or authenticate is ILLEGAL_SASL_STATE on an open
// connection; on a PLAINTEXT listener both are ILLEGAL_SASL_STATE.
func TestSASLStateMachine(t *testing.T) {
	b := startSASL(t)
	addr := b.KafkaAddr("SASL_PLAINTEXT")
	handshake := func(mech string) *kmsg.SASLHandshakeRequest {
		r := kmsg.NewPtrSASLHandshakeRequest()
		r.Mechanism = mech
		return r
	}
	authenticate := func(token string) *kmsg.SASLAuthenticateRequest {
		r := kmsg.NewPtrSASLAuthenticateRequest()
		r.SASLAuthBytes = []byte(token)
		return r
	}
	closes := []struct {
		name string
		reqs []kmsg.Request
	}{
		{"metadata first", []kmsg.Request{kmsg.NewPtrMetadataRequest()}},
		{"authenticate before handshake", []kmsg.Request{authenticate("\x00alice\x00alice-secret")}},
		{"metadata after api versions", []kmsg.Request{kmsg.NewPtrApiVersionsRequest(), kmsg.NewPtrMetadataRequest()}},
		{"api versions twice", []kmsg.Request{kmsg.NewPtrApiVersionsRequest(), kmsg.NewPtrApiVersionsRequest()}},
		{"metadata after handshake", []kmsg.Request{handshake("PLAIN"), kmsg.NewPtrMetadataRequest()}},
		{"handshake twice", []kmsg.Request{handshake("PLAIN"), handshake("PLAIN")}},
	}
	// Versions Tern speaks (kmsg's maxima can be newer).
	version := map[int16]int16{3: 12, 17: 1, 18: 3, 36: 2}
	for _, tc := range closes {
		c := dialRaw(t, addr)
		for i, req := range tc.reqs {
			if i < len(tc.reqs)-1 {
				c.roundTrip(req, version[req.Key()])
				continue
			}
			c.write(frame(req, version[req.Key()], 9))
			c.expectClosed()
		}
	}

	// An unknown mechanism: answered with the enabled list, then closed.
	c := dialRaw(t, addr)
	resp := c.roundTrip(handshake("GSSAPI"), 1).(*kmsg.SASLHandshakeResponse)
	if resp.ErrorCode != kerr.UnsupportedSaslMechanism.Code || strings.Join(resp.SupportedMechanisms, ",") != "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512" {
		t.Fatalf("GSSAPI: %v %v", kerr.ErrorForCode(resp.ErrorCode), resp.SupportedMechanisms)
	}
	c.expectClosed()

	// KIP-511: ApiVersions above our range is answered in v0 and the
	// client may retry before the handshake.
	c = dialRaw(t, addr)
	c.write(frame(kmsg.NewPtrApiVersionsRequest(), 5, 1))
	_, body := c.read(false)
	av := kmsg.NewPtrApiVersionsResponse()
	if err := av.ReadFrom(body); err != nil || av.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Fatalf("ApiVersions v5: %v %v", err, kerr.ErrorForCode(av.ErrorCode))
	}
	c.roundTrip(kmsg.NewPtrApiVersionsRequest(), 3)
	if h := c.roundTrip(handshake("PLAIN"), 1).(*kmsg.SASLHandshakeResponse); h.ErrorCode != 0 {
		t.Fatalf("handshake after the KIP-511 retry: %v", kerr.ErrorForCode(h.ErrorCode))
	}

	// A frame over 512 KiB before authentication closes at once.
	c = dialRaw(t, addr)
	c.write([]byte{0, 9, 0, 0})
	c.expectClosed()

	// Authenticated: a second handshake or authenticate is refused, and
	// the connection goes on serving.
	c = dialRaw(t, addr)
	c.roundTrip(kmsg.NewPtrApiVersionsRequest(), 3)
	c.roundTrip(handshake("PLAIN"), 1)
	if a := c.roundTrip(authenticate("\x00alice\x00alice-secret"), 2).(*kmsg.SASLAuthenticateResponse); a.ErrorCode != 0 || a.SessionLifetimeMillis != 0 {
		t.Fatalf("authenticate: %v, lifetime %d", kerr.ErrorForCode(a.ErrorCode), a.SessionLifetimeMillis)
	}
	if h := c.roundTrip(handshake("PLAIN"), 1).(*kmsg.SASLHandshakeResponse); h.ErrorCode != kerr.IllegalSaslState.Code {
		t.Fatalf("second handshake: %v", kerr.ErrorForCode(h.ErrorCode))
	}
	if a := c.roundTrip(authenticate("x"), 2).(*kmsg.SASLAuthenticateResponse); a.ErrorCode != kerr.IllegalSaslState.Code {
		t.Fatalf("second authenticate: %v", kerr.ErrorForCode(a.ErrorCode))
	}
	if md := c.roundTrip(kmsg.NewPtrMetadataRequest(), 12).(*kmsg.MetadataResponse); len(md.Brokers) != 1 {
		t.Fatalf("metadata after authentication: %+v", md)
	}

	// PLAINTEXT: the SASL requests exist but refer to no state.
	c = dialRaw(t, b.KafkaAddr("PLAINTEXT"))
	if h := c.roundTrip(handshake("PLAIN"), 1).(*kmsg.SASLHandshakeResponse); h.ErrorCode != kerr.IllegalSaslState.Code {
		t.Fatalf("handshake on PLAINTEXT: %v", kerr.ErrorForCode(h.ErrorCode))
	}
	if a := c.roundTrip(authenticate("\x00alice\x00alice-secret"), 2).(*kmsg.SASLAuthenticateResponse); a.ErrorCode != kerr.IllegalSaslState.Code {
		t.Fatalf("authenticate on PLAINTEXT: %v", kerr.ErrorForCode(a.ErrorCode))
	}
	c.roundTrip(kmsg.NewPtrMetadataRequest(), 12)
}

// TestSASLHandshakeV0RawTokens covers the pre-KIP-152 flow Kafka 4 still
// serves: after SaslHandshake v0 the tokens travel as bare size-prefixed
// frames. A good PLAIN token is answered with an empty one and requests
// follow; a bad one closes the connection unanswered; franz-go pinned to
// v0 authenticates with SCRAM over it.
func TestSASLHandshakeV0RawTokens(t *testing.T) {
	b := startSASL(t)
	addr := b.KafkaAddr("SASL_PLAINTEXT")
	rawToken := func(c *rawConn, token string) {
		c.write(append([]byte{0, 0, 0, byte(len(token))}, token...))
	}
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Mechanism = "PLAIN"

	c := dialRaw(t, addr)
	c.roundTrip(hs, 0)
	rawToken(c, "\x00alice\x00alice-secret")
	var size [4]byte
	if _, err := c.nc.Read(size[:]); err != nil || size != [4]byte{} {
		t.Fatalf("PLAIN v0 answer: %v %v, want an empty token", size, err)
	}
	c.roundTrip(kmsg.NewPtrMetadataRequest(), 12)

	c = dialRaw(t, addr)
	c.roundTrip(hs, 0)
	rawToken(c, "\x00alice\x00nope")
	c.expectClosed()

	ctx := ctxT(t, 30*time.Second)
	v0 := kversionWithSASLHandshakeV0()
	cl := saslClient(t, b, "SASL_PLAINTEXT", scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism(), kgo.MaxVersions(v0))
	if _, err := kadm.NewClient(cl).ListTopics(ctx); err != nil {
		t.Fatalf("SCRAM over SaslHandshake v0: %v", err)
	}
}

// kversionWithSASLHandshakeV0 is the versions franz-go speaks, with
// SaslHandshake pinned to v0 (bare SASL tokens).
func kversionWithSASLHandshakeV0() *kversion.Versions {
	v := kversion.Stable()
	v.SetMaxKeyVersion(17, 0)
	return v
}
