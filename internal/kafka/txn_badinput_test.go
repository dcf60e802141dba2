package kafka_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/testbroker"
)

// txnBatch is a transactional batch of the producer, signed.
func txnBatch(id int64, epoch int16, seq int32, values ...string) []byte {
	recs := make([]message.Record, len(values))
	for i, v := range values {
		recs[i] = message.Record{Value: []byte(v), Timestamp: time.Now().UnixMilli()}
	}
	return message.EncodeBatch(recs, message.BatchOptions{ProducerID: id, ProducerEpoch: epoch, BaseSequence: seq, Transactional: true})
}

type rawTxn struct {
	t     *testing.T
	c     *rawConn
	id    string
	pid   int64
	epoch int16
}

func (x *rawTxn) init(timeoutMs int32) int16 {
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID, req.TransactionTimeoutMillis = &x.id, timeoutMs
	resp := x.c.roundTrip(req, 4).(*kmsg.InitProducerIDResponse)
	if resp.ErrorCode == 0 {
		x.pid, x.epoch = resp.ProducerID, resp.ProducerEpoch
	}
	return resp.ErrorCode
}

func (x *rawTxn) addPartitions(version int16, epoch int16, topics map[string][]int32) []int16 {
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch = x.id, x.pid, epoch
	for _, name := range slices.Sorted(maps.Keys(topics)) {
		rt := kmsg.NewAddPartitionsToTxnRequestTopic()
		rt.Topic, rt.Partitions = name, topics[name]
		req.Topics = append(req.Topics, rt)
	}
	var codes []int16
	for _, t := range x.c.roundTrip(req, version).(*kmsg.AddPartitionsToTxnResponse).Topics {
		for _, p := range t.Partitions {
			codes = append(codes, p.ErrorCode)
		}
	}
	return codes
}

func (x *rawTxn) end(commit bool) int16 {
	req := kmsg.NewPtrEndTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = x.id, x.pid, x.epoch, commit
	return x.c.roundTrip(req, 3).(*kmsg.EndTxnResponse).ErrorCode
}

func (x *rawTxn) produce(topic string, epoch int16, seq int32) int16 {
	req := produceReq(topic, 0, txnBatch(x.pid, epoch, seq, "v"), -1)
	req.TransactionID = &x.id
	return x.c.roundTrip(req, 9).(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
}

// TestTransactionBadInput sends transactional requests out of order and
// with stale epochs, and expects Kafka's error codes with nothing
// written.
func TestTransactionBadInput(t *testing.T) {
	b := testbroker.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	core := b.Node().Broker
	if _, err := core.CreateTopic(ctx, broker.CreateTopicRequest{Name: "bad-txn", Partitions: 1, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	x := &rawTxn{t: t, c: dialRaw(t, b.Addr), id: "tx-bad"}
	code := func(name string, got int16, want *kerr.Error) {
		t.Helper()
		if got != want.Code {
			t.Errorf("%s: %v, want %v", name, kerr.ErrorForCode(got), want)
		}
	}

	code("EndTxn before InitProducerId", x.end(true), kerr.InvalidProducerIDMapping)
	code("timeout 0", x.init(0), kerr.InvalidTransactionTimeout)
	code("timeout above transaction.max.timeout.ms", x.init(15*60*1000+1), kerr.InvalidTransactionTimeout)
	code("InitProducerId", x.init(60000), nil_)
	code("EndTxn with nothing open", x.end(true), kerr.InvalidTxnState)
	code("produce to a partition not added", x.produce("bad-txn", x.epoch, 0), kerr.InvalidTxnState)

	codes := x.addPartitions(3, x.epoch, map[string][]int32{"bad-txn": {0}, "no-such-topic": {0}})
	code("AddPartitionsToTxn: existing partition beside an unknown one", codes[0], kerr.OperationNotAttempted)
	code("AddPartitionsToTxn: unknown topic", codes[1], kerr.UnknownTopicOrPartition)
	code("produce after the failed add", x.produce("bad-txn", x.epoch, 0), kerr.InvalidTxnState)
	code("AddPartitionsToTxn v3 stale epoch", x.addPartitions(3, x.epoch-1, map[string][]int32{"bad-txn": {0}})[0], kerr.ProducerFenced)
	code("AddPartitionsToTxn v1 stale epoch", x.addPartitions(1, x.epoch-1, map[string][]int32{"bad-txn": {0}})[0], kerr.InvalidProducerEpoch)

	toc := kmsg.NewPtrTxnOffsetCommitRequest()
	toc.TransactionalID, toc.ProducerID, toc.ProducerEpoch, toc.Group, toc.Generation = x.id, x.pid, x.epoch, "g", -1
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = "bad-txn"
	rt.Partitions = append(rt.Partitions, kmsg.NewTxnOffsetCommitRequestTopicPartition())
	toc.Topics = append(toc.Topics, rt)
	code("TxnOffsetCommit without AddOffsetsToTxn",
		x.c.roundTrip(toc, 3).(*kmsg.TxnOffsetCommitResponse).Topics[0].Partitions[0].ErrorCode, kerr.InvalidTxnState)

	code("AddPartitionsToTxn", x.addPartitions(3, x.epoch, map[string][]int32{"bad-txn": {0}})[0], nil_)
	code("produce", x.produce("bad-txn", x.epoch, 0), nil_)
	code("abort", x.end(false), nil_)
	code("abort again (a retry)", x.end(false), nil_)
	code("commit after abort", x.end(true), kerr.InvalidTxnState)

	old := x.epoch
	code("InitProducerId again", x.init(60000), nil_)
	if x.epoch != old+1 {
		t.Errorf("epoch %d after a second InitProducerId, want %d", x.epoch, old+1)
	}
	code("AddPartitionsToTxn", x.addPartitions(3, x.epoch, map[string][]int32{"bad-txn": {0}})[0], nil_)
	code("produce with the old epoch", x.produce("bad-txn", old, 1), kerr.InvalidProducerEpoch)

	if _, hw, _, _ := core.PartitionOffsets("bad-txn", 0); hw != 2 {
		t.Errorf("high watermark %d, want 2: one record and its abort marker", hw)
	}

	dt := kmsg.NewPtrDescribeTransactionsRequest()
	dt.TransactionalIDs = []string{"tx-bad", "tx-unknown"}
	states := x.c.roundTrip(dt, 0).(*kmsg.DescribeTransactionsResponse).TransactionStates
	code("DescribeTransactions known", states[0].ErrorCode, nil_)
	if states[0].State != "Ongoing" || len(states[0].Topics) != 1 {
		t.Errorf("DescribeTransactions: %+v", states[0])
	}
	code("DescribeTransactions unknown", states[1].ErrorCode, kerr.TransactionalIDNotFound)

	lt := kmsg.NewPtrListTransactionsRequest()
	lt.StateFilters = []string{"Ongoing", "Sleeping"}
	lr := x.c.roundTrip(lt, 1).(*kmsg.ListTransactionsResponse)
	if len(lr.TransactionStates) != 1 || lr.TransactionStates[0].TransactionalID != "tx-bad" || len(lr.UnknownStateFilters) != 1 {
		t.Errorf("ListTransactions Ongoing: %+v", lr)
	}
}

var nil_ = &kerr.Error{Message: "NONE", Code: 0}
