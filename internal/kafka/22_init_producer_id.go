package kafka

import (
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// InitProducerID, versions 0-4.
//
// Idempotent producers get a producer id never handed out before, even
// across restarts (ids are reserved in blocks in the metadata log), with
// epoch 0. v3+ (KIP-360): a producer that passes its id and epoch gets the
// same id with the epoch bumped, or a new id when the epoch would
// overflow, so it can reset its sequences after an error.
// A TransactionalID is refused with INVALID_REQUEST until transactions
// arrive (the transactions issue).
func (c *conn) handleInitProducerID(r *request) {
	req := r.kreq.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	switch {
	case req.TransactionalID != nil && *req.TransactionalID != "":
		resp.ErrorCode = kerr.InvalidRequest.Code
	case req.ProducerID >= 0 && req.ProducerEpoch >= 0 && req.ProducerEpoch < math.MaxInt16-1:
		resp.ProducerID, resp.ProducerEpoch = req.ProducerID, req.ProducerEpoch+1
	default:
		id, err := c.s.broker.AllocateProducerID(c.ctx)
		resp.ErrorCode = errCode(err)
		if err == nil {
			resp.ProducerID, resp.ProducerEpoch = id, 0
		}
	}
	r.respond(resp)
}
