package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker/txn"
)

// AddPartitionsToTxn, versions 0-3.
//
// The partitions join the producer's open transaction (opening one), and
// are durable in the transaction log before the answer, so a produce to
// them is accepted and their markers are certain to be written. v4+ (the
// broker-to-broker batched form of KIP-890) is not offered.
//
// As Kafka: WRITE on the transactional id first
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED on every partition), then WRITE
// on each topic (TOPIC_AUTHORIZATION_FAILED) and existence
// (UNKNOWN_TOPIC_OR_PARTITION); if any partition fails, nothing is added
// and the others answer OPERATION_NOT_ATTEMPTED. A fenced epoch is
// PRODUCER_FENCED from v2, INVALID_PRODUCER_EPOCH before.
func (c *conn) handleAddPartitionsToTxn(r *request) {
	req := r.kreq.(*kmsg.AddPartitionsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	az := c.authz()
	codes := make([][]int16, len(req.Topics))
	failed := false
	txnAllowed := az.Allowed(opWrite, resTxnID, req.TransactionalID)
	var parts []txn.Partition
	for i, t := range req.Topics {
		topicAllowed := az.Allowed(opWrite, resTopic, t.Topic)
		codes[i] = make([]int16, len(t.Partitions))
		for j, p := range t.Partitions {
			var code int16
			switch {
			case !txnAllowed:
				code = kerr.TransactionalIDAuthorizationFailed.Code
			case !topicAllowed:
				code = kerr.TopicAuthorizationFailed.Code
			default:
				if _, _, _, err := c.s.broker.PartitionOffsets(t.Topic, p); err != nil {
					code = errCode(err)
				}
			}
			codes[i][j] = code
			failed = failed || code != 0
			parts = append(parts, txn.Partition{Topic: t.Topic, Partition: p})
		}
	}
	var all int16
	switch {
	case failed:
		all = kerr.OperationNotAttempted.Code
	case len(parts) > 0:
		all = txnCode(c.s.broker.Txns.AddPartitions(c.ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, parts), r.version, 2)
	}
	for i, t := range req.Topics {
		rt := kmsg.NewAddPartitionsToTxnResponseTopic()
		rt.Topic = t.Topic
		for j, p := range t.Partitions {
			rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p, codes[i][j]
			if rp.ErrorCode == 0 {
				rp.ErrorCode = all
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	r.respond(resp)
}
