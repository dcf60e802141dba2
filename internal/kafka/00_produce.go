package kafka

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/message"
)

// Produce, versions 3-11 (v3 is the first with RecordBatch v2; Kafka 4.0
// removed older ones).
//
// Every partition's batches are validated (size, magic, CRC, record
// count) and written in request order on the reader goroutine, so an
// idempotent producer's pipelined requests reach the log in the order
// sent. The durability wait (fsync=always: group commit) runs off the
// reader, and the answer goes out once every partition is durable; acks=1
// and acks=-1 both wait, since on one node the leader is every replica.
// acks=0 gets no answer; as in Kafka, a failed acks=0 produce closes the
// connection so the client refreshes its metadata.
//
// Ignored: TimeoutMillis (Tern never answers REQUEST_TIMED_OUT; the write
// is already in the log when the wait starts). TransactionID: transactions
// arrive with the transactions issue; a transactional batch is refused.
//
// Authorization, as Kafka: transactional batches need WRITE on the
// request's transactional id (else every partition gets
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED); each topic needs WRITE
// (TOPIC_AUTHORIZATION_FAILED). Kafka never creates a topic on Produce;
// Tern does (auto.create.topics), but with ACLs on only for a principal
// allowed CREATE on the cluster or the topic, the Metadata rule; others
// get UNKNOWN_TOPIC_OR_PARTITION, as from Kafka.
func (c *conn) handleProduce(r *request) {
	req := r.kreq.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	validAcks := req.Acks == -1 || req.Acks == 0 || req.Acks == 1
	az := c.authz()
	txnDenied := az.Enabled() && hasTransactionalBatch(req) &&
		(req.TransactionID == nil || !az.Allowed(opWrite, resTxnID, *req.TransactionID))
	var waits []func() error
	var waitFor []*kmsg.ProduceResponseTopicPartition
	failed := false
	for _, t := range req.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = t.Topic
		denied := int16(0)
		produce := c.s.broker.Produce
		switch {
		case txnDenied:
			denied = kerr.TransactionalIDAuthorizationFailed.Code
		case !az.Allowed(opWrite, resTopic, t.Topic):
			denied = kerr.TopicAuthorizationFailed.Code
		case az.Enabled() && !c.mayAutoCreate(az, t.Topic):
			if _, err := c.s.broker.Topic(c.ctx, t.Topic, false); err != nil {
				denied = errCode(err)
			}
			produce = c.s.broker.ProduceExisting
		}
		for _, p := range t.Partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition = p.Partition
			switch {
			case denied != 0:
				rp.ErrorCode = denied
				rp.BaseOffset, rp.LogAppendTime, rp.LogStartOffset = -1, -1, -1
			case !validAcks:
				rp.ErrorCode = kerr.InvalidRequiredAcks.Code
			default:
				res, wait, err := produce(c.ctx, t.Topic, p.Partition, p.Records)
				rp.BaseOffset, rp.LogAppendTime, rp.LogStartOffset = res.BaseOffset, res.LogAppendTime, res.LogStartOffset
				if err != nil {
					rp.ErrorCode = errCode(err)
					rp.ErrorMessage = errMessage(err)
					c.logger.Debug("produce refused", "topic", t.Topic, "partition", p.Partition, "err", err)
				} else {
					waits = append(waits, wait)
					waitFor = append(waitFor, nil) // filled below, once rt is final
				}
			}
			failed = failed || rp.ErrorCode != 0
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	// Point at the partitions in their final place (appends moved them).
	i := 0
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			rp := &resp.Topics[ti].Partitions[pi]
			if rp.ErrorCode == 0 && validAcks {
				waitFor[i] = rp
				i++
			}
		}
	}
	if req.Acks == 0 {
		r.noAnswer = true
		r.close = failed
		c.goAsync(r, func() {
			waitAll(waits)
			r.respond(resp)
		})
		return
	}
	c.goAsync(r, func() {
		errs := waitAll(waits)
		for i, err := range errs {
			if err != nil {
				waitFor[i].ErrorCode = errCode(err)
				waitFor[i].ErrorMessage = errMessage(err)
				waitFor[i].BaseOffset = -1
			}
		}
		r.respond(resp)
	})
}

// hasTransactionalBatch reports whether any partition's records are a
// transactional batch (Kafka's ProduceRequest.hasTransactionalRecords).
func hasTransactionalBatch(req *kmsg.ProduceRequest) bool {
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			if b, err := message.ParseHeader(p.Records); err == nil && b.Transactional() {
				return true
			}
		}
	}
	return false
}

// mayAutoCreate reports whether the principal may have the topic created
// by using it: CREATE on the cluster or on the topic (Kafka's Metadata
// rule for auto.create.topics.enable).
func (c *conn) mayAutoCreate(az broker.Authorizer, topic string) bool {
	return allowedOnCluster(az, opCreate) || az.Allowed(opCreate, resTopic, topic)
}

// waitAll runs the durability waits of a request's partitions at once:
// each partition is its own file with its own fsync, so waiting in turn
// would make a request over six partitions pay six fsyncs end to end.
func waitAll(waits []func() error) []error {
	errs := make([]error, len(waits))
	if len(waits) == 1 {
		errs[0] = waits[0]()
		return errs
	}
	var wg sync.WaitGroup
	for i, w := range waits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w()
		}()
	}
	wg.Wait()
	return errs
}
