package kafka

import (
	"time"

	"github.com/ternmq/tern/internal/tlsconf"
)

// anonymous is the principal of a connection that has not authenticated:
// Kafka's name for clients on a PLAINTEXT listener.
const anonymous = "User:ANONYMOUS"

// principal is who the connection acts as, in Kafka's "User:name" form:
// anonymous until SASL authentication or a TLS client certificate names
// someone. ACLs are matched against it.
func (c *conn) principal() string {
	if p := c.princ.Load(); p != nil {
		return *p
	}
	return anonymous
}

// setPrincipal records who authenticated on this connection.
func (c *conn) setPrincipal(p string) { c.princ.Store(&p) }

// handshakeTimeout bounds the TLS handshake of a new connection.
const handshakeTimeout = 10 * time.Second

// tlsHandshake finishes the TLS handshake on an SSL or SASL_SSL listener
// before any request is read, and takes the principal from a verified
// client certificate: "User:" and its common name (as Kafka's
// ssl.principal.mapping.rules would extract it). On an SSL listener that
// user then holds one of its max.connections.per.user slots until the
// connection closes. It reports whether the connection may go on.
func (c *conn) tlsHandshake() bool {
	cs, isTLS, err := tlsconf.Handshake(c.ctx, c.nc, handshakeTimeout)
	if !isTLS {
		return true
	}
	if err != nil {
		c.logger.Info("closing kafka connection", "err", err)
		return false
	}
	name, ok := tlsconf.PeerName(cs)
	if !ok || c.s.cfg.SASL {
		// On SASL_SSL the principal is who authenticates next.
		return true
	}
	c.setPrincipal("User:" + name)
	// The certificate's user is a login like any other: the loopback
	// rule and the per-user connection limit apply to it.
	if err := c.s.broker.CheckLoopback(name, c.remote); err != nil {
		c.logger.Info("closing kafka connection", "user", name, "err", err)
		return false
	}
	release, err := c.s.broker.Connected(name)
	if err != nil {
		c.logger.Info("closing kafka connection", "user", name, "err", err)
		return false
	}
	c.sasl.release = release
	return true
}
