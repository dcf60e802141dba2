package storage

import (
	"encoding/binary"
	"fmt"
)

// epochEntry says: from startOffset on, batches were written by the leader
// of epoch. Replication uses it to find where a follower's log diverges
// (Kafka OffsetForLeaderEpoch).
type epochEntry struct {
	epoch       int32
	startOffset int64
}

// epochCache is the leader-epoch cache: entries strictly increasing in both
// epoch and startOffset. It is not safe for concurrent use; Log.mu guards
// it. It is a cache of what the batch headers say, so when its checkpoint
// is lost Open rebuilds it from the segments.
type epochCache struct {
	entries []epochEntry
}

// assign records that epoch starts at offset, if epoch is newer than the
// latest one. Older or equal epochs are ignored, as Kafka does: a batch from
// an older epoch cannot start a new range. Reports whether it changed.
func (c *epochCache) assign(epoch int32, offset int64) bool {
	if epoch < 0 {
		return false
	}
	if n := len(c.entries); n > 0 {
		last := c.entries[n-1]
		if epoch <= last.epoch {
			return false
		}
		if offset <= last.startOffset {
			// A newer epoch starting at or below the previous one means
			// the previous entries describe a truncated log (or an epoch
			// that wrote nothing); drop them, as Kafka does.
			c.truncateFromEnd(offset)
		}
	}
	c.entries = append(c.entries, epochEntry{epoch, offset})
	return true
}

func (c *epochCache) latest() int32 {
	if len(c.entries) == 0 {
		return -1
	}
	return c.entries[len(c.entries)-1].epoch
}

// endOffsetFor implements OffsetForLeaderEpoch: the largest epoch <= the
// requested one and the start offset of the next epoch (or logEnd).
func (c *epochCache) endOffsetFor(epoch int32, logEnd int64) (int32, int64) {
	if len(c.entries) == 0 || epoch < c.entries[0].epoch {
		return -1, -1
	}
	i := len(c.entries) - 1
	for c.entries[i].epoch > epoch {
		i--
	}
	if i == len(c.entries)-1 {
		return c.entries[i].epoch, logEnd
	}
	return c.entries[i].epoch, c.entries[i+1].startOffset
}

// truncateFromEnd drops entries starting at or after offset (TruncateTo).
func (c *epochCache) truncateFromEnd(offset int64) bool {
	n := len(c.entries)
	for n > 0 && c.entries[n-1].startOffset >= offset {
		n--
	}
	changed := n != len(c.entries)
	c.entries = c.entries[:n]
	return changed
}

// truncateFromStart forgets ranges wholly below offset (retention,
// DeleteRecordsBefore): the last entry at or below offset is kept and
// moved up to offset, so lookups of its epoch still answer.
func (c *epochCache) truncateFromStart(offset int64) bool {
	i := 0
	for i+1 < len(c.entries) && c.entries[i+1].startOffset <= offset {
		i++
	}
	if len(c.entries) == 0 || c.entries[i].startOffset >= offset {
		return false
	}
	c.entries = append(c.entries[:0], c.entries[i:]...)
	c.entries[0].startOffset = offset
	return true
}

func (c *epochCache) encode() []byte {
	b := make([]byte, 0, 4+12*len(c.entries))
	b = binary.BigEndian.AppendUint32(b, uint32(len(c.entries)))
	for _, e := range c.entries {
		b = binary.BigEndian.AppendUint32(b, uint32(e.epoch))
		b = binary.BigEndian.AppendUint64(b, uint64(e.startOffset))
	}
	return b
}

func decodeEpochCache(p []byte) (epochCache, error) {
	if len(p) < 4 {
		return epochCache{}, fmt.Errorf("%w: leader epoch payload %d bytes", ErrCorrupt, len(p))
	}
	n := int(binary.BigEndian.Uint32(p))
	if len(p) != 4+12*n {
		return epochCache{}, fmt.Errorf("%w: leader epoch payload %d bytes for %d entries", ErrCorrupt, len(p), n)
	}
	c := epochCache{entries: make([]epochEntry, 0, n)}
	for i := 0; i < n; i++ {
		e := epochEntry{
			epoch:       int32(binary.BigEndian.Uint32(p[4+12*i:])),
			startOffset: int64(binary.BigEndian.Uint64(p[8+12*i:])),
		}
		if k := len(c.entries); k > 0 && (e.epoch <= c.entries[k-1].epoch || e.startOffset <= c.entries[k-1].startOffset) {
			return epochCache{}, fmt.Errorf("%w: leader epoch entries not increasing", ErrCorrupt)
		}
		c.entries = append(c.entries, e)
	}
	return c, nil
}
