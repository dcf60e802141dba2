package storage

import (
	"errors"
	"fmt"
	"io/fs"
)

// The cleaner checkpoint: where a log cleaner (internal/compact) stopped,
// so it does not rebuild its offset map over what it already cleaned
// after a restart. Kafka keeps one cleaner-offset-checkpoint file per log
// directory; Tern keeps one per log, beside the log's other checkpoints,
// so deleting a log deletes it too.

const (
	cleanerOffsetFile       = "cleaner-offset.checkpoint"
	kindCleanerOffset uint8 = 5
)

// CleanerOffset is the first offset a cleaner has not cleaned (Kafka's
// "first dirty offset"), as last recorded by SetCleanerOffset; ok is false
// when none was, or the checkpoint was unreadable. Storage never moves it
// itself: a cleaner clamps it to the log's current bounds.
func (l *Log) CleanerOffset() (offset int64, ok bool) {
	v := l.cleanerOffset.Load()
	return v, v >= 0
}

// SetCleanerOffset records that every batch below offset has been
// cleaned, durably (the checkpoint is replaced atomically). Calling it
// after the segments it describes were swapped in is what makes a crash
// between the two safe: the cleaner then cleans that part once more.
func (l *Log) SetCleanerOffset(offset int64) error {
	if offset < 0 {
		return fmt.Errorf("storage: cleaner offset %d", offset)
	}
	l.writeMu.Lock()
	closed := l.closed
	l.writeMu.Unlock()
	if closed {
		return ErrLogClosed
	}
	err := l.ckCleaner.store(func() []byte {
		l.cleanerOffset.Store(offset)
		return encodeInt64(offset)
	})
	if err != nil {
		return fmt.Errorf("storage: cleaner offset checkpoint: %w", err)
	}
	return nil
}

// loadCleanerOffset reads the checkpoint at Open. A damaged or newer file
// only costs a full clean, so it is ignored like the recovery point.
func (l *Log) loadCleanerOffset() {
	v, err := l.loadInt64(&l.ckCleaner)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			l.logger.Warn("storage: ignoring cleaner offset checkpoint; the log will be cleaned from its start", "err", err)
		}
		v = -1
	}
	l.cleanerOffset.Store(v)
}
