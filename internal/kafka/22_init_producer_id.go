package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// InitProducerID, versions 0-4.
//
// Idempotent producers get a producer id never handed out before, even
// across restarts (ids are reserved in blocks in the metadata log), with
// epoch 0. As in Kafka, a non-transactional request always gets a new id,
// even when it passes its current id and epoch (v3+, KIP-360): bumping a
// caller-named id would let any client fence another producer.
// With a TransactionalID the transaction coordinator answers: a new id
// gets a new producer id at epoch 0, a known one its epoch bumped after
// any transaction it left open is aborted (fencing the previous
// producer); v3+ may pass the current id and epoch to recover after a
// coordinator-side abort (KIP-360). TransactionTimeoutMillis must be in
// (0, transaction.max.timeout.ms], else INVALID_TRANSACTION_TIMEOUT.
//
// Authorization, as Kafka: a transactional id needs WRITE on it
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, before anything else); an
// idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on
// at least one topic (KIP-679), else CLUSTER_AUTHORIZATION_FAILED.
func (c *conn) handleInitProducerID(r *request) {
	req := r.kreq.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	az := c.authz()
	transactional := req.TransactionalID != nil && *req.TransactionalID != ""
	switch {
	case transactional && !az.Allowed(opWrite, resTxnID, *req.TransactionalID):
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
	case !transactional && !allowedOnCluster(az, opIdempotentWrite) && !az.AllowedAny(opWrite, resTopic):
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
	case transactional:
		id, epoch, err := c.s.broker.Txns.InitProducerID(c.ctx, *req.TransactionalID, req.TransactionTimeoutMillis, req.ProducerID, req.ProducerEpoch)
		resp.ErrorCode = txnCode(err, r.version, 4)
		if err == nil {
			resp.ProducerID, resp.ProducerEpoch = id, epoch
		}
	default:
		id, err := c.s.broker.AllocateProducerID(c.ctx)
		resp.ErrorCode = errCode(err)
		if err == nil {
			resp.ProducerID, resp.ProducerEpoch = id, 0
		}
	}
	r.respond(resp)
}
