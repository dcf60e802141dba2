package kafka

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/storage"
)

// Fetch, versions 4-16.
//
// A long poll: the broker core parks the request until MinBytes are
// ready, MaxWaitMillis passes, or the connection or server closes, woken
// by new data rather than by polling. MaxBytes and PartitionMaxBytes are
// honoured, except that the first partition with data returns at least
// one whole batch (KIP-74). Records are never copied into the encoded
// answer: kmsg encodes a marker per partition and the writer splices the
// segment file range in its place (splice.go), with sendfile on TCP.
//
// v13+ names topics by id; an unknown id gets UNKNOWN_TOPIC_ID.
// Ignored: fetch sessions (KIP-227; SessionID 0 tells clients to send full
// requests), Rack and preferred read replicas (KIP-392: always -1),
// ReplicaID/ReplicaState (no followers yet) and CurrentLeaderEpoch
// fencing.
//
// IsolationLevel 1 (read_committed) reads up to the last stable offset and
// lists the aborted transactions that overlap the answer, so the client
// skips their records; open transactions stay hidden until they end.
//
// Each topic needs READ (TOPIC_AUTHORIZATION_FAILED), checked after an
// unknown topic id and before an unknown name, as Kafka. ReplicaID is
// ignored here too: a client calling itself a follower is still a
// consumer that needs READ (Kafka would ask CLUSTER_ACTION instead).
func (c *conn) handleFetch(r *request) {
	req := r.kreq.(*kmsg.FetchRequest)
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	byID := r.version >= 13
	az := c.authz()

	freq := broker.FetchRequest{
		MaxWait:  time.Duration(max(req.MaxWaitMillis, 0)) * time.Millisecond,
		MinBytes: req.MinBytes,
		MaxBytes: req.MaxBytes,

		ReadCommitted: req.IsolationLevel == 1,
	}
	// slot maps each asked partition to its place in the response, or -1
	// when it was answered before reaching the core (unknown topic id).
	type slot struct{ ti, pi, fi int }
	var slots []slot
	for _, t := range req.Topics {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic, rt.TopicID = t.Topic, t.TopicID
		name := t.Topic
		known := true
		if byID {
			info, ok := c.s.broker.TopicByID(t.TopicID)
			name, known = info.Name, ok
		}
		readable := known && az.Allowed(opRead, resTopic, name)
		for _, p := range t.Partitions {
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.Partition = p.Partition
			rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = -1, -1, -1
			rp.PreferredReadReplica = -1
			rp.RecordBatches = []byte{} // empty, not null: kafka-python can't read a null record set
			fi := -1
			switch {
			case !known:
				rp.ErrorCode = kerr.UnknownTopicID.Code
			case !readable:
				rp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			default:
				fi = len(freq.Partitions)
				freq.Partitions = append(freq.Partitions, broker.FetchPartition{
					Topic: name, Partition: p.Partition, Offset: p.FetchOffset, MaxBytes: p.PartitionMaxBytes,
				})
			}
			slots = append(slots, slot{len(resp.Topics), len(rt.Partitions), fi})
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	// Nothing left to read (every topic refused or unknown): answer now,
	// as Kafka does, rather than after MaxWait.
	if req.MaxWaitMillis < 0 || req.MinBytes < 0 || len(freq.Partitions) == 0 {
		freq.MaxWait = 0
	}
	c.goAsync(r, func() {
		results := c.s.broker.Fetch(c.ctx, freq)
		var slices []storage.Slice
		for _, s := range slots {
			if s.fi < 0 {
				continue
			}
			res := results[s.fi]
			rp := &resp.Topics[s.ti].Partitions[s.pi]
			rp.ErrorCode = errCode(res.Err)
			rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = res.HighWatermark, res.LastStable, res.LogStartOffset
			for _, a := range res.Aborted {
				at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
				at.ProducerID, at.FirstOffset = a.ProducerID, a.FirstOffset
				rp.AbortedTransactions = append(rp.AbortedTransactions, at)
			}
			if res.Records.Size() > 0 {
				rp.RecordBatches = spliceMarker(c.s.spliceNonce, len(slices))
				slices = append(slices, res.Records)
			} else {
				res.Records.Release()
			}
		}
		r.records = slices
		r.respond(resp)
	})
}
