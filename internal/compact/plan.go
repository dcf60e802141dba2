package compact

import (
	"time"

	"github.com/ternmq/tern/internal/storage"
)

// Settings are one log's compaction settings, read at the start of every
// pass, so a config change (AlterConfigs) applies to the next one.
type Settings struct {
	// Compact: the log's cleanup.policy includes compact. Logs without it
	// are skipped.
	Compact bool
	// MinCleanableRatio (min.cleanable.dirty.ratio): clean when the dirty
	// share of the log's sealed bytes is above it.
	MinCleanableRatio float64
	// MinCompactionLag (min.compaction.lag.ms): a segment holding a batch
	// younger than this, and everything after it, is not cleaned yet.
	MinCompactionLag time.Duration
	// MaxCompactionLag (max.compaction.lag.ms): clean, whatever the dirty
	// ratio, once the oldest dirty segment's first batch is this old.
	MaxCompactionLag time.Duration
	// DeleteRetention (delete.retention.ms): how long a tombstone stays
	// after the pass that first kept it.
	DeleteRetention time.Duration
	// SegmentBytes (segment.bytes) bounds the input of one cleaned
	// segment: consecutive segments are merged while they fit.
	SegmentBytes int64
	// FirstUncleanable is the log owner's bound: nothing at or past it is
	// cleaned. The broker passes the last stable offset, so every
	// transaction below it has ended. Negative: no bound.
	FirstUncleanable int64
	// Aborted tells whether the transactional batch of a producer at an
	// offset below FirstUncleanable belongs to an aborted transaction.
	// With it, aborted records are removed and committed ones are
	// compacted like any other; without it (nil), transactional batches
	// are kept as they are and hide nothing.
	Aborted func(producerID, offset int64) bool
}

// SettingsOf reads a log's settings from its storage config (the topic
// configs), with the owner's bound.
func SettingsOf(cfg storage.Config, firstUncleanable int64) Settings {
	return Settings{
		Compact:           cfg.Cleanup.Compact(),
		MinCleanableRatio: cfg.MinCleanableRatio,
		MinCompactionLag:  cfg.MinCompactionLag,
		MaxCompactionLag:  cfg.MaxCompactionLag,
		DeleteRetention:   cfg.DeleteRetention,
		SegmentBytes:      cfg.SegmentBytes,
		FirstUncleanable:  firstUncleanable,
	}
}

// plan is where one pass over a log would start and stop, and whether it
// is worth running: Kafka's LogToClean and cleanableOffsets.
//
//	start          firstDirty            firstUncleanable   active base
//	  |---- clean ----|------- dirty --------|-- too new/unstable --|-- active --
//
// The clean section was cleaned before and holds at most one record per
// key; the dirty section is what the offset map is built from; nothing at
// or past firstUncleanable is touched.
type plan struct {
	start            int64
	firstDirty       int64
	firstUncleanable int64
	sealed           []storage.SegmentInfo
	cleanBytes       int64
	dirtyBytes       int64
	// overdue: the oldest dirty segment passed max.compaction.lag.ms.
	overdue bool
	// tombstonesDue: a delete horizon in the clean section has passed.
	tombstonesDue bool
}

// logView is what makePlan reads of a log; a function of the log so plans
// are computed in tests without one.
type logView struct {
	sealed     []storage.SegmentInfo
	activeBase int64
	start, end int64
	checkpoint int64 // CleanerOffset, -1 when none
	// firstBatchTime returns a segment's first batch max timestamp, -1
	// when unknown (read only when max.compaction.lag.ms is set).
	firstBatchTime func(storage.SegmentInfo) int64
	// horizon is the earliest delete horizon of the clean section, -1
	// when none.
	horizon int64
}

func makePlan(v logView, s Settings, now time.Time) plan {
	p := plan{start: v.start, sealed: v.sealed, firstDirty: v.start}
	if v.checkpoint >= v.start && v.checkpoint <= v.end {
		// Outside the log (truncated, or the start passed it): Kafka
		// starts over from the log start too.
		p.firstDirty = v.checkpoint
	}
	fu := v.activeBase
	if s.FirstUncleanable >= 0 {
		fu = min(fu, s.FirstUncleanable)
	}
	nowMs := now.UnixMilli()
	if lag := s.MinCompactionLag.Milliseconds(); lag > 0 {
		for _, seg := range v.sealed {
			if seg.End > p.firstDirty && seg.MaxTimestamp > nowMs-lag {
				fu = min(fu, seg.Base)
				break
			}
		}
	}
	p.firstUncleanable = max(fu, p.firstDirty)

	maxLag := s.MaxCompactionLag.Milliseconds()
	for _, seg := range v.sealed {
		switch {
		case seg.End <= p.firstDirty:
			p.cleanBytes += seg.Bytes
		case seg.Base < p.firstUncleanable:
			p.dirtyBytes += seg.Bytes
			if !p.overdue && maxLag < nowMs && v.firstBatchTime != nil {
				ts := v.firstBatchTime(seg)
				p.overdue = ts > 0 && ts < nowMs-maxLag
			}
		}
	}
	p.tombstonesDue = v.horizon >= 0 && nowMs >= v.horizon
	return p
}

// dirtyRatio is Kafka's cleanable ratio: dirty bytes over clean plus
// dirty bytes of the sealed segments.
func (p plan) dirtyRatio() float64 {
	if p.dirtyBytes == 0 {
		return 0
	}
	return float64(p.dirtyBytes) / float64(p.cleanBytes+p.dirtyBytes)
}

// cleanable says whether a pass would do work worth doing now.
func (p plan) cleanable(s Settings) bool {
	if p.tombstonesDue {
		return true
	}
	return p.dirtyBytes > 0 && (p.dirtyRatio() > s.MinCleanableRatio || p.overdue)
}
