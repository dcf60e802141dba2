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
// ssl.principal.mapping.rules would extract it). It reports whether the
// connection may go on.
func (c *conn) tlsHandshake() bool {
	cs, isTLS, err := tlsconf.Handshake(c.ctx, c.nc, handshakeTimeout)
	if !isTLS {
		return true
	}
	if err != nil {
		c.logger.Info("closing kafka connection", "err", err)
		return false
	}
	if name, ok := tlsconf.PeerName(cs); ok {
		c.setPrincipal("User:" + name)
	}
	return true
}
