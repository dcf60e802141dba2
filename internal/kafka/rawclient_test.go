package kafka_test

import (
	"encoding/binary"
	"hash/crc32"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// rawConn speaks the Kafka framing by hand, so tests can send what no
// client library would: bad lengths, unknown keys, versions out of range,
// and pipelined bursts.
type rawConn struct {
	t  *testing.T
	nc net.Conn
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawConn{t: t, nc: nc}
}

// frame encodes a request with a v1/v2 header.
func frame(req kmsg.Request, version int16, corr int32) []byte {
	req.SetVersion(version)
	b := make([]byte, 4, 64)
	b = kbin.AppendInt16(b, req.Key())
	b = kbin.AppendInt16(b, version)
	b = kbin.AppendInt32(b, corr)
	client := "raw-test"
	b = kbin.AppendNullableString(b, &client)
	if req.IsFlexible() {
		b = append(b, 0)
	}
	b = req.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

func (c *rawConn) write(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the correlation id and the body after the response header.
func (c *rawConn) read(flexibleHeader bool) (int32, []byte) {
	c.t.Helper()
	var size [4]byte
	if _, err := io.ReadFull(c.nc, size[:]); err != nil {
		c.t.Fatalf("read response size: %v", err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c.nc, body); err != nil {
		c.t.Fatalf("read response body: %v", err)
	}
	corr := int32(binary.BigEndian.Uint32(body))
	body = body[4:]
	if flexibleHeader {
		body = body[1:] // empty tagged fields
	}
	return corr, body
}

// expectClosed asserts the broker closes the connection without answering.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	n, err := c.nc.Read(b[:])
	if err == nil || n != 0 {
		c.t.Fatalf("connection still open (read %d bytes, err %v)", n, err)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.t.Fatal("connection neither answered nor closed within 5s")
	}
}

// roundTrip sends req and decodes the response.
func (c *rawConn) roundTrip(req kmsg.Request, version int16) kmsg.Response {
	c.t.Helper()
	c.write(frame(req, version, 7))
	resp := req.ResponseKind()
	resp.SetVersion(version)
	corr, body := c.read(req.IsFlexible() && req.Key() != 18)
	if corr != 7 {
		c.t.Fatalf("correlation id %d, want 7", corr)
	}
	if err := resp.ReadFrom(body); err != nil {
		c.t.Fatalf("decode %T: %v", resp, err)
	}
	return resp
}

type kmsgProduceResponse = kmsg.ProduceResponse

const kerrOutOfOrder = 45 // OUT_OF_ORDER_SEQUENCE_NUMBER

// setProducer turns a batch into an idempotent one and re-signs it.
func setProducer(raw []byte, id int64, epoch int16, seq int32) {
	binary.BigEndian.PutUint64(raw[43:], uint64(id))
	binary.BigEndian.PutUint16(raw[51:], uint16(epoch))
	binary.BigEndian.PutUint32(raw[53:], uint32(seq))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
}

// fetchReq asks for partition 0 of topic from offset, with 1 MiB limits.
func fetchReq(topic string, offset int64, maxWaitMs, minBytes int32) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = maxWaitMs, minBytes, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = topic
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.FetchOffset, fp.PartitionMaxBytes = offset, 1<<20
	ft.Partitions = append(ft.Partitions, fp)
	req.Topics = append(req.Topics, ft)
	return req
}
