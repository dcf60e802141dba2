package kafka

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker/txn"
)

// ListTransactions, versions 0-1 (KIP-664, KIP-994's duration filter).
//
// Every transactional id, narrowed by state, producer id and (v1) how
// long its open transaction has run. State names Tern does not know come
// back in UnknownStateFilters and match nothing. As Kafka, only ids the
// caller may DESCRIBE are listed.
func (c *conn) handleListTransactions(r *request) {
	req := r.kreq.(*kmsg.ListTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	f := txn.ListFilter{ProducerIDs: req.ProducerIDFilters, MinDuration: req.DurationFilterMillis}
	for _, name := range req.StateFilters {
		if s, ok := txn.ParseState(name); ok {
			f.States = append(f.States, s)
		} else {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, name)
		}
	}
	if len(req.StateFilters) > 0 && len(f.States) == 0 {
		r.respond(resp) // only unknown states: nothing matches
		return
	}
	az := c.authz()
	for _, t := range c.s.broker.Txns.List(f) {
		if !az.Allowed(opDescribe, resTxnID, t.ID) {
			continue
		}
		rs := kmsg.NewListTransactionsResponseTransactionState()
		rs.TransactionalID, rs.ProducerID, rs.TransactionState = t.ID, t.ProducerID, t.State.String()
		resp.TransactionStates = append(resp.TransactionStates, rs)
	}
	r.respond(resp)
}
