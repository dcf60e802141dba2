package message

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Sentinel errors of batch validation. The Kafka adapter maps them to
// CORRUPT_MESSAGE, UNSUPPORTED_FOR_MESSAGE_FORMAT and INVALID_RECORD.
var (
	ErrCorrupt          = errors.New("corrupt record batch")
	ErrUnsupportedMagic = errors.New("unsupported record batch magic")
	ErrInvalidRecord    = errors.New("invalid record")
	ErrTooLarge         = errors.New("record batch too large")
)

// HeaderSize is the fixed RecordBatch v2 header length.
const HeaderSize = 61

// Byte positions of the RecordBatch v2 header fields.
const (
	posBaseOffset      = 0
	posLength          = 8
	posLeaderEpoch     = 12
	posMagic           = 16
	posCRC             = 17
	posAttributes      = 21
	posLastOffsetDelta = 23
	posBaseTimestamp   = 27
	posMaxTimestamp    = 35
	posProducerID      = 43
	posProducerEpoch   = 51
	posBaseSequence    = 53
	posRecordCount     = 57
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Compression codecs as stored in the low three attribute bits.
const (
	CodecNone   = 0
	CodecGzip   = 1
	CodecSnappy = 2
	CodecLZ4    = 3
	CodecZstd   = 4
)

// Attribute bits beyond the codec.
const (
	attrTimestampLogAppend = 1 << 3
	attrTransactional      = 1 << 4
	attrControl            = 1 << 5
)

// Batch is a view of one RecordBatch v2. It aliases the bytes it was
// parsed from.
type Batch struct {
	Raw             []byte
	BaseOffset      int64
	LeaderEpoch     int32
	Attributes      int16
	LastOffsetDelta int32
	BaseTimestamp   int64
	MaxTimestamp    int64
	ProducerID      int64
	ProducerEpoch   int16
	BaseSequence    int32
	RecordCount     int32
}

// Codec returns the compression codec id.
func (b Batch) Codec() int { return int(b.Attributes & 0x7) }

// Transactional reports whether the batch belongs to a transaction.
func (b Batch) Transactional() bool { return b.Attributes&attrTransactional != 0 }

// Control reports whether the batch holds control records (transaction markers).
func (b Batch) Control() bool { return b.Attributes&attrControl != 0 }

// LogAppendTime reports whether timestamps are broker-assigned.
func (b Batch) LogAppendTime() bool { return b.Attributes&attrTimestampLogAppend != 0 }

// LastOffset is the offset of the batch's last record.
func (b Batch) LastOffset() int64 { return b.BaseOffset + int64(b.LastOffsetDelta) }

// Idempotent reports whether the producer set a producer id.
func (b Batch) Idempotent() bool { return b.ProducerID >= 0 }

// ParseHeader reads the fixed header of the batch at the start of p. It
// checks only that p holds the whole batch and the magic is 2; ValidateBatch
// does the full check.
func ParseHeader(p []byte) (Batch, error) {
	if len(p) < HeaderSize {
		return Batch{}, fmt.Errorf("%w: %d bytes is shorter than a batch header", ErrCorrupt, len(p))
	}
	if p[posMagic] != 2 {
		return Batch{}, fmt.Errorf("%w: magic %d", ErrUnsupportedMagic, p[posMagic])
	}
	length := int32(binary.BigEndian.Uint32(p[posLength:]))
	if length < HeaderSize-12 || int64(length)+12 > int64(len(p)) {
		return Batch{}, fmt.Errorf("%w: batch length %d does not fit %d bytes", ErrCorrupt, length, len(p))
	}
	be := binary.BigEndian
	return Batch{
		Raw:             p[:12+int(length)],
		BaseOffset:      int64(be.Uint64(p[posBaseOffset:])),
		LeaderEpoch:     int32(be.Uint32(p[posLeaderEpoch:])),
		Attributes:      int16(be.Uint16(p[posAttributes:])),
		LastOffsetDelta: int32(be.Uint32(p[posLastOffsetDelta:])),
		BaseTimestamp:   int64(be.Uint64(p[posBaseTimestamp:])),
		MaxTimestamp:    int64(be.Uint64(p[posMaxTimestamp:])),
		ProducerID:      int64(be.Uint64(p[posProducerID:])),
		ProducerEpoch:   int16(be.Uint16(p[posProducerEpoch:])),
		BaseSequence:    int32(be.Uint32(p[posBaseSequence:])),
		RecordCount:     int32(be.Uint32(p[posRecordCount:])),
	}, nil
}

// CRCValid reports whether the batch's CRC-32C matches its contents.
func CRCValid(raw []byte) bool {
	if len(raw) < HeaderSize {
		return false
	}
	return crc32.Checksum(raw[posAttributes:], castagnoli) == binary.BigEndian.Uint32(raw[posCRC:])
}

// SplitBatches cuts a produce payload into its batches, each validated
// (see ValidateBatch). A trailing partial batch is an error, not ignored:
// a producer never sends one.
func SplitBatches(p []byte, limits Limits) ([]Batch, error) {
	var out []Batch
	for len(p) > 0 {
		b, err := ValidateBatch(p, limits)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
		p = p[len(b.Raw):]
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no record batch", ErrInvalidRecord)
	}
	return out, nil
}

// Limits bound what validation accepts.
type Limits struct {
	// MaxBatchBytes is message.max.bytes. Zero means no limit.
	MaxBatchBytes int
	// MaxDecompressedBytes bounds memory spent decompressing one batch to
	// count its records. Zero means 64 MiB.
	MaxDecompressedBytes int
}

// ValidateBatch checks the batch at the start of p the way a Kafka broker
// does before appending: size, magic, CRC, that the record count matches
// lastOffsetDelta, and that the records (decompressed if needed) parse and
// number exactly recordCount.
func ValidateBatch(p []byte, limits Limits) (Batch, error) {
	b, err := ParseHeader(p)
	if err != nil {
		return Batch{}, err
	}
	if limits.MaxBatchBytes > 0 && len(b.Raw) > limits.MaxBatchBytes {
		return Batch{}, fmt.Errorf("%w: %d bytes exceeds %d", ErrTooLarge, len(b.Raw), limits.MaxBatchBytes)
	}
	if !CRCValid(b.Raw) {
		return Batch{}, fmt.Errorf("%w: CRC mismatch", ErrCorrupt)
	}
	if b.RecordCount <= 0 || b.LastOffsetDelta != b.RecordCount-1 {
		return Batch{}, fmt.Errorf("%w: record count %d with last offset delta %d", ErrInvalidRecord, b.RecordCount, b.LastOffsetDelta)
	}
	max := limits.MaxDecompressedBytes
	if max == 0 {
		max = 64 << 20
	}
	body, err := decompress(b.Codec(), b.Raw[HeaderSize:], max)
	if err != nil {
		return Batch{}, err
	}
	n, err := countRecords(body)
	if err != nil {
		return Batch{}, err
	}
	if n != int(b.RecordCount) {
		return Batch{}, fmt.Errorf("%w: header says %d records, found %d", ErrInvalidRecord, b.RecordCount, n)
	}
	return b, nil
}

// countRecords walks the length-prefixed records without decoding them.
func countRecords(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		l, w := binary.Varint(p)
		if w <= 0 || l < 0 || int64(len(p)-w) < l {
			return 0, fmt.Errorf("%w: bad record length at record %d", ErrInvalidRecord, n)
		}
		p = p[w+int(l):]
		n++
	}
	return n, nil
}
