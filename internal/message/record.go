package message

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Header is a record header.
type Header struct {
	Key   string
	Value []byte
}

// Record is one decoded record. Key and Value are nil when absent (a nil
// Value is a tombstone).
type Record struct {
	Offset    int64
	Timestamp int64
	Key       []byte
	Value     []byte
	Headers   []Header
}

// Records decodes every record of a batch, decompressing if needed. The
// returned slices alias the batch only when it is uncompressed.
func Records(b Batch, maxDecompressed int) ([]Record, error) {
	if maxDecompressed == 0 {
		maxDecompressed = 64 << 20
	}
	body, err := decompress(b.Codec(), b.Raw[HeaderSize:], maxDecompressed)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, b.RecordCount)
	for len(body) > 0 {
		l, w := binary.Varint(body)
		if w <= 0 || l < 0 || int64(len(body)-w) < l {
			return nil, fmt.Errorf("%w: bad record length", ErrInvalidRecord)
		}
		r, err := decodeRecord(body[w : w+int(l)])
		if err != nil {
			return nil, err
		}
		r.Offset += b.BaseOffset
		r.Timestamp += b.BaseTimestamp
		if b.LogAppendTime() {
			r.Timestamp = b.MaxTimestamp
		}
		out = append(out, r)
		body = body[w+int(l):]
	}
	return out, nil
}

// reader walks a record body; the first error sticks so decodeRecord can
// read straight through and check once.
type reader struct {
	b   []byte
	err error
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad varint", ErrInvalidRecord)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes reads a varint-length-prefixed field; length -1 means null.
func (r *reader) bytes() []byte {
	n := r.varint()
	if r.err != nil || n < 0 {
		return nil
	}
	if int64(len(r.b)) < n {
		r.err = fmt.Errorf("%w: field overruns record", ErrInvalidRecord)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func decodeRecord(p []byte) (Record, error) {
	if len(p) < 1 {
		return Record{}, fmt.Errorf("%w: empty record", ErrInvalidRecord)
	}
	r := reader{b: p[1:]} // attributes byte is unused
	var rec Record
	rec.Timestamp = r.varint()
	rec.Offset = r.varint()
	rec.Key = r.bytes()
	rec.Value = r.bytes()
	nh := r.varint()
	if nh < 0 || nh > int64(len(p)) {
		return Record{}, fmt.Errorf("%w: bad header count %d", ErrInvalidRecord, nh)
	}
	for i := int64(0); i < nh && r.err == nil; i++ {
		k := r.bytes()
		v := r.bytes()
		rec.Headers = append(rec.Headers, Header{Key: string(k), Value: v})
	}
	if r.err != nil {
		return Record{}, r.err
	}
	return rec, nil
}

// BatchOptions describes the batch EncodeBatch builds.
type BatchOptions struct {
	BaseOffset    int64
	ProducerID    int64 // -1 for none
	ProducerEpoch int16
	BaseSequence  int32
	Transactional bool
	Control       bool
}

// EncodeBatch builds an uncompressed RecordBatch v2 holding recs. Record
// offsets are taken as deltas in order; timestamps are absolute.
func EncodeBatch(recs []Record, o BatchOptions) []byte {
	if len(recs) == 0 {
		return nil
	}
	base, max := recs[0].Timestamp, recs[0].Timestamp
	for _, r := range recs {
		base = min(base, r.Timestamp)
		max = max2(max, r.Timestamp)
	}
	// Size every record first so the batch is written once, straight
	// into a buffer of the right size (no per-record scratch copy).
	total := HeaderSize
	for i, r := range recs {
		n := recordBodySize(r, r.Timestamp-base, int64(i))
		total += varintLen(int64(n)) + n
	}
	b := make([]byte, HeaderSize, total)
	for i, r := range recs {
		delta := r.Timestamp - base
		b = binary.AppendVarint(b, int64(recordBodySize(r, delta, int64(i))))
		b = append(b, 0)
		b = binary.AppendVarint(b, delta)
		b = binary.AppendVarint(b, int64(i))
		b = appendField(b, r.Key)
		b = appendField(b, r.Value)
		b = binary.AppendVarint(b, int64(len(r.Headers)))
		for _, h := range r.Headers {
			b = binary.AppendVarint(b, int64(len(h.Key)))
			b = append(b, h.Key...)
			b = appendField(b, h.Value)
		}
	}
	var attrs uint16
	if o.Transactional {
		attrs |= attrTransactional
	}
	if o.Control {
		attrs |= attrControl
	}
	be := binary.BigEndian
	be.PutUint64(b[posBaseOffset:], uint64(o.BaseOffset))
	be.PutUint32(b[posLength:], uint32(len(b)-12))
	be.PutUint32(b[posLeaderEpoch:], 0)
	b[posMagic] = 2
	be.PutUint16(b[posAttributes:], attrs)
	be.PutUint32(b[posLastOffsetDelta:], uint32(len(recs)-1))
	be.PutUint64(b[posBaseTimestamp:], uint64(base))
	be.PutUint64(b[posMaxTimestamp:], uint64(max))
	be.PutUint64(b[posProducerID:], uint64(o.ProducerID))
	be.PutUint16(b[posProducerEpoch:], uint16(o.ProducerEpoch))
	be.PutUint32(b[posBaseSequence:], uint32(o.BaseSequence))
	be.PutUint32(b[posRecordCount:], uint32(len(recs)))
	be.PutUint32(b[posCRC:], crc32.Checksum(b[posAttributes:], castagnoli))
	return b
}

func max2(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// recordBodySize is the encoded size of r after its length prefix.
func recordBodySize(r Record, tsDelta, offDelta int64) int {
	n := 1 + varintLen(tsDelta) + varintLen(offDelta) + fieldLen(r.Key) + fieldLen(r.Value) + varintLen(int64(len(r.Headers)))
	for _, h := range r.Headers {
		n += varintLen(int64(len(h.Key))) + len(h.Key) + fieldLen(h.Value)
	}
	return n
}

func fieldLen(v []byte) int {
	if v == nil {
		return varintLen(-1)
	}
	return varintLen(int64(len(v))) + len(v)
}

// varintLen is the size of v as a zig-zag varint.
func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

func appendField(dst, v []byte) []byte {
	if v == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(v)))
	return append(dst, v...)
}

// SetLogAppendTime rewrites a batch for message.timestamp.type=LogAppendTime:
// the attribute bit and max timestamp change, so the CRC is recomputed.
func SetLogAppendTime(raw []byte, ts int64) {
	be := binary.BigEndian
	be.PutUint16(raw[posAttributes:], be.Uint16(raw[posAttributes:])|attrTimestampLogAppend)
	be.PutUint64(raw[posMaxTimestamp:], uint64(ts))
	be.PutUint32(raw[posCRC:], crc32.Checksum(raw[posAttributes:], castagnoli))
}
