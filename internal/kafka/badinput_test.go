package kafka_test

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/testbroker"
)

// TestConnectionLevelBadInput sends frames a broker can't parse. Each must
// close that connection only: a fresh connection still gets answers.
func TestConnectionLevelBadInput(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(func(c *config.Config) { c.MaxRequestBytes = 2 << 20 }))
	header := func(key, version int16) []byte {
		h := []byte{0, 0, 0, 0}
		h = binary.BigEndian.AppendUint16(h, uint16(key))
		h = binary.BigEndian.AppendUint16(h, uint16(version))
		h = binary.BigEndian.AppendUint32(h, 1)
		h = binary.BigEndian.AppendUint16(h, 0xffff) // null client id
		binary.BigEndian.PutUint32(h, uint32(len(h)-4))
		return h
	}
	tests := []struct {
		name  string
		bytes []byte
	}{
		{"length prefix claiming 2 GiB", []byte{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0}},
		{"length above max.request.bytes", binary.BigEndian.AppendUint32(nil, 3<<20)},
		{"negative length", []byte{0xff, 0xff, 0xff, 0xfe}},
		{"frame shorter than a header", []byte{0, 0, 0, 3, 0, 0, 0}},
		{"unknown api key", header(9999, 0)},
		{"inter-broker api key", header(4, 0)}, // LeaderAndIsr: never served to clients
		{"produce below supported versions", header(0, 2)},
		{"fetch above supported versions", header(1, 99)},
		{"metadata with truncated body", append(header(3, 12)[:0:0], func() []byte {
			f := header(3, 12)
			f = append(f, 0, 5) // flexible header tags, then a topic array that isn't there
			binary.BigEndian.PutUint32(f, uint32(len(f)-4))
			return f
		}()...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, b.Addr)
			c.write(tc.bytes)
			c.expectClosed()
			// The broker is unharmed: a new connection is served.
			ok := dialRaw(t, b.Addr)
			resp := ok.roundTrip(kmsg.NewPtrApiVersionsRequest(), 3).(*kmsg.ApiVersionsResponse)
			if resp.ErrorCode != 0 || len(resp.ApiKeys) == 0 {
				t.Fatalf("fresh connection not served: %+v", resp)
			}
		})
	}
}

// TestApiVersionsAboveRangeAnswersV0 checks KIP-511: an ApiVersions
// request newer than the broker gets UNSUPPORTED_VERSION in a v0 answer
// listing what the broker speaks.
func TestApiVersionsAboveRangeAnswersV0(t *testing.T) {
	b := testbroker.Start(t)
	c := dialRaw(t, b.Addr)
	req := kmsg.NewPtrApiVersionsRequest()
	c.write(frame(req, 99, 42))
	corr, body := c.read(false)
	if corr != 42 {
		t.Fatalf("correlation %d", corr)
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(0)
	if err := resp.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Fatalf("error code %d, want UNSUPPORTED_VERSION", resp.ErrorCode)
	}
	found := false
	for _, k := range resp.ApiKeys {
		found = found || (k.ApiKey == 18 && k.MaxVersion >= 3)
	}
	if !found {
		t.Fatalf("ApiVersions range missing from %+v", resp.ApiKeys)
	}
}

func produceReq(topic string, partition int32, records []byte, acks int16) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = acks, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func batch(values ...string) []byte {
	recs := make([]message.Record, len(values))
	for i, v := range values {
		recs[i] = message.Record{Value: []byte(v), Timestamp: time.Now().UnixMilli()}
	}
	return message.EncodeBatch(recs, message.BatchOptions{ProducerID: -1, BaseSequence: -1})
}

// TestProduceRejectsBadBatches checks batch validation errors come back
// as the codes Kafka uses and that nothing reaches the log.
func TestProduceRejectsBadBatches(t *testing.T) {
	b := testbroker.Start(t)
	c := dialRaw(t, b.Addr)
	good := batch("a", "b")
	recrc := func(p []byte) []byte {
		binary.BigEndian.PutUint32(p[17:], crc32.Checksum(p[21:], crc32.MakeTable(crc32.Castagnoli)))
		return p
	}
	clone := func() []byte { return append([]byte(nil), good...) }
	tests := []struct {
		name string
		recs []byte
		want *kerr.Error
	}{
		{"flipped byte fails CRC", func() []byte { p := clone(); p[len(p)-1] ^= 1; return p }(), kerr.CorruptMessage},
		{"magic 1", func() []byte { p := clone(); p[16] = 1; return p }(), kerr.UnsupportedForMessageFormat},
		{"record count lies", func() []byte {
			p := clone()
			binary.BigEndian.PutUint32(p[57:], 3)
			binary.BigEndian.PutUint32(p[23:], 2)
			return recrc(p)
		}(), kerr.InvalidRecord},
		{"truncated batch", good[:len(good)-4], kerr.CorruptMessage},
		{"empty records", []byte{}, kerr.InvalidRecord},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.roundTrip(produceReq("bad-input", 0, tc.recs, -1), 9).(*kmsg.ProduceResponse)
			got := resp.Topics[0].Partitions[0].ErrorCode
			if got != tc.want.Code {
				t.Fatalf("error %v, want %v", kerr.ErrorForCode(got), tc.want)
			}
		})
	}
	// The topic was auto-created by the first request; nothing was written.
	if _, hw, _, err := b.Node().Broker.PartitionOffsets("bad-input", 0); err != nil || hw != 0 {
		t.Fatalf("high watermark %d err %v after only bad batches", hw, err)
	}
	// A good batch still goes in at offset 0.
	resp := c.roundTrip(produceReq("bad-input", 0, clone(), -1), 9).(*kmsg.ProduceResponse)
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.BaseOffset != 0 {
		t.Fatalf("good batch: %+v", p)
	}
}

func TestUnknownTopicsAndOffsets(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(func(c *config.Config) { c.AutoCreateTopics = false }))
	c := dialRaw(t, b.Addr)

	resp := c.roundTrip(produceReq("missing", 0, batch("x"), -1), 9).(*kmsg.ProduceResponse)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("produce to missing topic: %v", kerr.ErrorForCode(code))
	}

	md := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	name := "missing"
	mt.Topic = &name
	md.Topics = append(md.Topics, mt)
	md.AllowAutoTopicCreation = true
	mresp := c.roundTrip(md, 12).(*kmsg.MetadataResponse)
	if code := mresp.Topics[0].ErrorCode; code != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("metadata for missing topic with auto-create off: %v", kerr.ErrorForCode(code))
	}

	ct := kmsg.NewPtrCreateTopicsRequest()
	topic := kmsg.NewCreateTopicsRequestTopic()
	topic.Topic, topic.NumPartitions, topic.ReplicationFactor = "present", 1, 1
	ct.Topics = append(ct.Topics, topic)
	if r := c.roundTrip(ct, 7).(*kmsg.CreateTopicsResponse); r.Topics[0].ErrorCode != 0 {
		t.Fatalf("create: %v", kerr.ErrorForCode(r.Topics[0].ErrorCode))
	}
	if r := c.roundTrip(produceReq("present", 0, batch("a", "b", "c"), -1), 9).(*kmsg.ProduceResponse); r.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatal("produce to present topic failed")
	}
	if r := c.roundTrip(produceReq("present", 7, batch("a"), -1), 9).(*kmsg.ProduceResponse); r.Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatal("produce to a partition past the count must fail")
	}

	fetch := func(offset int64) int16 {
		r := c.roundTrip(fetchReq("present", offset, 0, 0), 12).(*kmsg.FetchResponse)
		return r.Topics[0].Partitions[0].ErrorCode
	}
	if code := fetch(3); code != 0 {
		t.Fatalf("fetch at the log end: %v", kerr.ErrorForCode(code))
	}
	if code := fetch(100); code != kerr.OffsetOutOfRange.Code {
		t.Fatalf("fetch past the end: %v", kerr.ErrorForCode(code))
	}
	if code := fetch(-5); code != kerr.OffsetOutOfRange.Code {
		t.Fatalf("fetch before the start: %v", kerr.ErrorForCode(code))
	}
}

// TestPipelinedRequestsAnsweredInOrder sends a long-poll fetch followed by
// quick requests in one burst: the answers must come back in request
// order even though the fetch finishes last.
func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	b := testbroker.Start(t)
	c := dialRaw(t, b.Addr)
	c.roundTrip(produceReq("pipeline", 0, batch("seed"), -1), 9)

	fetch := fetchReq("pipeline", 1, 300, 1<<20)

	var burst []byte
	burst = append(burst, frame(fetch, 12, 1)...)
	for i := int32(2); i <= 5; i++ {
		burst = append(burst, frame(kmsg.NewPtrApiVersionsRequest(), 3, i)...)
	}
	c.write(burst)
	for want := int32(1); want <= 5; want++ {
		corr, _ := c.read(want == 1)
		if corr != want {
			t.Fatalf("answer %d has correlation id %d", want, corr)
		}
	}
}
