package kafka

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SaslHandshake, versions 0-1 (KIP-43; v1 KIP-152). Kafka 4 keeps v0.
//
// On a SASL listener (sasl.go draws the states): the client names a
// mechanism; one of sasl.enabled.mechanisms answers NONE with the enabled
// list, and the exchange follows in SaslAuthenticate requests (v1) or as
// bare size-prefixed tokens (v0, the pre-KIP-152 flow). Any other
// mechanism answers UNSUPPORTED_SASL_MECHANISM with the list, then the
// connection closes.
//
// On an authenticated connection whose session expires
// (connections.max.reauth.ms > 0), it starts a re-authentication
// (KIP-368) unless the previous one began less than a second ago; the
// mechanism must be the session's (another is accepted here and fails at
// the next frame, as Kafka's REAUTH_BAD_MECHANISM). Otherwise, and on
// PLAINTEXT and SSL listeners, it answers ILLEGAL_SASL_STATE and the
// connection stays open, as Kafka's request handler does.
func (c *conn) handleSASLHandshake(r *request) {
	req := r.kreq.(*kmsg.SASLHandshakeRequest)
	resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
	s := &c.sasl
	if !c.s.cfg.SASL || (s.state == saslDone && !c.canReauth(time.Now())) {
		resp.ErrorCode = kerr.IllegalSaslState.Code
		r.respond(resp)
		return
	}
	if s.state == saslDone {
		s.reauth, s.lastReauth = true, time.Now()
	}
	resp.SupportedMechanisms = c.s.cfg.SASLMechanisms
	if !c.mechanismEnabled(req.Mechanism) {
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		c.logger.Info("closing kafka connection", "client_id", c.clientID, "err", "unsupported SASL mechanism "+req.Mechanism)
		c.failAuth(r, resp)
		return
	}
	if s.reauth && req.Mechanism != s.mech {
		s.state, s.ex = saslBadMechanism, &badMechanism{asked: req.Mechanism}
		r.respond(resp)
		return
	}
	s.mech = req.Mechanism
	s.ex = c.newExchange(req.Mechanism)
	s.state = saslAuthenticate
	if r.version == 0 {
		s.state = saslRawTokens
	}
	r.respond(resp)
}
