package storage

import (
	"fmt"
	"io"
)

// What a log cleaner reads: the sealed segments (never the active one,
// which only the appender touches) and the batch headers of the whole log.
// Storage does not decode records; the cleaner (internal/compact) does.

// SegmentInfo describes one sealed segment. It is a snapshot: retention,
// truncation or another swap may remove the segment after it was taken,
// which ReadSegment and ReplaceSegments then report as ErrSegmentsChanged.
type SegmentInfo struct {
	// Base is the segment's base offset; it holds no offset below it.
	Base int64
	// End is one past the last offset of its last batch, Base when it is
	// empty. A cleaned segment may end before the next one starts.
	End int64
	// Bytes is the size of its batches.
	Bytes int64
	// MaxTimestamp is the largest batch MaxTimestamp in it, -1 if empty.
	MaxTimestamp int64

	seg *segment // identity only: compared, never dereferenced unheld
}

// SealedSegments lists the sealed segments in offset order, and the base
// offset of the active segment (every offset below it is in a sealed
// segment or was removed).
func (l *Log) SealedSegments() ([]SegmentInfo, int64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.segs) == 0 {
		return nil, l.end.Load()
	}
	out := make([]SegmentInfo, 0, len(l.segs)-1)
	for _, s := range l.segs[:len(l.segs)-1] {
		out = append(out, SegmentInfo{Base: s.base, End: s.next, Bytes: s.size, MaxTimestamp: s.maxTS, seg: s})
	}
	return out, l.segs[len(l.segs)-1].base
}

// ReadSegment returns a Slice of every batch of the sealed segment info
// describes, holding it open until Release, so a cleaner reads it while
// appends and fetches go on. Errors: ErrSegmentsChanged when the segment
// is no longer a sealed segment of the log; ErrLogClosed.
func (l *Log) ReadSegment(info SegmentInfo) (Slice, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.segs == nil {
		return Slice{}, ErrLogClosed
	}
	for _, s := range l.segs[:len(l.segs)-1] {
		if s == info.seg {
			s.incRef()
			return Slice{seg: s, pos: 0, size: s.size, first: s.base, last: s.next - 1}, nil
		}
	}
	return Slice{}, fmt.Errorf("%w: segment %d", ErrSegmentsChanged, info.Base)
}

// Reader reads the slice's bytes with positioned reads: several readers
// of one file never disturb each other. It is valid until Release.
func (s Slice) Reader() io.Reader {
	if s.size == 0 {
		return io.LimitReader(nil, 0)
	}
	return io.NewSectionReader(s.seg.log, s.pos, s.size)
}

// ScanHeaders calls fn with the header of every batch from the one
// holding offset from (or the first after it) to the end of the log as it
// was when the scan began, in offset order, until fn returns false. It
// reads headers only (a few preads per index interval), holding no lock
// while it reads, so appends and fetches go on.
func (l *Log) ScanHeaders(from int64, fn func(BatchHeader) bool) error {
	l.mu.RLock()
	if l.segs == nil {
		l.mu.RUnlock()
		return ErrLogClosed
	}
	type span struct {
		seg        *segment
		pos, limit int64
	}
	var spans []span
	for _, s := range l.segs {
		if s.next <= from || s.size == 0 {
			continue
		}
		var pos int64
		if from > s.base {
			pos = s.index.lookup(uint32(from - s.base))
		}
		s.incRef()
		spans = append(spans, span{s, pos, s.size})
	}
	l.mu.RUnlock()
	defer func() {
		for _, sp := range spans {
			sp.seg.decRef()
		}
	}()
	for _, sp := range spans {
		r := l.newHeaderReader(sp.seg.log)
		for pos := sp.pos; pos < sp.limit; {
			h, err := r.header(pos, sp.limit)
			if err != nil {
				l.putHeaderReader(r)
				return fmt.Errorf("storage: scan segment %d: %w", sp.seg.base, err)
			}
			pos += h.Size()
			if h.LastOffset() < from {
				continue
			}
			if !fn(h) {
				l.putHeaderReader(r)
				return nil
			}
		}
		l.putHeaderReader(r)
	}
	return nil
}

// Closed reports whether the log was closed (or deleted), so a cleaner
// can tell a vanished log from a failure.
func (l *Log) Closed() bool {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	return l.closed
}
