package storage

import (
	"errors"
	"fmt"
)

// EnforceRetention deletes the oldest segments that retention allows, and
// returns how many it deleted:
//   - time: a segment whose newest batch timestamp is older than
//     now - RetentionAge (RetentionAge >= 0);
//   - size: the oldest segment while the log without it is still at least
//     RetentionBytes (RetentionBytes >= 0);
//   - start offset: a segment wholly below StartOffset (after
//     DeleteRecordsBefore).
//
// Time and size apply only when Cleanup has CleanupDelete: a compact-only
// log keeps every segment, since its readers expect the latest value of
// every key to stay (the cleaner removes what is superseded). A sealed
// segment a cleaner left empty goes with the segments after it.
//
// Only a prefix of the log is deleted, and never the active segment: when
// the active segment is itself expired by time and not empty it is rolled
// first, as Kafka does, so an idle topic still ages out. StartOffset then
// moves to the first remaining segment and is checkpointed. Readers holding
// Slices of deleted segments keep reading them until they Release.
//
// Safe for concurrent use; blocks Appends only while it renames files.
// Errors: ErrLogClosed, ErrLogFailed, I/O errors.
func (l *Log) EnforceRetention() (int, error) {
	cfg := l.cfg.Load()
	now := l.now().UnixMilli()
	byPolicy := cfg.Cleanup.Delete()
	return l.deletePrefix(func(s *segment, sizeAfter int64, start int64, active bool) (del, roll bool) {
		if s.size == 0 && active {
			return false, false
		}
		expired := byPolicy && cfg.RetentionAge >= 0 && s.maxTS < now-cfg.RetentionAge.Milliseconds()
		oversize := byPolicy && cfg.RetentionBytes >= 0 && sizeAfter >= cfg.RetentionBytes
		belowStart := s.next <= start
		if active {
			return expired, expired
		}
		return expired || oversize || belowStart, false
	})
}

// DeleteRecordsBefore makes offset the new StartOffset (Kafka
// DeleteRecords): reads below it fail with ErrOffsetOutOfRange from now on,
// and segments wholly below it are deleted. The new start offset is
// checkpointed before this returns, so it survives a restart. An offset at
// or below StartOffset changes nothing.
//
// Errors: ErrOffsetOutOfRange when offset > HighWatermark (only committed
// records may be deleted); ErrLogClosed; I/O errors.
func (l *Log) DeleteRecordsBefore(offset int64) error {
	l.writeMu.Lock()
	if l.closed {
		l.writeMu.Unlock()
		return ErrLogClosed
	}
	if hw := l.hw.Load(); offset > hw {
		l.writeMu.Unlock()
		return fmt.Errorf("%w: delete records before %d above high watermark %d", ErrOffsetOutOfRange, offset, hw)
	}
	if offset <= l.start.Load() {
		l.writeMu.Unlock()
		return nil
	}
	l.mu.Lock()
	l.start.Store(offset)
	epochsChanged := l.epochs.truncateFromStart(offset)
	l.mu.Unlock()
	l.writeMu.Unlock()

	// Persist before deleting files: the checkpoint alone keeps the records
	// deleted across a crash; the files then go at leisure.
	if err := l.writeStart(); err != nil {
		return fmt.Errorf("storage: log start offset checkpoint: %w", err)
	}
	if epochsChanged {
		if err := l.writeEpochs(); err != nil {
			return fmt.Errorf("storage: leader epoch checkpoint: %w", err)
		}
	}
	_, err := l.deletePrefix(func(s *segment, _ int64, start int64, active bool) (bool, bool) {
		return !active && s.next <= start, false
	})
	return err
}

// deletePrefix removes leading segments while decide says so. decide gets
// the segment, the log size without it (and without those already chosen),
// the start offset and whether it is the active segment; roll asks to roll
// the active segment so that it can be deleted.
func (l *Log) deletePrefix(decide func(s *segment, sizeAfter, start int64, active bool) (del, roll bool)) (int, error) {
	l.writeMu.Lock()
	if l.closed {
		l.writeMu.Unlock()
		return 0, ErrLogClosed
	}
	var total int64
	for _, s := range l.segs {
		total += s.size
	}
	start := l.start.Load()
	n := 0
	for n < len(l.segs) {
		s := l.segs[n]
		active := n == len(l.segs)-1
		del, roll := decide(s, total-s.size, start, active)
		if !del {
			break
		}
		if active {
			if !roll {
				break
			}
			if err := l.failed(); err != nil {
				l.writeMu.Unlock()
				return 0, err
			}
			if _, err := l.roll(); err != nil {
				l.writeMu.Unlock()
				return 0, err
			}
		}
		total -= s.size
		n++
	}
	if n == 0 {
		l.writeMu.Unlock()
		return 0, nil
	}
	removed := l.segs[:n]
	l.mu.Lock()
	l.segs = append([]*segment(nil), l.segs[n:]...)
	newStart := max(start, l.segs[0].base)
	l.start.Store(newStart)
	if l.hw.Load() < newStart {
		l.hw.Store(newStart)
	}
	epochsChanged := l.epochs.truncateFromStart(newStart)
	l.mu.Unlock()

	var errs []error
	for _, s := range removed {
		errs = append(errs, s.markRemoved())
	}
	errs = append(errs, l.fs.SyncDir(l.dir))
	l.writeMu.Unlock()
	// Unlink happens here unless a reader holds the segment.
	for _, s := range removed {
		s.decRef()
	}
	l.logger.Info("storage: retention deleted segments", "count", n, "startOffset", newStart)
	if newStart != start {
		errs = append(errs, l.writeStart())
	}
	if epochsChanged {
		errs = append(errs, l.writeEpochs())
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("storage: delete segments: %w", err)
	}
	return n, nil
}
