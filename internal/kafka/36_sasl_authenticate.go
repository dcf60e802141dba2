package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SaslAuthenticate, versions 0-2 (KIP-152; v1 SessionLifetimeMs, KIP-368;
// v2 flexible).
//
// Carries the tokens of the exchange SaslHandshake v1 started (sasl.go):
// PLAIN in one round, SCRAM-SHA-256/512 in two. Every request is
// answered, an empty token included. Success sets the connection's
// principal to User:<name> and, when connections.max.reauth.ms is set,
// SessionLifetimeMs (v1+). A failure answers SASL_AUTHENTICATION_FAILED
// with Kafka's message ("Authentication failed: Invalid username or
// password" for PLAIN; "... due to invalid credentials with SASL
// mechanism ..." for SCRAM, which must not tell whether the user exists),
// then closes the connection. After authentication, and on PLAINTEXT and
// SSL listeners, it answers ILLEGAL_SASL_STATE and the connection stays
// open, as Kafka's request handler does.
func (c *conn) handleSASLAuthenticate(r *request) {
	req := r.kreq.(*kmsg.SASLAuthenticateRequest)
	resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
	if c.sasl.state != saslAuthenticate {
		resp.ErrorCode = kerr.IllegalSaslState.Code
		msg := "SaslAuthenticate request received after successful authentication"
		resp.ErrorMessage = &msg
		r.respond(resp)
		return
	}
	reply, done, err := c.saslStep(req.SASLAuthBytes)
	if err != nil {
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		msg := err.Error()
		resp.ErrorMessage = &msg
		c.failAuth(r, resp)
		return
	}
	if reply == nil {
		reply = []byte{}
	}
	resp.SASLAuthBytes = reply
	if done && c.s.cfg.ReauthAfter > 0 {
		resp.SessionLifetimeMillis = c.s.cfg.ReauthAfter.Milliseconds()
	}
	r.respond(resp)
}
