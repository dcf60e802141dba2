package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// EndTxn, versions 0-3.
//
// Commits or aborts the producer's open transaction and answers once the
// decision is durable, every partition has its marker and, on commit,
// every group its offsets. A retried end of a completed transaction gets
// the same answer; ending with nothing open, or committing an aborted
// transaction, is INVALID_TXN_STATE. WRITE on the transactional id is
// needed (TRANSACTIONAL_ID_AUTHORIZATION_FAILED). v4+ (KIP-890's
// TRANSACTION_ABORTABLE, then epoch bumps per transaction) is not offered.
func (c *conn) handleEndTxn(r *request) {
	req := r.kreq.(*kmsg.EndTxnRequest)
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	if !c.authz().Allowed(opWrite, resTxnID, req.TransactionalID) {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		r.respond(resp)
		return
	}
	err := c.s.broker.Txns.EndTxn(c.ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit)
	resp.ErrorCode = txnCode(err, r.version, 2)
	r.respond(resp)
}
