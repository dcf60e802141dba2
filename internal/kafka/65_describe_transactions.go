package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeTransactions, version 0 (KIP-664).
//
// Each transactional id's state, producer id and epoch, timeout, start
// time and partitions; an unknown id is TRANSACTIONAL_ID_NOT_FOUND. As
// Kafka: an id needs DESCRIBE on it
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), and partitions of topics the
// caller may not DESCRIBE are left out.
func (c *conn) handleDescribeTransactions(r *request) {
	req := r.kreq.(*kmsg.DescribeTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	az := c.authz()
	txns, errs := c.s.broker.Txns.Describe(req.TransactionalIDs)
	for i, t := range txns {
		rs := kmsg.NewDescribeTransactionsResponseTransactionState()
		rs.TransactionalID = t.ID
		if !az.Allowed(opDescribe, resTxnID, t.ID) {
			rs.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
			rs.ProducerID, rs.ProducerEpoch, rs.StartTimestamp = -1, -1, -1
			resp.TransactionStates = append(resp.TransactionStates, rs)
			continue
		}
		rs.ErrorCode = errCode(errs[i])
		rs.State, rs.TimeoutMillis, rs.StartTimestamp = t.State.String(), t.TimeoutMs, t.StartMs
		rs.ProducerID, rs.ProducerEpoch = t.ProducerID, t.ProducerEpoch
		if errs[i] != nil {
			rs.State = ""
		}
		for _, p := range t.Partitions {
			if !az.Allowed(opDescribe, resTopic, p.Topic) {
				continue
			}
			if n := len(rs.Topics); n == 0 || rs.Topics[n-1].Topic != p.Topic {
				rt := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
				rt.Topic = p.Topic
				rs.Topics = append(rs.Topics, rt)
			}
			rt := &rs.Topics[len(rs.Topics)-1]
			rt.Partitions = append(rt.Partitions, p.Partition)
		}
		resp.TransactionStates = append(resp.TransactionStates, rs)
	}
	r.respond(resp)
}
