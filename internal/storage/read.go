package storage

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/ternmq/tern/internal/storage/vfs"
)

// scanWindow is how many bytes a header scan reads per pread: small batches
// then cost one syscall per window, not per batch.
const scanWindow = 4096

// headerReader reads batch headers at arbitrary positions of one file
// through a window, so walking consecutive small batches costs few preads.
type headerReader struct {
	f      vfs.File
	bufp   *[]byte // from Log.bufPool
	buf    []byte
	winPos int64
	winLen int
}

func (l *Log) newHeaderReader(f vfs.File) *headerReader {
	p := l.bufPool.Get().(*[]byte)
	return &headerReader{f: f, bufp: p, buf: *p}
}

func (l *Log) putHeaderReader(r *headerReader) {
	r.buf = nil
	l.bufPool.Put(r.bufp)
}

// header parses the header of the batch at pos, which must end by limit.
// Errors wrap ErrCorrupt (also for a batch crossing limit: the caller's
// limit is always a batch boundary it trusts).
func (r *headerReader) header(pos, limit int64) (BatchHeader, error) {
	if limit-pos < headerSize {
		return BatchHeader{}, fmt.Errorf("%w: %d bytes at position %d, less than a batch header", ErrCorrupt, limit-pos, pos)
	}
	if pos < r.winPos || pos+headerSize > r.winPos+int64(r.winLen) {
		n := int(min(int64(len(r.buf)), limit-pos))
		m, err := r.f.ReadAt(r.buf[:n], pos)
		if m < headerSize {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			r.winLen = 0
			return BatchHeader{}, fmt.Errorf("%w: read header at %d: %w", ErrCorrupt, pos, err)
		}
		r.winPos, r.winLen = pos, m
	}
	off := pos - r.winPos
	h, err := ParseBatchHeader(r.buf[off : off+headerSize])
	if err != nil {
		return h, fmt.Errorf("position %d: %w", pos, err)
	}
	if pos+h.Size() > limit {
		return h, fmt.Errorf("%w: batch at %d of %d bytes crosses %d", ErrCorrupt, pos, h.Size(), limit)
	}
	return h, nil
}

// Read returns whole batches from one segment: the batch containing offset
// and the batches after it while the total stays within maxBytes, but
// always at least one batch (Kafka semantics, so a batch larger than
// maxBytes cannot stall a consumer). No batch whose base offset is >= upTo
// (the caller's high watermark) is included.
//
// An empty Slice (Size() == 0) means nothing to read yet: offset >= upTo or
// offset == EndOffset. Errors: ErrOffsetOutOfRange when offset <
// StartOffset or offset > EndOffset; ErrLogClosed; ErrCorrupt.
//
// Ownership: a non-empty Slice holds a reference to its segment, so the
// bytes stay readable across retention; the caller must Release it exactly
// once. Concurrency: safe for concurrent use, also with Append.
func (l *Log) Read(offset int64, maxBytes int, upTo int64) (Slice, error) {
	l.mu.RLock()
	if l.segs == nil {
		l.mu.RUnlock()
		return Slice{}, ErrLogClosed
	}
	start, end := l.start.Load(), l.end.Load()
	if offset < start || offset > end {
		l.mu.RUnlock()
		return Slice{}, fmt.Errorf("%w: offset %d, log holds [%d, %d)", ErrOffsetOutOfRange, offset, start, end)
	}
	upTo = min(upTo, end)
	if offset >= upTo {
		l.mu.RUnlock()
		return Slice{}, nil
	}
	i := max(l.findSegment(offset), 0)
	// A segment can end before the next one starts, or hold nothing at
	// all (gaps left by truncation or compaction): move on to the one
	// holding data.
	for i+1 < len(l.segs) && (l.segs[i].next <= offset || l.segs[i].size == 0) {
		i++
	}
	seg := l.segs[i]
	from := max(offset, seg.base)
	pos := seg.index.lookup(uint32(from - seg.base))
	limit := seg.size
	seg.incRef()
	l.mu.RUnlock()

	s, err := l.scanRead(seg, pos, limit, from, int64(maxBytes), upTo)
	if err != nil || s.size == 0 {
		seg.decRef()
		return Slice{}, err
	}
	return s, nil
}

// findSegment returns the index of the last segment whose base is <=
// offset, -1 if none. Caller holds mu.
func (l *Log) findSegment(offset int64) int {
	return sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset }) - 1
}

func (l *Log) scanRead(seg *segment, pos, limit, from, maxBytes, upTo int64) (Slice, error) {
	r := l.newHeaderReader(seg.log)
	defer l.putHeaderReader(r)
	s := Slice{seg: seg, first: -1, last: -1}
	for pos < limit {
		h, err := r.header(pos, limit)
		if err != nil {
			return Slice{}, fmt.Errorf("storage: read segment %d: %w", seg.base, err)
		}
		if h.LastOffset() < from {
			pos += h.Size()
			continue
		}
		if h.BaseOffset >= upTo || (s.size > 0 && s.size+h.Size() > maxBytes) {
			break
		}
		if s.size == 0 {
			s.pos, s.first = pos, h.BaseOffset
		}
		s.size += h.Size()
		s.last = h.LastOffset()
		pos += h.Size()
	}
	return s, nil
}

// OffsetForTime returns the base offset of the first batch whose
// MaxTimestamp is >= ts (Kafka ListOffsets by timestamp, at batch
// granularity), not below StartOffset. ok is false when no batch is that
// new. It uses the time index and then scans headers. Safe for concurrent
// use.
func (l *Log) OffsetForTime(ts int64) (int64, bool) {
	prev := int64(-1)
	for {
		l.mu.RLock()
		var seg *segment
		for _, s := range l.segs {
			if s.base > prev && s.size > 0 && s.maxTS >= ts {
				seg = s
				break
			}
		}
		if seg == nil {
			l.mu.RUnlock()
			return -1, false
		}
		var pos int64
		if rel, ok := seg.index.lookupTime(ts); ok {
			pos = seg.index.lookup(rel)
		}
		limit, start := seg.size, l.start.Load()
		seg.incRef()
		l.mu.RUnlock()

		off, found := l.scanTime(seg, pos, limit, ts, start)
		seg.decRef()
		if found {
			return off, true
		}
		prev = seg.base
	}
}

func (l *Log) scanTime(seg *segment, pos, limit, ts, start int64) (int64, bool) {
	r := l.newHeaderReader(seg.log)
	defer l.putHeaderReader(r)
	for pos < limit {
		h, err := r.header(pos, limit)
		if err != nil {
			l.logger.Warn("storage: time lookup stopped", "segment", seg.base, "err", err)
			return -1, false
		}
		if h.MaxTimestamp >= ts && h.LastOffset() >= start {
			return max(h.BaseOffset, start), true
		}
		pos += h.Size()
	}
	return -1, false
}
