package storage

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// Append adds one RecordBatch v2 at the end of the log and returns the
// offset assigned to its first record, once the batch is durable under the
// sync policy. It is AppendAsync followed by Pending.Wait.
func (l *Log) Append(batch []byte, leaderEpoch int32) (int64, error) {
	p, err := l.AppendAsync(batch, leaderEpoch)
	if err != nil {
		return -1, err
	}
	if err := p.Wait(); err != nil {
		return -1, err
	}
	return p.BaseOffset, nil
}

// Pending is a batch written by AppendAsync whose durability may not yet
// be established.
type Pending struct {
	// BaseOffset is the offset of the batch's first record; EndOffset is
	// one past its last.
	BaseOffset, EndOffset int64
	l                     *Log
	seq                   uint64
	sync                  bool
}

// Wait blocks until the batch is durable under the policy in force when it
// was written: under SyncAlways, until an fdatasync that started after the
// write has finished (shared with concurrent writers: group commit); under
// the other policies it returns at once. It may be called after Close
// (Close makes everything written durable first) and from any goroutine.
// Errors wrap ErrLogFailed.
func (p Pending) Wait() error {
	if !p.sync {
		return nil
	}
	return p.l.waitDurable(p.seq)
}

// AppendAsync writes one RecordBatch v2 at the end of the log and returns
// without waiting for durability; call Wait on the result before
// acknowledging the batch to anyone.
//
// Splitting the write from the wait lets a caller that must keep its
// writes in order (an idempotent producer's pipelined requests) write
// under its own lock and wait outside it, so that concurrent writers still
// share fsyncs.
//
// Ownership: AppendAsync stamps baseOffset (= EndOffset) and
// partitionLeaderEpoch into batch in place; the caller gives the slice up
// and must not touch it again, even on error. The caller has already
// validated the batch (CRC, magic, record count); AppendAsync checks only
// that the header is well formed and that the length field matches
// len(batch).
//
// Concurrency: safe for concurrent use; offsets are assigned in the order
// the batches are written.
//
// Errors: ErrInvalidBatch (log unchanged), ErrLogClosed, or ErrLogFailed
// after any failed write or fsync — then, and forever after until the log
// is reopened, no batch is acknowledged. leaderEpoch newer than
// LatestEpoch starts a new entry in the leader-epoch cache.
func (l *Log) AppendAsync(batch []byte, leaderEpoch int32) (Pending, error) {
	if len(batch) < headerSize || batch[offMagic] != batchMagic {
		return Pending{}, fmt.Errorf("%w: not a v2 batch (%d bytes)", ErrInvalidBatch, len(batch))
	}
	length := int64(int32(binary.BigEndian.Uint32(batch[offLength:])))
	lastDelta := int32(binary.BigEndian.Uint32(batch[offLastOffsetDelta:]))
	if length+logOverhead != int64(len(batch)) || lastDelta < 0 {
		return Pending{}, fmt.Errorf("%w: length field %d for %d bytes, lastOffsetDelta %d", ErrInvalidBatch, length, len(batch), lastDelta)
	}
	maxTS := int64(binary.BigEndian.Uint64(batch[offMaxTimestamp:]))
	cfg := l.cfg.Load()

	l.writeMu.Lock()
	if l.closed {
		l.writeMu.Unlock()
		return Pending{}, ErrLogClosed
	}
	if err := l.failed(); err != nil {
		l.writeMu.Unlock()
		return Pending{}, err
	}
	seg := l.segs[len(l.segs)-1]
	now := l.now()
	if l.shouldRoll(seg, int64(len(batch)), lastDelta, cfg, now) {
		var err error
		if seg, err = l.roll(); err != nil {
			l.writeMu.Unlock()
			return Pending{}, err
		}
	}
	base := seg.next
	stamp(batch, base, leaderEpoch)
	pos := seg.size
	if _, err := seg.log.WriteAt(batch, pos); err != nil {
		err = l.fail(fmt.Errorf("write segment %d: %w", seg.base, err))
		l.writeMu.Unlock()
		return Pending{}, err
	}

	l.mu.Lock()
	segMax := max(seg.maxTS, maxTS)
	seg.index.add(uint32(base-seg.base), uint32(pos), len(batch), segMax, cfg.IndexIntervalBytes)
	if seg.lastBase < 0 {
		seg.rollMS = now.UnixMilli()
	}
	seg.size += int64(len(batch))
	seg.next = base + int64(lastDelta) + 1
	seg.lastBase = base
	seg.maxTS = segMax
	newEpoch := l.epochs.assign(leaderEpoch, base)
	l.end.Store(seg.next)
	l.mu.Unlock()

	if newEpoch {
		// Rare (leader change), so paying a checkpoint write here is fine;
		// recovery also rebuilds epochs from batch headers.
		if err := l.writeEpochs(); err != nil {
			err = l.fail(fmt.Errorf("leader epoch checkpoint: %w", err))
			l.writeMu.Unlock()
			return Pending{}, err
		}
	}
	seq := l.gc.wrote()
	l.writeMu.Unlock()
	return Pending{BaseOffset: base, EndOffset: base + int64(lastDelta) + 1, l: l, seq: seq, sync: cfg.Sync == SyncAlways}, nil
}

// shouldRoll says whether a batch must go to a new segment. An empty
// segment takes any batch, so a batch larger than SegmentBytes still fits.
func (l *Log) shouldRoll(seg *segment, size int64, lastDelta int32, cfg *Config, now time.Time) bool {
	if seg.size == 0 {
		return false
	}
	limit := min(cfg.SegmentBytes, maxSegmentBytes)
	switch {
	case seg.size+size > limit:
		return true
	case now.UnixMilli()-seg.rollMS > cfg.SegmentAge.Milliseconds():
		return true
	case seg.next+int64(lastDelta)-seg.base > math.MaxInt32:
		// Index entries hold offsets relative to the segment base.
		return true
	}
	return false
}

// roll seals the active segment (indexes written, everything fsynced) and
// starts a new one at EndOffset. Caller holds writeMu. Any failure fails
// the log: a half-rolled log must be recovered by reopening.
func (l *Log) roll() (*segment, error) {
	old := l.segs[len(l.segs)-1]
	l.mu.Lock()
	if old.lastBase >= 0 {
		old.index.seal(uint32(old.lastBase-old.base), old.maxTS)
	}
	l.mu.Unlock()
	// Only we (holding writeMu) change the index, so the flush needs no mu.
	if err := old.flushIndex(true); err != nil {
		return nil, l.fail(err)
	}
	// The old segment is durable: release group-commit waiters on it.
	l.gc.setActive(old, true)

	seg, err := openSegment(l.fs, l.dir, old.next, true)
	if err != nil {
		return nil, l.fail(err)
	}
	// The new file must survive a crash before we acknowledge into it.
	if err := l.fs.SyncDir(l.dir); err != nil {
		seg.decRef()
		return nil, l.fail(fmt.Errorf("sync dir: %w", err))
	}
	l.mu.Lock()
	l.segs = append(l.segs, seg)
	l.mu.Unlock()
	l.gc.setActive(seg, false)

	l.recoveryOffset = seg.base
	if err := l.writeRecoveryPoint(); err != nil {
		return nil, l.fail(fmt.Errorf("recovery point checkpoint: %w", err))
	}
	l.logger.Debug("storage: rolled segment", "base", seg.base, "sealed", old.base, "sealedBytes", old.size)
	return seg, nil
}
