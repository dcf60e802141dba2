package message

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Rewriting a batch for log compaction. A cleaner keeps some records of a
// batch and must not change what the kept ones say, nor what the batch
// tells an idempotent producer's deduplication; so, as Kafka's cleaner
// (MemoryRecords.filterTo), a rewritten batch keeps its base offset, its
// last offset delta (the producer's last sequence), its producer fields,
// leader epoch, timestamp type and codec, and copies the kept records as
// they were encoded (offset deltas are relative to the unchanged base
// offset). Only the record count, the max timestamp, the CRC and, when a
// delete horizon is set or cleared, the base timestamp change.

// attrDeleteHorizon is KIP-534's attribute bit: BaseTimestamp holds the
// time after which a cleaner may drop the batch's tombstones.
const attrDeleteHorizon = 1 << 6

// NoTimestamp is Kafka's RecordBatch.NO_TIMESTAMP.
const NoTimestamp = -1

// DeleteHorizon returns the batch's delete horizon (KIP-534, in Unix
// milliseconds): a cleaner sets it, as the base timestamp, the first time
// it keeps a tombstone of the batch, and drops the tombstones once it has
// passed. ok is false when none is set.
func (b Batch) DeleteHorizon() (horizon int64, ok bool) {
	if b.Attributes&attrDeleteHorizon == 0 {
		return 0, false
	}
	return b.BaseTimestamp, true
}

// RawRecord is one record of a batch with its encoding kept, so a cleaner
// can decide on its key and value and copy it unchanged.
type RawRecord struct {
	Offset    int64  // absolute
	Timestamp int64  // absolute: the batch's base timestamp plus the record's delta
	Key       []byte // nil when the record has no key
	Tombstone bool   // the value is null
	body      []byte // the record after its length prefix
	rest      []byte // body after the attributes byte and timestamp delta
}

// RawRecords appends the records of b to dst, decompressing with at most
// maxDecompressed bytes (0: 64 MiB). The records alias b.Raw when it is
// uncompressed, a buffer of their own otherwise.
func RawRecords(dst []RawRecord, b Batch, maxDecompressed int) ([]RawRecord, error) {
	if maxDecompressed == 0 {
		maxDecompressed = 64 << 20
	}
	body, err := decompress(b.Codec(), b.Raw[HeaderSize:], maxDecompressed)
	if err != nil {
		return dst, err
	}
	for len(body) > 0 {
		l, w := binary.Varint(body)
		if w <= 0 || l < 0 || int64(len(body)-w) < l {
			return dst, fmt.Errorf("%w: bad record length", ErrInvalidRecord)
		}
		rec := body[w : w+int(l)]
		v, err := decodeView(rec)
		if err != nil {
			return dst, err
		}
		_, tw := binary.Varint(rec[1:])
		dst = append(dst, RawRecord{
			Offset:    b.BaseOffset + v.Offset,
			Timestamp: b.BaseTimestamp + v.Timestamp,
			Key:       v.Key,
			Tombstone: v.Value == nil,
			body:      rec,
			rest:      rec[1+tw:],
		})
		body = body[w+int(l):]
	}
	return dst, nil
}

// RebuildBatch appends to dst the batch orig becomes when it keeps only
// keep (records RawRecords returned for orig, in order):
//
//   - the header fields named at the top of this file are orig's;
//   - the records are copied as encoded and compressed again with orig's
//     codec (snappy keeps orig's framing);
//   - deleteHorizon >= 0 sets the delete-horizon bit and base timestamp;
//     < 0 clears them. The records' timestamp deltas are re-based when the
//     base timestamp changes, so their timestamps never do;
//   - the max timestamp is the kept records' largest (for LogAppendTime,
//     orig's);
//   - with nothing kept, the result is the empty batch Kafka keeps for a
//     producer's last batch: header only, uncompressed, base timestamp
//     NoTimestamp, orig's max timestamp.
func RebuildBatch(dst []byte, orig Batch, keep []RawRecord, deleteHorizon int64, z *Compressor) ([]byte, error) {
	attrs := uint16(orig.Attributes) &^ attrDeleteHorizon
	base := orig.BaseTimestamp
	if _, had := orig.DeleteHorizon(); had && len(keep) > 0 {
		base = keep[0].Timestamp // the records' own first timestamp again
	}
	if deleteHorizon >= 0 {
		attrs |= attrDeleteHorizon
		base = deleteHorizon
	}
	maxTS := orig.MaxTimestamp
	if !orig.LogAppendTime() && len(keep) > 0 {
		maxTS = keep[0].Timestamp
		for _, r := range keep[1:] {
			maxTS = max(maxTS, r.Timestamp)
		}
	}
	if len(keep) == 0 {
		attrs &^= 0x7
		attrs &^= attrDeleteHorizon
		base = NoTimestamp
	}

	var plain []byte
	if z != nil {
		plain = z.plain[:0]
	}
	for _, r := range keep {
		if base == orig.BaseTimestamp {
			plain = binary.AppendVarint(plain, int64(len(r.body)))
			plain = append(plain, r.body...)
			continue
		}
		delta := r.Timestamp - base
		plain = binary.AppendVarint(plain, int64(1+varintLen(delta)+len(r.rest)))
		plain = append(plain, r.body[0])
		plain = binary.AppendVarint(plain, delta)
		plain = append(plain, r.rest...)
	}
	if z != nil {
		z.plain = plain
	}

	start := len(dst)
	dst = append(dst, make([]byte, HeaderSize)...)
	if codec := int(attrs & 0x7); codec != CodecNone && len(keep) > 0 {
		if z == nil {
			z = &Compressor{}
			defer z.Close()
		}
		var err error
		if dst, err = z.compress(dst, codec, plain, isXerial(orig)); err != nil {
			return dst[:start], err
		}
	} else {
		dst = append(dst, plain...)
	}
	b := dst[start:]
	be := binary.BigEndian
	be.PutUint64(b[posBaseOffset:], uint64(orig.BaseOffset))
	be.PutUint32(b[posLength:], uint32(len(b)-12))
	be.PutUint32(b[posLeaderEpoch:], uint32(orig.LeaderEpoch))
	b[posMagic] = 2
	be.PutUint16(b[posAttributes:], attrs)
	be.PutUint32(b[posLastOffsetDelta:], uint32(orig.LastOffsetDelta))
	be.PutUint64(b[posBaseTimestamp:], uint64(base))
	be.PutUint64(b[posMaxTimestamp:], uint64(maxTS))
	be.PutUint64(b[posProducerID:], uint64(orig.ProducerID))
	be.PutUint16(b[posProducerEpoch:], uint16(orig.ProducerEpoch))
	be.PutUint32(b[posBaseSequence:], uint32(orig.BaseSequence))
	be.PutUint32(b[posRecordCount:], uint32(len(keep)))
	be.PutUint32(b[posCRC:], crc32.Checksum(b[posAttributes:], castagnoli))
	return dst, nil
}
