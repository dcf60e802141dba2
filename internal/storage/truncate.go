package storage

import (
	"errors"
	"fmt"
	"math"
)

// TruncateTo removes every batch that holds an offset >= offset, so the log
// ends at a batch boundary at or below offset (a batch containing offset
// goes whole: storage never splits a batch). Replication uses it to cut a
// follower's divergent tail. Indexes, the leader-epoch cache and the high
// watermark are cut with it; EndOffset becomes the base of the first
// removed batch. When that would be below StartOffset or the first
// segment, the log is emptied and restarts at offset, as Kafka's
// truncateFullyAndStartAt.
// offset >= EndOffset changes nothing.
//
// Appends wait while it runs. Slices over the removed range may read short
// or read newer bytes (see Slice). Errors: ErrLogClosed, ErrLogFailed; a
// failed file operation fails the log, since half-truncated state must be
// recovered by reopening.
func (l *Log) TruncateTo(offset int64) error {
	if offset < 0 {
		return fmt.Errorf("%w: truncate to %d", ErrOffsetOutOfRange, offset)
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if l.closed {
		return ErrLogClosed
	}
	if err := l.failed(); err != nil {
		return err
	}
	if offset >= l.end.Load() {
		return nil
	}

	// Find the cut: the first batch whose last offset is >= offset.
	keep := 0 // segments kept whole or cut; the rest are removed
	cutOff, cutPos := offset, int64(0)
	if i := l.findSegment(offset); i >= 0 {
		s := l.segs[i]
		keep = i + 1
		cutOff, cutPos = s.next, s.size
		if s.next > offset {
			pos, off, err := l.findCut(s, offset)
			if err != nil {
				return l.fail(err)
			}
			cutOff, cutPos = off, pos
		}
		if cutPos == 0 {
			// The cut is at the start of segment i: drop it whole and end
			// the log where the previous segment ends.
			keep = i
			if i > 0 {
				prev := l.segs[i-1]
				cutOff, cutPos = prev.next, prev.size
			}
		}
	}
	if cutOff < l.start.Load() {
		// The cut would leave the log ending below its start: empty it.
		keep, cutOff = 0, offset
	}
	removed := l.segs[keep:]
	kept := l.segs[:keep]

	var fresh *segment
	if keep == 0 {
		var err error
		if fresh, err = openSegment(l.fs, l.dir, cutOff, true); err != nil {
			return l.fail(err)
		}
	}
	active := fresh
	if keep > 0 {
		active = kept[keep-1]
	}
	// Nothing below the active segment changes; record that before the
	// files do, so a crash midway recovers the active segment by scanning.
	l.recoveryOffset = active.base
	if err := l.writeRecoveryPoint(); err != nil {
		return l.fail(fmt.Errorf("recovery point checkpoint: %w", err))
	}
	var errs []error
	for _, s := range removed {
		errs = append(errs, s.markRemoved())
	}
	if fresh == nil && cutPos < active.size {
		errs = append(errs, active.log.Truncate(cutPos), active.log.Sync())
	}
	errs = append(errs, l.fs.SyncDir(l.dir))
	if err := errors.Join(errs...); err != nil {
		return l.fail(fmt.Errorf("truncate to %d: %w", offset, err))
	}

	l.mu.Lock()
	if fresh != nil {
		l.segs = []*segment{fresh}
		l.start.Store(cutOff)
	} else {
		l.segs = append([]*segment(nil), kept...)
		if cutPos < active.size {
			active.index.truncate(uint32(cutOff - active.base))
			if err := l.recomputeTail(active, cutPos); err != nil {
				l.mu.Unlock()
				return l.fail(err)
			}
		}
	}
	l.end.Store(cutOff)
	l.hw.Store(min(max(l.hw.Load(), l.start.Load()), cutOff))
	l.epochs.truncateFromEnd(cutOff)
	l.mu.Unlock()
	l.gc.setActive(active, false)

	for _, s := range removed {
		s.decRef()
	}
	if fresh == nil {
		if err := active.index.rewrite(active.idx, active.tidx); err != nil {
			return l.fail(fmt.Errorf("rewrite index: %w", err))
		}
	} else if err := l.writeStart(); err != nil {
		return l.fail(fmt.Errorf("log start offset checkpoint: %w", err))
	}
	if err := l.writeEpochs(); err != nil {
		return l.fail(fmt.Errorf("leader epoch checkpoint: %w", err))
	}
	l.logger.Info("storage: truncated", "requested", offset, "end", cutOff, "segmentsRemoved", len(removed))
	return nil
}

// findCut returns the position and base offset of the first batch of s
// whose last offset is >= offset. Caller holds writeMu.
func (l *Log) findCut(s *segment, offset int64) (int64, int64, error) {
	r := l.newHeaderReader(s.log)
	defer l.putHeaderReader(r)
	pos := s.index.lookup(uint32(max(offset-s.base, 0)))
	for pos < s.size {
		h, err := r.header(pos, s.size)
		if err != nil {
			return 0, 0, err
		}
		if h.LastOffset() >= offset {
			return pos, h.BaseOffset, nil
		}
		pos += h.Size()
	}
	return s.size, s.next, nil
}

// recomputeTail sets s's size, next, lastBase and maxTS for a segment cut
// at size, from its (already truncated) index and the headers after the
// last index entry. Caller holds writeMu and mu.
func (l *Log) recomputeTail(s *segment, size int64) error {
	r := l.newHeaderReader(s.log)
	defer l.putHeaderReader(r)
	var pos int64
	if n := len(s.index.offsets); n > 0 {
		pos = int64(s.index.offsets[n-1].pos)
	}
	maxTS := int64(-1)
	if n := len(s.index.times); n > 0 {
		maxTS = s.index.times[n-1].ts
	}
	next, lastBase := s.base, int64(-1)
	for pos < size {
		h, err := r.header(pos, size)
		if err != nil {
			return err
		}
		lastBase, next, maxTS = h.BaseOffset, h.LastOffset()+1, max(maxTS, h.MaxTimestamp)
		pos += h.Size()
	}
	if lastBase-s.base > math.MaxUint32 {
		return fmt.Errorf("%w: segment %d tail", ErrCorrupt, s.base)
	}
	s.size, s.next, s.lastBase, s.maxTS = size, next, lastBase, maxTS
	return nil
}
