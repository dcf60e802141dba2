package storage

import (
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/ternmq/tern/internal/storage/vfs"
)

// SyncPolicy says when Append returns relative to the data reaching disk.
type SyncPolicy int

const (
	// SyncAlways: Append returns after fdatasync covers the batch. Concurrent
	// appenders share one fsync (group commit). The default.
	SyncAlways SyncPolicy = iota
	// SyncInterval: Append returns after write(2); a background flusher
	// fsyncs every Config.SyncInterval. A crash may lose that window.
	SyncInterval
	// SyncOS: Append returns after write(2); the kernel decides when to
	// write back. Segments are still fsynced when they roll.
	SyncOS
)

// ParseSyncPolicy parses "always", "interval" or "os".
func ParseSyncPolicy(s string) (SyncPolicy, error) {
	switch s {
	case "always":
		return SyncAlways, nil
	case "interval":
		return SyncInterval, nil
	case "os":
		return SyncOS, nil
	}
	return 0, fmt.Errorf("storage: unknown sync policy %q (want always, interval or os)", s)
}

// String returns the name ParseSyncPolicy accepts.
func (p SyncPolicy) String() string {
	switch p {
	case SyncAlways:
		return "always"
	case SyncInterval:
		return "interval"
	case SyncOS:
		return "os"
	}
	return fmt.Sprintf("SyncPolicy(%d)", int(p))
}

// maxSegmentBytes bounds a segment so file positions fit the uint32 of an
// offset-index entry.
const maxSegmentBytes = math.MaxUint32

// Config holds the per-log tunables, named after Kafka's topic configs.
// Zero values are NOT defaults: callers pass a complete Config, normally
// DefaultConfig() with overrides.
type Config struct {
	// SegmentBytes (segment.bytes): roll when appending would make the
	// active segment larger than this. Default 1 GiB. Values above 4 GiB-1
	// are capped, because index entries hold 32-bit positions.
	SegmentBytes int64
	// SegmentAge (segment.ms): roll when the active segment's first batch
	// was appended longer ago than this. Default 7 days.
	SegmentAge time.Duration
	// RetentionBytes (retention.bytes): delete the oldest segments while
	// the log stays at least this large without them. -1 = unlimited
	// (default).
	RetentionBytes int64
	// RetentionAge (retention.ms): delete segments whose newest batch
	// timestamp is older than this. Negative = unlimited. Default 7 days.
	RetentionAge time.Duration
	// Sync is the durability policy of Append. Default SyncAlways.
	Sync SyncPolicy
	// SyncInterval is the flusher period for SyncInterval. Default 1s.
	SyncInterval time.Duration
	// IndexIntervalBytes (index.interval.bytes): one sparse index entry per
	// this many bytes of batches. Default 4096.
	IndexIntervalBytes int

	// Cleanup (cleanup.policy) says what may remove old data. With
	// CleanupDelete, time and size retention delete segments (the
	// default); without it they never do, and only DeleteRecordsBefore
	// moves the start. CleanupCompact marks the log for a cleaner
	// (internal/compact), which storage itself never runs.
	Cleanup CleanupPolicy
	// The compaction settings below are topic configs storage carries for
	// the cleaner and does not act on itself.
	//
	// MinCleanableRatio (min.cleanable.dirty.ratio): clean once the
	// uncleaned share of the log's bytes is above it. Default 0.5.
	MinCleanableRatio float64
	// MinCompactionLag (min.compaction.lag.ms): a segment holding a
	// record younger than this is not cleaned yet. Default 0.
	MinCompactionLag time.Duration
	// MaxCompactionLag (max.compaction.lag.ms): clean a log whose oldest
	// uncleaned segment is older than this whatever its dirty ratio.
	// Default math.MaxInt64: never (Kafka's default, Long.MAX_VALUE ms).
	MaxCompactionLag time.Duration
	// DeleteRetention (delete.retention.ms): how long a tombstone stays
	// after the cleaner first saw it, so that readers have time to see
	// the delete. Default 1 day.
	DeleteRetention time.Duration
}

// CleanupPolicy is a set of cleanup.policy values.
type CleanupPolicy uint8

// Cleanup policies; a log may have both (Kafka's "compact,delete").
const (
	CleanupDelete CleanupPolicy = 1 << iota
	CleanupCompact
)

// Delete reports whether time and size retention may delete segments.
func (p CleanupPolicy) Delete() bool { return p&CleanupDelete != 0 }

// Compact reports whether the log is compacted by a cleaner.
func (p CleanupPolicy) Compact() bool { return p&CleanupCompact != 0 }

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:       1 << 30,
		SegmentAge:         7 * 24 * time.Hour,
		RetentionBytes:     -1,
		RetentionAge:       7 * 24 * time.Hour,
		Sync:               SyncAlways,
		SyncInterval:       time.Second,
		IndexIntervalBytes: 4096,
		Cleanup:            CleanupDelete,
		MinCleanableRatio:  0.5,
		MaxCompactionLag:   math.MaxInt64,
		DeleteRetention:    24 * time.Hour,
	}
}

// Validate reports a Config that Open or SetConfig would refuse.
func (c Config) Validate() error {
	switch {
	case c.SegmentBytes < headerSize:
		return fmt.Errorf("storage: SegmentBytes %d too small", c.SegmentBytes)
	case c.SegmentAge <= 0:
		return fmt.Errorf("storage: SegmentAge %v must be positive", c.SegmentAge)
	case c.Sync < SyncAlways || c.Sync > SyncOS:
		return fmt.Errorf("storage: unknown sync policy %d", int(c.Sync))
	case c.Sync == SyncInterval && c.SyncInterval <= 0:
		return fmt.Errorf("storage: SyncInterval %v must be positive", c.SyncInterval)
	case c.IndexIntervalBytes <= 0:
		return fmt.Errorf("storage: IndexIntervalBytes %d must be positive", c.IndexIntervalBytes)
	case c.MinCleanableRatio < 0 || c.MinCleanableRatio > 1:
		return fmt.Errorf("storage: MinCleanableRatio %v must be within [0, 1]", c.MinCleanableRatio)
	case c.MinCompactionLag < 0 || c.MaxCompactionLag <= 0 || c.DeleteRetention < 0:
		return fmt.Errorf("storage: compaction lags and DeleteRetention must not be negative (MaxCompactionLag positive)")
	}
	return nil
}

// Options are process-level dependencies of a Log, as opposed to Config's
// per-topic tunables. The zero value is ready to use.
type Options struct {
	// Logger receives recovery and failure reports. nil discards them.
	Logger *slog.Logger
	// Now is the clock for retention and segment age. nil = time.Now.
	Now func() time.Time
	// FS is the filesystem. nil = vfs.Default(). Tests pass vfs.Inject to
	// fail or observe operations.
	FS vfs.FS
	// OnSync, when set, is told how long each group-commit fdatasync
	// took, for an operator's fsync latency histogram. It runs on the
	// appenders' path, so it must be cheap and safe for concurrent use.
	OnSync func(time.Duration)
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FS == nil {
		o.FS = vfs.Default()
	}
	return o
}
