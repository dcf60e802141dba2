package kafka_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/testbroker"
)

// TestConnectionMemoryHoldsTheReader: with max.connection.memory at
// 4 KiB, a connection with a long poll in flight is not read further
// while the next request would take it past the budget: the 8 KiB
// produce pipelined behind the fetch is read (and appended) only once
// the fetch has answered. Without the budget the produce would land at
// once and wake the fetch.
func TestConnectionMemoryHoldsTheReader(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(func(c *config.Config) { c.Limits.ConnectionMemory = 4096 }))
	other := dialRaw(t, b.Addr)
	other.roundTrip(produceReq("mem", 0, batch("seed"), -1), 9)
	endOffset := func() int64 {
		req := kmsg.NewPtrListOffsetsRequest()
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "mem"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp := other.roundTrip(req, 4).(*kmsg.ListOffsetsResponse)
		return resp.Topics[0].Partitions[0].Offset
	}

	c := dialRaw(t, b.Addr)
	var burst []byte
	burst = append(burst, frame(fetchReq("mem", 1, 1500, 1), 12, 1)...)
	burst = append(burst, frame(produceReq("mem", 0, batch(string(bytes.Repeat([]byte{'x'}, 8192))), -1), 9, 2)...)
	start := time.Now()
	c.write(burst)
	time.Sleep(300 * time.Millisecond)
	if got := endOffset(); got != 1 {
		t.Fatalf("end offset %d while the fetch is parked: the produce was read past the budget", got)
	}
	if corr, _ := c.read(true); corr != 1 {
		t.Fatalf("first answer has correlation id %d", corr)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("the fetch answered after %v: it was woken by the produce behind it", waited)
	}
	if corr, _ := c.read(false); corr != 2 {
		t.Fatalf("second answer has correlation id %d", corr)
	}
	if got := endOffset(); got != 2 {
		t.Fatalf("end offset %d after both answers, want 2", got)
	}
}
