package storage

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Byte offsets of the RecordBatch v2 header fields (see doc.go).
const (
	offBaseOffset      = 0
	offLength          = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offBaseTimestamp   = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offRecordCount     = 57

	// headerSize is the fixed RecordBatch v2 header: 61 bytes.
	headerSize = 61
	// logOverhead is what batchLength does not count: baseOffset and the
	// length field itself.
	logOverhead = 12
	// batchMagic is the only batch format storage accepts.
	batchMagic = 2
)

// castagnoli is the CRC-32C table Kafka uses for RecordBatch v2.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// BatchHeader is the fixed 61-byte header of a Kafka RecordBatch v2, the
// unit storage stores. It is a plain value; parsing copies out of the bytes.
type BatchHeader struct {
	BaseOffset      int64
	Length          int32 // bytes after the Length field: total size - 12
	LeaderEpoch     int32
	Magic           int8
	CRC             uint32
	Attributes      int16
	LastOffsetDelta int32
	BaseTimestamp   int64
	MaxTimestamp    int64
	ProducerID      int64
	ProducerEpoch   int16
	BaseSequence    int32
	RecordCount     int32
}

// LastOffset is the offset of the batch's last record.
func (h BatchHeader) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// Size is the whole batch size in bytes, header included.
func (h BatchHeader) Size() int64 { return int64(h.Length) + logOverhead }

// ParseBatchHeader decodes the header at the start of b. It checks only what
// the header itself can show: b holds at least 61 bytes, magic is 2, Length
// covers at least the header, LastOffsetDelta is not negative. It does not
// require b to hold the whole batch, nor check the CRC (see VerifyCRC).
// Errors wrap ErrCorrupt. Safe on arbitrary bytes.
func ParseBatchHeader(b []byte) (BatchHeader, error) {
	if len(b) < headerSize {
		return BatchHeader{}, fmt.Errorf("%w: batch header needs %d bytes, have %d", ErrCorrupt, headerSize, len(b))
	}
	h := BatchHeader{
		BaseOffset:      int64(binary.BigEndian.Uint64(b[offBaseOffset:])),
		Length:          int32(binary.BigEndian.Uint32(b[offLength:])),
		LeaderEpoch:     int32(binary.BigEndian.Uint32(b[offLeaderEpoch:])),
		Magic:           int8(b[offMagic]),
		CRC:             binary.BigEndian.Uint32(b[offCRC:]),
		Attributes:      int16(binary.BigEndian.Uint16(b[offAttributes:])),
		LastOffsetDelta: int32(binary.BigEndian.Uint32(b[offLastOffsetDelta:])),
		BaseTimestamp:   int64(binary.BigEndian.Uint64(b[offBaseTimestamp:])),
		MaxTimestamp:    int64(binary.BigEndian.Uint64(b[offMaxTimestamp:])),
		ProducerID:      int64(binary.BigEndian.Uint64(b[offProducerID:])),
		ProducerEpoch:   int16(binary.BigEndian.Uint16(b[offProducerEpoch:])),
		BaseSequence:    int32(binary.BigEndian.Uint32(b[offBaseSequence:])),
		RecordCount:     int32(binary.BigEndian.Uint32(b[offRecordCount:])),
	}
	switch {
	case h.Magic != batchMagic:
		return h, fmt.Errorf("%w: batch magic %d, want %d", ErrCorrupt, h.Magic, batchMagic)
	case h.Length < headerSize-logOverhead:
		return h, fmt.Errorf("%w: batch length %d shorter than its header", ErrCorrupt, h.Length)
	case h.LastOffsetDelta < 0:
		return h, fmt.Errorf("%w: negative lastOffsetDelta %d", ErrCorrupt, h.LastOffsetDelta)
	case h.BaseOffset > 1<<62 || h.BaseOffset < 0:
		// Not a valid stored offset; also keeps LastOffset from overflowing.
		return h, fmt.Errorf("%w: base offset %d", ErrCorrupt, h.BaseOffset)
	}
	return h, nil
}

// VerifyCRC checks that batch is exactly one RecordBatch v2 — its Length
// field matches len(batch) — whose CRC-32C (Castagnoli, from attributes to
// the end) is right. Errors wrap ErrCorrupt.
func VerifyCRC(batch []byte) error {
	h, err := ParseBatchHeader(batch)
	if err != nil {
		return err
	}
	if h.Size() != int64(len(batch)) {
		return fmt.Errorf("%w: batch length field says %d bytes, have %d", ErrCorrupt, h.Size(), len(batch))
	}
	if got := crc32.Checksum(batch[offAttributes:], castagnoli); got != h.CRC {
		return fmt.Errorf("%w: batch crc %08x, computed %08x", ErrCorrupt, h.CRC, got)
	}
	return nil
}

// stamp writes the fields the broker assigns into a batch in place. Neither
// is covered by the CRC, so the producer's CRC stays valid.
func stamp(batch []byte, base int64, leaderEpoch int32) {
	binary.BigEndian.PutUint64(batch[offBaseOffset:], uint64(base))
	binary.BigEndian.PutUint32(batch[offLeaderEpoch:], uint32(leaderEpoch))
}
