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
	out := make([]Record, 0, b.RecordCount)
	err := eachRecord(b, maxDecompressed, func(v View) {
		r := Record{Offset: v.Offset, Timestamp: v.Timestamp, Key: v.Key, Value: v.Value}
		if v.nh > 0 {
			r.Headers = make([]Header, 0, v.nh)
			v.Headers(func(k, val []byte) bool {
				r.Headers = append(r.Headers, Header{Key: string(k), Value: val})
				return true
			})
		}
		out = append(out, r)
	})
	return out, err
}

// View is a record with its headers left encoded. Readers that look up a
// few known headers (switch string(key) { … } does not allocate) decode a
// view without the per-header allocations of Record. A view aliases its
// batch as Records' results do.
type View struct {
	Offset    int64
	Timestamp int64
	Key       []byte
	Value     []byte
	headers   []byte // nh encoded key/value pairs, already validated
	nh        int
}

// Headers calls fn with each header in order until fn returns false.
func (v View) Headers(fn func(key, value []byte) bool) {
	r := reader{b: v.headers}
	for range v.nh {
		if !fn(r.bytes(), r.bytes()) {
			return
		}
	}
}

// Views decodes every record of a batch as a View, decompressing if
// needed.
func Views(b Batch, maxDecompressed int) ([]View, error) {
	out := make([]View, 0, b.RecordCount)
	err := eachRecord(b, maxDecompressed, func(v View) { out = append(out, v) })
	return out, err
}

// eachRecord decodes b's records in order, with absolute offsets and
// timestamps.
func eachRecord(b Batch, maxDecompressed int, fn func(View)) error {
	if maxDecompressed == 0 {
		maxDecompressed = 64 << 20
	}
	body, err := decompress(b.Codec(), b.Raw[HeaderSize:], maxDecompressed)
	if err != nil {
		return err
	}
	for len(body) > 0 {
		l, w := binary.Varint(body)
		if w <= 0 || l < 0 || int64(len(body)-w) < l {
			return fmt.Errorf("%w: bad record length", ErrInvalidRecord)
		}
		v, err := decodeView(body[w : w+int(l)])
		if err != nil {
			return err
		}
		v.Offset += b.BaseOffset
		v.Timestamp += b.BaseTimestamp
		if b.LogAppendTime() {
			v.Timestamp = b.MaxTimestamp
		}
		fn(v)
		body = body[w+int(l):]
	}
	return nil
}

// reader walks a record body; the first error sticks so decodeView can
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

// decodeView decodes one record body (after its length prefix), checking
// the headers so View.Headers cannot fail.
func decodeView(p []byte) (View, error) {
	if len(p) < 1 {
		return View{}, fmt.Errorf("%w: empty record", ErrInvalidRecord)
	}
	r := reader{b: p[1:]} // attributes byte is unused
	var v View
	v.Timestamp = r.varint()
	v.Offset = r.varint()
	v.Key = r.bytes()
	v.Value = r.bytes()
	nh := r.varint()
	if nh < 0 || nh > int64(len(p)) {
		return View{}, fmt.Errorf("%w: bad header count %d", ErrInvalidRecord, nh)
	}
	v.headers, v.nh = r.b, int(nh)
	for i := int64(0); i < nh && r.err == nil; i++ {
		r.bytes()
		r.bytes()
	}
	if r.err != nil {
		return View{}, r.err
	}
	v.headers = v.headers[:len(v.headers)-len(r.b)]
	return v, nil
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
