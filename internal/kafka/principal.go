package kafka

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
