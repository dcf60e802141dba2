package kafka_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/testbroker"
)

// TestPipelinedCommitsApplyInOrder sends many offset commits back to
// back on one connection, as async committers do: the last one sent must
// be the one stored.
func TestPipelinedCommitsApplyInOrder(t *testing.T) {
	b := testbroker.Start(t)
	c := dialRaw(t, b.Addr)
	c.roundTrip(produceReq("commits", 0, batch("x"), -1), 9)
	const n = 50
	var burst []byte
	for i := int32(1); i <= n; i++ {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Group, req.Generation = "ordered", -1
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = "commits"
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset, rp.LeaderEpoch = 0, int64(i), -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		burst = append(burst, frame(req, 8, i)...)
	}
	c.write(burst)
	for i := int32(1); i <= n; i++ {
		if corr, _ := c.read(true); corr != i {
			t.Fatalf("answer %d has correlation %d", i, corr)
		}
	}
	fetch := kmsg.NewPtrOffsetFetchRequest()
	g := kmsg.NewOffsetFetchRequestGroup()
	g.Group = "ordered"
	fetch.Groups = append(fetch.Groups, g)
	resp := c.roundTrip(fetch, 8).(*kmsg.OffsetFetchResponse)
	if got := resp.Groups[0].Topics[0].Partitions[0].Offset; got != n {
		t.Fatalf("stored offset %d, want the last committed %d", got, n)
	}
}

// TestReadyAnswerNotHeldBehindLongPoll pipelines a Metadata request
// ahead of a long-poll Fetch: the Metadata answer must arrive at once,
// not when the fetch's MaxWait ends.
func TestReadyAnswerNotHeldBehindLongPoll(t *testing.T) {
	b := testbroker.Start(t)
	c := dialRaw(t, b.Addr)
	c.roundTrip(produceReq("held", 0, batch("x"), -1), 9)
	fetch := fetchReq("held", 1, 5000, 1<<20)
	burst := append(frame(kmsg.NewPtrMetadataRequest(), 12, 1), frame(fetch, 12, 2)...)
	start := time.Now()
	c.write(burst)
	if corr, _ := c.read(true); corr != 1 {
		t.Fatalf("first answer has correlation %d", corr)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("metadata answer took %v: held behind the long poll", d)
	}
}

// TestInitProducerIDAlwaysHandsOutANewID checks a non-transactional
// request naming an existing id and epoch gets a fresh id, as in Kafka.
func TestInitProducerIDAlwaysHandsOutANewID(t *testing.T) {
	b := testbroker.Start(t)
	c := dialRaw(t, b.Addr)
	first := c.roundTrip(kmsg.NewPtrInitProducerIDRequest(), 4).(*kmsg.InitProducerIDResponse)
	req := kmsg.NewPtrInitProducerIDRequest()
	req.ProducerID, req.ProducerEpoch = first.ProducerID, first.ProducerEpoch
	second := c.roundTrip(req, 4).(*kmsg.InitProducerIDResponse)
	if second.ErrorCode != 0 || second.ProducerID == first.ProducerID {
		t.Fatalf("second InitProducerID: %+v after %+v", second, first)
	}
}
