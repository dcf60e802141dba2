package kafka

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/xdg-go/scram"

	"github.com/ternmq/tern/internal/broker"
)

// SASL authentication of a connection on a SASL_PLAINTEXT or SASL_SSL
// listener, as Kafka's SaslServerAuthenticator does it toward clients:
//
//	start ──ApiVersions──▶ handshake ──SaslHandshake v1──▶ authenticate ──SaslAuthenticate…──▶ done
//	  └──────────SaslHandshake────────┘        └──SaslHandshake v0──▶ raw tokens ──…──▶ done
//
// Before done, only the requests of the arrow leaving the current state
// are accepted; anything else closes the connection without an answer
// (Kafka answers a request other than SaslAuthenticate in the
// authenticate state with its error response first; Tern only closes).
// A failed authentication is answered (SaslHandshake with
// UNSUPPORTED_SASL_MECHANISM, SaslAuthenticate with
// SASL_AUTHENTICATION_FAILED) after failedAuthDelay, then the connection
// closes; raw-token (SaslHandshake v0) failures close without an answer.
// Frames before authentication are capped at saslMaxReceive.
//
// KIP-368: with Config.ReauthAfter set, a session lasts that long
// (SessionLifetimeMs in SaslAuthenticate v1+). The client re-authenticates
// with SaslHandshake and SaslAuthenticate on the same connection, at most
// once a second, with the same mechanism and the same principal; other
// requests already in flight carry on. Once the session has expired,
// any request but a re-authenticating SaslHandshake closes the connection.
//
// The session is owned by the connection's reader goroutine: every SASL
// request is handled there, in order, before the next frame is read.

type saslState uint8

const (
	saslStart        saslState = iota // ApiVersions or SaslHandshake
	saslHandshake                     // after ApiVersions: SaslHandshake only
	saslAuthenticate                  // after SaslHandshake v1: SaslAuthenticate only
	saslRawTokens                     // after SaslHandshake v0: frames are bare SASL tokens
	saslBadMechanism                  // a re-authentication named another mechanism: the next frame fails
	saslDone                          // authenticated (or not a SASL listener)
)

const (
	saslHandshakeKey    = 17
	saslAuthenticateKey = 36

	// saslMaxReceive caps a frame before authentication (Kafka's
	// sasl.server.max.receive.size), so an unauthenticated client cannot
	// make the broker buffer max.request.bytes.
	saslMaxReceive = 512 << 10
	// failedAuthDelay holds back the answer to a failed authentication and
	// the close that follows (Kafka's connection.failed.authentication.delay.ms).
	failedAuthDelay = 100 * time.Millisecond
	// minReauthInterval: a re-authentication starting sooner than this
	// after the previous one is refused with ILLEGAL_SASL_STATE, as in Kafka.
	minReauthInterval = time.Second
)

// saslSession is a connection's authentication state.
type saslSession struct {
	state saslState
	// reauth is set while a re-authentication (KIP-368) runs.
	reauth bool
	// mech is the mechanism of the exchange, kept after success:
	// re-authentication must use the same.
	mech string
	ex   saslExchange
	// user is who authenticated ("" before); re-authentication must
	// name the same user.
	user string
	// expiry ends the session (zero: never); lastReauth is when the
	// latest re-authentication began.
	expiry, lastReauth time.Time
	// release gives back the user's connection slot
	// (broker.Connected), taken at the first authentication or for a
	// TLS client certificate's user.
	release func()
	// stop asks the reader to stop after the current frame: an
	// authentication failed and the connection closes once answered.
	stop bool
}

// saslExchange is the server side of one mechanism's exchange.
type saslExchange interface {
	// step takes the client's next message and returns the reply; done
	// means the client authenticated as user(). An error is a failed
	// authentication whose Error() is what the client is told.
	step(msg []byte) (reply []byte, done bool, err error)
	user() string
}

// authFailure is a failed authentication: msg goes to the client.
type authFailure struct{ msg string }

func (e *authFailure) Error() string { return e.msg }

func (c *conn) initSASL() {
	if !c.s.cfg.SASL {
		c.sasl.state = saslDone
	}
}

// endSASL runs when the connection has closed.
func (c *conn) endSASL() {
	if c.sasl.release != nil {
		c.sasl.release()
	}
}

// maxFrame is the largest request frame the connection accepts now.
func (c *conn) maxFrame() int32 {
	if c.sasl.state != saslDone {
		return min(saslMaxReceive, c.s.cfg.MaxRequestBytes)
	}
	return c.s.cfg.MaxRequestBytes
}

// rawTokenNext reports whether the next frame is a bare SASL token.
func (c *conn) rawTokenNext() bool { return c.sasl.state == saslRawTokens }

// saslGate decides, before the body is parsed, whether a request with
// this key may be served now; an error closes the connection. versionOK
// is false for an ApiVersions request above our range, which is
// answered (KIP-511) without moving the state on, as in Kafka.
func (c *conn) saslGate(key int16, versionOK bool) error {
	s := &c.sasl
	switch s.state {
	case saslDone:
		if !s.expiry.IsZero() && time.Now().After(s.expiry) && !(key == saslHandshakeKey && c.canReauth(time.Now())) {
			return fmt.Errorf("SASL session of %s expired %s ago (connections.max.reauth.ms) and the client sent %s instead of re-authenticating",
				s.user, time.Since(s.expiry).Round(time.Millisecond), kmsg.NameForKey(key))
		}
		return nil
	case saslStart:
		if key == apiVersionsKey {
			if versionOK {
				s.state = saslHandshake
			}
			return nil
		}
		if key == saslHandshakeKey {
			return nil
		}
	case saslHandshake:
		if key == saslHandshakeKey {
			return nil
		}
	case saslAuthenticate:
		if key == saslAuthenticateKey {
			return nil
		}
		return fmt.Errorf("unexpected %s request during SASL authentication", kmsg.NameForKey(key))
	case saslBadMechanism:
		return fmt.Errorf("SASL mechanism %s requested for re-authentication of mechanism %s", s.ex.(*badMechanism).asked, s.mech)
	}
	return fmt.Errorf("unexpected %s request during SASL handshake", kmsg.NameForKey(key))
}

// canReauth reports whether a SaslHandshake on an authenticated
// connection starts a re-authentication: only when sessions expire, and
// not within minReauthInterval of the previous one.
func (c *conn) canReauth(now time.Time) bool {
	return c.s.cfg.SASL && c.s.cfg.ReauthAfter > 0 &&
		(c.sasl.lastReauth.IsZero() || now.Sub(c.sasl.lastReauth) >= minReauthInterval)
}

func (c *conn) mechanismEnabled(m string) bool { return slices.Contains(c.s.cfg.SASLMechanisms, m) }

// newExchange starts mechanism's exchange.
func (c *conn) newExchange(mech string) saslExchange {
	env := exchangeEnv{b: c.s.broker, remote: c.remote, fakeKey: c.s.saslFakeKey, what: "authentication"}
	if c.sasl.reauth {
		env.what = "re-authentication"
	}
	return newSASLExchange(env, mech)
}

// newSASLExchange starts mechanism's exchange for a client.
func newSASLExchange(env exchangeEnv, mech string) saslExchange {
	switch mech {
	case "PLAIN":
		return &plainExchange{exchangeEnv: env}
	case "SCRAM-SHA-256":
		return newScramExchange(env, mech, scram.SHA256)
	default: // "SCRAM-SHA-512"; config validation allows nothing else
		return newScramExchange(env, mech, scram.SHA512)
	}
}

// saslStep runs one client message through the exchange and, when it
// completes, finishes the authentication. An error means it failed.
func (c *conn) saslStep(msg []byte) (reply []byte, done bool, err error) {
	s := &c.sasl
	reply, done, err = s.ex.step(msg)
	if err != nil || !done {
		return reply, done, err
	}
	user := s.ex.user()
	if s.reauth {
		if user != s.user {
			return nil, false, &authFailure{fmt.Sprintf("Cannot change principals during re-authentication from User.%s: User.%s", s.user, user)}
		}
	} else {
		release, err := c.s.broker.Connected(user)
		if err != nil {
			// Not a failed login: the credentials were right.
			c.logger.Info("refusing kafka login", "user", user, "mechanism", s.mech, "err", err)
			return nil, false, &authFailure{fmt.Sprintf("Authentication failed: %v", err)}
		}
		s.release = release
	}
	c.setPrincipal("User:" + user)
	c.logger.Debug("kafka client authenticated", "user", user, "mechanism", s.mech, "reauthentication", s.reauth)
	s.user, s.state, s.reauth, s.ex = user, saslDone, false, nil
	if c.s.cfg.ReauthAfter > 0 {
		s.expiry = time.Now().Add(c.s.cfg.ReauthAfter)
	}
	return reply, true, nil
}

// failAuth answers a failed authentication after failedAuthDelay and
// closes the connection; resp nil closes without an answer. It runs on
// the reader, which stops reading: nothing else of this client is served.
func (c *conn) failAuth(r *request, resp kmsg.Response) {
	c.sasl.stop = true
	r.close = true
	if resp == nil {
		r.noAnswer = true
	}
	t := time.NewTimer(failedAuthDelay)
	select {
	case <-t.C:
	case <-c.ctx.Done():
		t.Stop()
	}
	r.respond(resp)
}

// handleRawToken serves a frame after SaslHandshake v0: a bare token
// whose reply is a bare token (pre-KIP-152 clients).
func (c *conn) handleRawToken(body []byte) *request {
	r := &request{key: -1, done: make(chan struct{})}
	reply, _, err := c.saslStep(body)
	if err != nil {
		c.failAuth(r, nil)
		return r
	}
	if reply == nil {
		reply = []byte{}
	}
	r.raw = reply
	r.respond(nil)
	return r
}

// exchangeEnv is what an exchange needs of the connection.
type exchangeEnv struct {
	b      *broker.Broker
	remote netip.Addr
	// fakeKey derives stable fake salts for unknown SCRAM users.
	fakeKey []byte
	// what is "authentication" or "re-authentication", for messages.
	what string
}

// invalidCredentials is Kafka's answer to a failed exchange whose cause
// must not be told (it could reveal whether the user exists).
func (e exchangeEnv) invalidCredentials(mech string) error {
	return &authFailure{fmt.Sprintf("Authentication failed during %s due to invalid credentials with SASL mechanism %s", e.what, mech)}
}

// tooManyFailures is the answer while the address is over the
// login-failure limit (auth.failures.per.minute).
var tooManyFailures = &authFailure{"Authentication failed: too many failed logins from this address; try again later"}

// plainExchange is SASL PLAIN (RFC 4616): authzid NUL authcid NUL passwd,
// checked against the user store; authzid must be empty or the user.
type plainExchange struct {
	exchangeEnv
	name string
}

func (p *plainExchange) user() string { return p.name }

func (p *plainExchange) step(msg []byte) ([]byte, bool, error) {
	parts := bytes.Split(msg, []byte{0})
	if len(parts) != 3 || len(parts[1]) == 0 || len(parts[2]) == 0 {
		p.b.LoginFailed(p.remote, "", "PLAIN", errors.New("malformed PLAIN message"))
		return nil, false, p.invalidCredentials("PLAIN")
	}
	authz, name, pass := string(parts[0]), string(parts[1]), string(parts[2])
	// AuthenticateMechanism applies the failed-login limit itself.
	if _, err := p.b.AuthenticateMechanism(name, pass, p.remote, "PLAIN"); err != nil {
		if errors.Is(err, broker.ErrLoginThrottled) {
			return nil, false, tooManyFailures
		}
		if errors.Is(err, broker.ErrAccessRefused) {
			return nil, false, &authFailure{fmt.Sprintf("Authentication failed: user %s may only connect from localhost", name)}
		}
		return nil, false, &authFailure{"Authentication failed: Invalid username or password"}
	}
	if authz != "" && authz != name {
		p.b.LoginFailed(p.remote, name, "PLAIN", errors.New("authorization id differs from the user name"))
		return nil, false, &authFailure{"Authentication failed: Client requested an authorization id that is different from username"}
	}
	p.name = name
	return []byte{}, true, nil
}

// scramExchange is SASL SCRAM-SHA-256/512 (RFC 5802, RFC 7677) run by
// xdg-go/scram's server over the user store's credentials. An unknown
// user gets a fake credential (a salt derived from its name, keys no
// proof matches), so it fails at the same step and with the same answer
// as a wrong password: the exchange does not tell which users exist.
type scramExchange struct {
	exchangeEnv
	mech string
	h    func() hash.Hash
	conv *scram.ServerConversation

	steps       int
	name        string
	known       bool
	refused     bool // over the login-failure limit
	cred        broker.ScramCredential
	clientFirst string
	serverFirst string
}

func newScramExchange(env exchangeEnv, mech string, gen scram.HashGeneratorFcn) *scramExchange {
	x := &scramExchange{exchangeEnv: env, mech: mech, h: gen}
	srv, _ := gen.NewServer(x.lookup) // never fails
	x.conv = srv.NewConversation()
	return x
}

func (x *scramExchange) user() string { return x.name }

// lookup is xdg-go's CredentialLookup, called with the client-first
// message's user name.
func (x *scramExchange) lookup(name string) (scram.StoredCredentials, error) {
	x.name = name
	if err := x.b.LoginAllowed(x.remote, name, x.mech); err != nil {
		x.refused = true
		return scram.StoredCredentials{}, err
	}
	cred, ok := x.b.ScramCredential(name, x.mech)
	x.known = ok
	if !ok {
		cred = fakeCredential(x.fakeKey, x.mech, name)
	}
	x.cred = cred
	return scram.StoredCredentials{
		KeyFactors: scram.KeyFactors{Salt: string(cred.Salt), Iters: cred.Iterations},
		StoredKey:  cred.StoredKey,
		ServerKey:  cred.ServerKey,
	}, nil
}

// fakeCredential stands in for a user that does not exist: the same salt
// every time for the same name (so two probes cannot tell it from a real
// one), and random keys no proof matches.
func fakeCredential(key []byte, mech, name string) broker.ScramCredential {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(mech + "\x00" + name))
	stored, server := make([]byte, 64), make([]byte, 64)
	rand.Read(stored)
	rand.Read(server)
	return broker.ScramCredential{Salt: m.Sum(nil)[:16], Iterations: broker.ScramMinIterations, StoredKey: stored, ServerKey: server}
}

func (x *scramExchange) step(msg []byte) ([]byte, bool, error) {
	x.steps++
	switch x.steps {
	case 1:
		reply, err := x.conv.Step(string(msg))
		if err != nil {
			if x.refused {
				return nil, false, tooManyFailures
			}
			// xdg-go's parse errors quote the message: never log them.
			x.b.LoginFailed(x.remote, x.name, x.mech, errors.New("malformed SCRAM client-first message"))
			return nil, false, x.invalidCredentials(x.mech)
		}
		x.clientFirst, x.serverFirst = string(msg), reply
		return []byte(reply), false, nil
	case 2:
		reply, err := x.conv.Step(string(msg))
		if err != nil || !x.conv.Valid() {
			var ok bool
			if reply, ok = x.librdkafkaFinal(string(msg)); !ok {
				reason := "malformed SCRAM client-final message"
				if strings.HasPrefix(reply, scram.ErrInvalidProof) || reply == scram.ErrOtherError {
					reason = "wrong user name or password"
				}
				x.b.LoginFailed(x.remote, x.name, x.mech, errors.New(reason))
				return nil, false, x.invalidCredentials(x.mech)
			}
		}
		if !x.known { // unreachable: no proof matches a fake credential
			x.b.LoginFailed(x.remote, x.name, x.mech, errors.New("wrong user name or password"))
			return nil, false, x.invalidCredentials(x.mech)
		}
		if err := x.b.CheckLoopback(x.name, x.remote); err != nil {
			x.b.LoginFailed(x.remote, x.name, x.mech, err)
			return nil, false, &authFailure{fmt.Sprintf("Authentication failed: user %s may only connect from localhost", x.name)}
		}
		if a := x.conv.AuthzID(); a != "" && a != x.name {
			x.b.LoginFailed(x.remote, x.name, x.mech, errors.New("authorization id differs from the user name"))
			return nil, false, &authFailure{"Authentication failed: Client requested an authorization id that is different from username"}
		}
		return []byte(reply), true, nil
	default:
		return nil, false, x.invalidCredentials(x.mech)
	}
}

// librdkafkaFinal accepts the client-final message librdkafka before
// 2.6.1 sends (confluentinc/librdkafka#4895): its nonce repeats the
// client nonce in front of the combined one, r=<c-nonce><c-nonce><s-nonce>.
// Kafka 3.8.1 to 3.9 accepted it, Kafka 4 does not; Debian's kcat links
// librdkafka 2.0. The proof is checked over the message as sent, so the
// server's fresh nonce is still bound into it and nothing weaker than
// RFC 5802 is accepted. It returns the server-final message.
func (x *scramExchange) librdkafkaFinal(final string) (string, bool) {
	if !x.known || x.clientFirst == "" {
		return "", false
	}
	f := strings.Split(final, ",")
	i := strings.Index(x.clientFirst, ",")
	if len(f) != 3 || i < 0 {
		return "", false
	}
	j := strings.Index(x.clientFirst[i+1:], ",")
	if j < 0 {
		return "", false
	}
	gs2, bare := x.clientFirst[:i+1+j+1], x.clientFirst[i+1+j+1:]
	cnonce := scramAttr(bare, "r")
	full := scramAttr(x.serverFirst, "r")
	if cnonce == "" || full == "" || f[0] != "c="+base64.StdEncoding.EncodeToString([]byte(gs2)) || f[1] != "r="+cnonce+full || !strings.HasPrefix(f[2], "p=") {
		return "", false
	}
	proof, err := base64.StdEncoding.DecodeString(f[2][2:])
	if err != nil {
		return "", false
	}
	authMsg := bare + "," + x.serverFirst + "," + f[0] + "," + f[1]
	mac := func(key []byte) []byte {
		m := hmac.New(x.h, key)
		m.Write([]byte(authMsg))
		return m.Sum(nil)
	}
	sig := mac(x.cred.StoredKey)
	if len(proof) != len(sig) {
		return "", false
	}
	for k := range proof {
		proof[k] ^= sig[k]
	}
	h := x.h()
	h.Write(proof)
	if !hmac.Equal(h.Sum(nil), x.cred.StoredKey) {
		return "", false
	}
	return "v=" + base64.StdEncoding.EncodeToString(mac(x.cred.ServerKey)), true
}

// scramAttr returns attribute k's value in a comma-separated SCRAM message.
func scramAttr(msg, k string) string {
	for _, f := range strings.Split(msg, ",") {
		if v, ok := strings.CutPrefix(f, k+"="); ok {
			return v
		}
	}
	return ""
}

// badMechanism stands in for the exchange after a re-authentication's
// SaslHandshake named another mechanism than the session's: the
// handshake is accepted, the next frame ends the connection (Kafka's
// REAUTH_BAD_MECHANISM).
type badMechanism struct{ asked string }

func (b *badMechanism) step([]byte) ([]byte, bool, error) {
	return nil, false, &authFailure{"SASL mechanism " + b.asked + " is not supported for re-authentication"}
}
func (*badMechanism) user() string { return "" }
