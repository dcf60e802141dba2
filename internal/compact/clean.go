package compact

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/storage"
)

// One pass over one log, as Kafka's Cleaner.doClean:
//
//  1. build the offset map from the dirty section [firstDirty,
//     firstUncleanable), stopping where the map is full (cleanEnd);
//  2. find each producer's last batch from the batch headers;
//  3. rewrite every sealed segment below cleanEnd — the clean section
//     too, where superseded keys and expired tombstones go — merging
//     neighbours up to segment.bytes, and swap each group in (storage);
//  4. checkpoint cleanEnd as the next pass's first dirty offset.
//
// A crash anywhere leaves the log as before or with some groups swapped:
// each swap is atomic and keeps every latest record, so re-running the
// pass from the old checkpoint is always right.

// passResult is what a pass did.
type passResult struct {
	cleanEnd                int64
	segments                int
	bytesRead, bytesWritten int64
	recordsRemoved          int64
	horizon                 int64 // earliest delete horizon left below cleanEnd; -1 none
}

func (c *Cleaner) clean(ctx context.Context, l *storage.Log, s Settings, p plan, now time.Time) (passResult, error) {
	res := passResult{horizon: -1}
	if c.omap == nil {
		c.omap = newOffsetMap(c.cfg.DedupeBufferBytes)
	}
	m := c.omap
	m.prepare(p.firstUncleanable - p.firstDirty)
	cleanEnd, err := c.buildMap(ctx, l, s, p, m)
	if err != nil {
		return res, err
	}
	res.cleanEnd = cleanEnd
	lastOf, err := producersLast(l, p.start)
	if err != nil {
		return res, err
	}
	f := filter{
		m: m, start: l.StartOffset(), cleanEnd: cleanEnd, lastOf: lastOf,
		nowMs: now.UnixMilli(), retentionMs: s.DeleteRetention.Milliseconds(),
		maxDecompressed: c.cfg.MaxDecompressedBytes, z: &c.z, horizon: -1,
		aborted: s.Aborted,
	}
	var todo []storage.SegmentInfo
	for _, seg := range p.sealed {
		if seg.Base < cleanEnd {
			todo = append(todo, seg)
		}
	}
	maxBytes := min(s.SegmentBytes, math.MaxUint32)
	for _, g := range groupSegments(todo, maxBytes) {
		if err := c.cleanGroup(ctx, l, g, &f, &res); err != nil {
			return res, err
		}
	}
	if err := l.SetCleanerOffset(cleanEnd); err != nil {
		return res, err
	}
	res.horizon = f.horizon
	return res, nil
}

// buildMap maps every keyed record of the dirty section, in offset order,
// and returns where it stopped: firstUncleanable, or the offset of the
// first record the full map could not take. Records of control batches
// and of transactions not known to be committed are not mapped (see the
// package doc).
func (c *Cleaner) buildMap(ctx context.Context, l *storage.Log, s Settings, p plan, m *offsetMap) (int64, error) {
	var raws []message.RawRecord
	for _, seg := range p.sealed {
		if seg.End <= p.firstDirty || seg.Bytes == 0 {
			continue
		}
		if seg.Base >= p.firstUncleanable {
			break
		}
		full := int64(-1)
		err := eachBatch(l, seg, func(b message.Batch) (bool, error) {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			if b.BaseOffset >= p.firstUncleanable {
				return false, nil
			}
			if b.LastOffset() < p.firstDirty || b.Control() || !committed(s, b) {
				return true, nil
			}
			var err error
			if raws, err = message.RawRecords(raws[:0], b, c.cfg.MaxDecompressedBytes); err != nil {
				return false, fmt.Errorf("batch at %d: %w", b.BaseOffset, err)
			}
			for _, r := range raws {
				if r.Offset < p.firstDirty || r.Offset >= p.firstUncleanable || r.Key == nil {
					continue
				}
				if !m.put(hashKey(r.Key), r.Offset) {
					full = r.Offset
					return false, nil
				}
			}
			return true, nil
		})
		if err != nil {
			return 0, err
		}
		if full >= 0 {
			return full, nil
		}
	}
	return p.firstUncleanable, nil
}

// producersLast maps every producer id in the log to the base offset of
// its last batch, so a batch cleaning empties is kept as a header when it
// is its producer's last (Kafka's rule: the broker rebuilds idempotence
// state from those headers at start).
func producersLast(l *storage.Log, from int64) (map[int64]int64, error) {
	last := map[int64]int64{}
	err := l.ScanHeaders(from, func(h storage.BatchHeader) bool {
		if h.ProducerID >= 0 {
			last[h.ProducerID] = h.BaseOffset
		}
		return true
	})
	return last, err
}

// groupSegments cuts consecutive segments into groups that one cleaned
// segment replaces: at most maxBytes of input each (at least one
// segment), and an offset span that fits a segment's 32-bit index.
func groupSegments(segs []storage.SegmentInfo, maxBytes int64) [][]storage.SegmentInfo {
	var groups [][]storage.SegmentInfo
	var cur []storage.SegmentInfo
	var size int64
	for _, s := range segs {
		if len(cur) > 0 && (size+s.Bytes > maxBytes || max(s.End, s.Base)-cur[0].Base > math.MaxInt32) {
			groups = append(groups, cur)
			cur, size = nil, 0
		}
		cur = append(cur, s)
		size += s.Bytes
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}

// cleanGroup writes the kept batches of one group into a Cleaned and
// swaps it in. A single segment that came out unchanged is left alone.
func (c *Cleaner) cleanGroup(ctx context.Context, l *storage.Log, g []storage.SegmentInfo, f *filter, res *passResult) error {
	cw, err := l.NewCleaned(g[0].Base)
	if err != nil {
		return err
	}
	changed := len(g) > 1
	var read int64
	for _, seg := range g {
		read += seg.Bytes
		err := eachBatch(l, seg, func(b message.Batch) (bool, error) {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			v, err := f.retain(b)
			if err != nil {
				return false, fmt.Errorf("batch at %d: %w", b.BaseOffset, err)
			}
			res.recordsRemoved += int64(v.removed)
			changed = changed || v.rewritten
			if v.out == nil {
				return true, nil
			}
			return true, cw.Append(v.out)
		})
		if err != nil {
			cw.Abort()
			return err
		}
	}
	if !changed {
		cw.Abort()
		return nil
	}
	written := cw.Size()
	if err := l.ReplaceSegments(cw, g); err != nil {
		return err
	}
	res.segments += len(g)
	res.bytesRead += read
	res.bytesWritten += written
	return nil
}

// readBuffer is the read-ahead of a segment scan.
const readBuffer = 256 << 10

// eachBatch calls fn with every batch of a sealed segment, CRC-checked,
// until fn returns false or an error. The batch aliases a buffer reused
// for the next one. A damaged batch is an error: rewriting it would give
// corrupt data a fresh CRC.
func eachBatch(l *storage.Log, seg storage.SegmentInfo, fn func(message.Batch) (bool, error)) error {
	sl, err := l.ReadSegment(seg)
	if err != nil {
		return err
	}
	defer sl.Release()
	r := bufio.NewReaderSize(sl.Reader(), readBuffer)
	var buf []byte
	for {
		head, err := r.Peek(12)
		if errors.Is(err, io.EOF) && len(head) == 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("segment %d: %w", seg.Base, err)
		}
		size := int(int32(binary.BigEndian.Uint32(head[8:]))) + 12
		if size < message.HeaderSize || int64(size) > seg.Bytes {
			return fmt.Errorf("%w: segment %d: batch of %d bytes", storage.ErrCorrupt, seg.Base, size)
		}
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("segment %d: %w", seg.Base, err)
		}
		b, err := message.ParseHeader(buf)
		if err != nil || !message.CRCValid(buf) {
			return fmt.Errorf("%w: segment %d: batch at %d: bad header or CRC (%v)", storage.ErrCorrupt, seg.Base, b.BaseOffset, err)
		}
		more, err := fn(b)
		if err != nil || !more {
			return err
		}
	}
}

// committed reports whether a data batch's records take part in
// compaction: a non-transactional batch always; a transactional one when
// the owner can tell its transaction's outcome and it committed.
func committed(s Settings, b message.Batch) bool {
	return !b.Transactional() || (s.Aborted != nil && !s.Aborted(b.ProducerID, b.BaseOffset))
}
