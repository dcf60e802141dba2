package storage

import (
	"bufio"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strings"
)

// Crash recovery, run by Open before the Log is shared.
//
// What can be trusted after a crash:
//   - segments below the recovery point were sealed by a roll: log and
//     indexes fsynced. Their indexes are loaded and only their tail is
//     walked to find the last offset. Damage there is media corruption, not
//     a torn write: Open fails with ErrCorrupt rather than silently cutting
//     acknowledged data.
//   - after a clean Close whose recorded last segment still has the
//     recorded size, every segment is trusted the same way.
//   - everything else — the active segment at the time of the crash, and
//     any segment rolled after the last recovery point checkpoint — is read
//     batch by batch: length, magic, offset monotonicity and CRC-32C. The
//     first bad batch and everything after it are cut (a torn tail: writes
//     the crash interrupted, never acknowledged under SyncAlways), and the
//     indexes of these segments are rebuilt.

// recover loads l.dir into l. Single-threaded; l is not yet shared.
func (l *Log) recover() error {
	if err := l.fs.MkdirAll(l.dir, 0o755); err != nil {
		return err
	}
	// The directory entry itself must be durable before segments in it are.
	if err := l.fs.SyncDir(filepath.Dir(filepath.Clean(l.dir))); err != nil {
		return err
	}
	// An interrupted segment swap is finished first: from its .swap files
	// on, the cleaned segment is the truth (swap.go).
	if err := l.finishSwaps(); err != nil {
		return err
	}
	bases, err := l.cleanDir()
	if err != nil {
		return err
	}
	l.loadCleanerOffset()

	rp, rpErr := l.loadRecoveryPoint()
	startCk, haveStart, err := l.loadStart()
	if err != nil {
		return err
	}
	needEpochs := l.loadEpochs()

	for _, base := range bases {
		s, err := openSegment(l.fs, l.dir, base, false)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
	}
	clean := false
	if rpErr == nil && rp.clean && len(l.segs) > 0 {
		last := l.segs[len(l.segs)-1]
		size, err := last.fileSize()
		if err != nil {
			return err
		}
		clean = last.base == rp.activeBase && size == rp.activeSize
		if !clean {
			l.logger.Warn("storage: clean shutdown marker does not match the last segment; recovering", "segment", last.base, "size", size, "recorded", rp.activeSize)
		}
	}

	scanned := map[*segment]bool{}
	changed := false // files truncated or removed: fsync the directory
	prevNext := int64(0)
	for i := 0; i < len(l.segs); i++ {
		s := l.segs[i]
		last := i == len(l.segs)-1
		trusted := clean || (!last && rpErr == nil && l.segs[i+1].base <= rp.offset)
		if trusted {
			err := l.loadTrusted(s, prevNext)
			if err == nil {
				if needEpochs {
					l.walkEpochs(s)
				}
				prevNext = s.next
				continue
			}
			if !errors.Is(err, errStaleIndex) {
				return err
			}
			l.logger.Info("storage: rebuilding index", "segment", s.base, "reason", err)
		}
		cut, reason, err := l.scanSegment(s, prevNext)
		if err != nil {
			return err
		}
		scanned[s] = true
		prevNext = s.next
		if reason == nil {
			continue
		}
		if trusted && !last {
			return fmt.Errorf("%w: segment %d below the recovery point: %w", ErrCorrupt, s.base, reason)
		}
		size, err := s.fileSize()
		if err != nil {
			return err
		}
		removed := l.segs[i+1:]
		l.logger.Warn("storage: cut torn or corrupt tail",
			"segment", s.base, "position", cut, "bytesCut", size-cut,
			"segmentsRemoved", len(removed), "newEnd", s.next, "reason", reason)
		if err := s.log.Truncate(cut); err != nil {
			return fmt.Errorf("storage: truncate segment %d: %w", s.base, err)
		}
		if err := s.log.Sync(); err != nil {
			return fmt.Errorf("storage: sync segment %d: %w", s.base, err)
		}
		for _, r := range removed {
			if err := r.markRemoved(); err != nil {
				return err
			}
			r.decRef()
		}
		l.segs = l.segs[:i+1]
		changed = true
		break
	}

	if len(l.segs) == 0 {
		s, err := openSegment(l.fs, l.dir, max(startCk, 0), true)
		if err != nil {
			return err
		}
		l.segs = []*segment{s}
		changed = true
	}
	end := l.segs[len(l.segs)-1].next
	start := max(startCk, l.segs[0].base)
	if start > end {
		// DeleteRecordsBefore went past what survived: start over empty at
		// the persisted start, as Kafka does.
		l.logger.Warn("storage: log start offset beyond recovered end; starting empty", "start", start, "end", end)
		for _, s := range l.segs {
			if err := s.markRemoved(); err != nil {
				return err
			}
			s.decRef()
		}
		s, err := openSegment(l.fs, l.dir, start, true)
		if err != nil {
			return err
		}
		l.segs = []*segment{s}
		scanned = map[*segment]bool{}
		end, changed = start, true
	}
	l.start.Store(start)
	l.end.Store(end)
	epochsChanged := l.epochs.truncateFromEnd(end)
	epochsChanged = l.epochs.truncateFromStart(start) || epochsChanged

	hw := start
	if v, err := l.loadInt64(&l.ckHW); err == nil {
		hw = min(max(v, start), end)
	}
	l.hw.Store(hw)
	l.hwWritten.Store(-1)

	// Seal what recovery rebuilt: afterwards everything but the last
	// segment is below the recovery point and must be fsynced.
	active := l.segs[len(l.segs)-1]
	for _, s := range l.segs {
		if !scanned[s] {
			continue
		}
		if s != active && s.lastBase >= 0 {
			s.index.seal(uint32(s.lastBase-s.base), s.maxTS)
		}
		if err := s.index.rewrite(s.idx, s.tidx); err != nil {
			return fmt.Errorf("storage: write index of segment %d: %w", s.base, err)
		}
		if s != active {
			if err := s.flushIndex(true); err != nil {
				return err
			}
		}
	}
	if changed {
		if err := l.fs.SyncDir(l.dir); err != nil {
			return err
		}
	}
	l.recoveryOffset = active.base
	// Clears a clean marker: a crash from now on must run recovery.
	if err := l.writeRecoveryPoint(); err != nil {
		return err
	}
	if needEpochs || epochsChanged {
		if err := l.writeEpochs(); err != nil {
			return err
		}
	}
	if haveStart && start != startCk || !haveStart && start > l.segs[0].base {
		if err := l.writeStart(); err != nil {
			return err
		}
	}
	return nil
}

// cleanDir removes leftovers of interrupted operations (*.tmp checkpoints,
// *.deleted segments, *.cleaned files of an unfinished clean, index
// files without a log) and returns the base offsets of the segments,
// sorted.
func (l *Log) cleanDir() ([]int64, error) {
	entries, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return nil, err
	}
	var bases []int64
	logs := map[int64]bool{}
	var indexes []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		if strings.HasSuffix(name, tmpSuffix) || strings.HasSuffix(name, deletedSuffix) || strings.HasSuffix(name, cleanedSuffix) || isSwapIndex(name) {
			if err := l.fs.Remove(filepath.Join(l.dir, name)); err != nil {
				return nil, err
			}
			continue
		}
		if base, ok := parseSegmentName(name, logSuffix); ok {
			bases = append(bases, base)
			logs[base] = true
			continue
		}
		if _, ok := parseSegmentName(name, indexSuffix); ok {
			indexes = append(indexes, name)
		} else if _, ok := parseSegmentName(name, timeIndexSuffix); ok {
			indexes = append(indexes, name)
		}
	}
	for _, name := range indexes {
		base, ok := parseSegmentName(name, indexSuffix)
		if !ok {
			base, _ = parseSegmentName(name, timeIndexSuffix)
		}
		if !logs[base] {
			if err := l.fs.Remove(filepath.Join(l.dir, name)); err != nil {
				return nil, err
			}
		}
	}
	slices.Sort(bases)
	return bases, nil
}

// loadRecoveryPoint returns the recovery point; any problem means "none"
// (recover every segment), which is always safe, only slower.
func (l *Log) loadRecoveryPoint() (recoveryPoint, error) {
	p, err := l.ckRecovery.load()
	if err == nil {
		var rp recoveryPoint
		if rp, err = decodeRecoveryPoint(p); err == nil {
			return rp, nil
		}
	}
	if !errors.Is(err, fs.ErrNotExist) {
		l.logger.Warn("storage: ignoring recovery point checkpoint; recovering every segment", "err", err)
	}
	return recoveryPoint{}, err
}

// loadStart returns the persisted log start offset. Unlike the other
// checkpoints it cannot be ignored — records deleted by DeleteRecordsBefore
// would come back — so an unreadable file fails Open.
func (l *Log) loadStart() (int64, bool, error) {
	v, err := l.loadInt64(&l.ckStart)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return v, true, nil
}

func (l *Log) loadInt64(c *checkpointFile) (int64, error) {
	p, err := c.load()
	if err != nil {
		return 0, err
	}
	return decodeInt64(p)
}

// loadEpochs loads the leader-epoch cache and reports whether it must be
// rebuilt from the batch headers instead.
func (l *Log) loadEpochs() bool {
	p, err := l.ckEpoch.load()
	if err == nil {
		if l.epochs, err = decodeEpochCache(p); err == nil {
			return false
		}
	}
	if !errors.Is(err, fs.ErrNotExist) {
		l.logger.Warn("storage: rebuilding leader epoch cache from batches", "err", err)
	}
	l.epochs = epochCache{}
	return true
}

// loadTrusted loads a sealed segment: its indexes from disk, then a walk of
// the batch headers after the last index entry to find its end. Anything
// inconsistent returns errStaleIndex, and the caller scans the segment.
func (l *Log) loadTrusted(s *segment, prevNext int64) error {
	size, err := s.fileSize()
	if err != nil {
		return err
	}
	if s.base < prevNext {
		return fmt.Errorf("%w: segment base %d overlaps previous segment ending at %d", errStaleIndex, s.base, prevNext)
	}
	if s.indexMissing {
		return fmt.Errorf("%w: index file missing", errStaleIndex)
	}
	if err := s.index.load(s.idx, s.tidx, size); err != nil {
		return err
	}
	r := l.newHeaderReader(s.log)
	defer l.putHeaderReader(r)
	var pos int64
	next, lastBase, maxTS := s.base, int64(-1), int64(-1)
	if n := len(s.index.offsets); n > 0 {
		e := s.index.offsets[n-1]
		pos = int64(e.pos)
		h, err := r.header(pos, size)
		if err != nil || h.BaseOffset != s.base+int64(e.rel) {
			s.index.reset()
			return fmt.Errorf("%w: last entry %d@%d does not match the log", errStaleIndex, e.rel, e.pos)
		}
		next = h.BaseOffset
	}
	for pos < size {
		h, err := r.header(pos, size)
		if err != nil || h.BaseOffset < next {
			s.index.reset()
			return fmt.Errorf("%w: tail at %d: %v", errStaleIndex, pos, err)
		}
		lastBase, next, maxTS = h.BaseOffset, h.LastOffset()+1, max(maxTS, h.MaxTimestamp)
		pos += h.Size()
	}
	if n := len(s.index.times); n > 0 {
		maxTS = max(maxTS, s.index.times[n-1].ts)
	}
	s.size, s.next, s.lastBase, s.maxTS = size, next, lastBase, maxTS
	s.index.bytesSince = 0
	if size > 0 {
		if h, err := r.header(0, size); err == nil {
			s.rollMS = l.rollStart(h)
		}
	}
	return nil
}

// rollStart is the SegmentAge origin of a recovered segment: its first
// batch's timestamp, or now when the batch carries none.
func (l *Log) rollStart(first BatchHeader) int64 {
	if first.MaxTimestamp > 0 {
		return first.MaxTimestamp
	}
	return l.now().UnixMilli()
}

// walkEpochs feeds a trusted segment's batch headers to the epoch cache
// (only when its checkpoint was lost).
func (l *Log) walkEpochs(s *segment) {
	r := l.newHeaderReader(s.log)
	defer l.putHeaderReader(r)
	for pos := int64(0); pos < s.size; {
		h, err := r.header(pos, s.size)
		if err != nil {
			return
		}
		l.epochs.assign(h.LeaderEpoch, h.BaseOffset)
		pos += h.Size()
	}
}

// scanBuffer is the read-ahead of a recovery scan.
const scanBuffer = 256 << 10

// scanSegment reads every batch of s, checking framing, magic, offsets and
// CRC, and rebuilds s's index and fields from the valid prefix. It returns
// the position where the valid prefix ends and, if the file continues past
// it, why (reason). err is for I/O failures only.
func (l *Log) scanSegment(s *segment, prevNext int64) (cut int64, reason, err error) {
	size, err := s.fileSize()
	if err != nil {
		return 0, nil, err
	}
	interval := l.cfg.Load().IndexIntervalBytes
	s.index.reset()
	s.size, s.next, s.lastBase, s.maxTS, s.rollMS = 0, s.base, -1, -1, 0
	br := bufio.NewReaderSize(io.NewSectionReader(s.log, 0, size), scanBuffer)
	expect := max(s.base, prevNext)
	var pos int64
	for pos < size {
		hb, err := br.Peek(headerSize)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return pos, fmt.Errorf("torn batch header: %d bytes at the end", size-pos), nil
			}
			return 0, nil, err
		}
		h, err := ParseBatchHeader(hb)
		switch {
		case err != nil:
			return pos, err, nil
		case h.BaseOffset < expect:
			return pos, fmt.Errorf("batch offset %d below expected %d", h.BaseOffset, expect), nil
		case pos+h.Size() > size:
			return pos, fmt.Errorf("torn batch: %d bytes at %d, file ends at %d", h.Size(), pos, size), nil
		case h.LastOffset()-s.base > math.MaxInt32 || pos > math.MaxUint32:
			return pos, fmt.Errorf("batch at %d does not fit segment %d", pos, s.base), nil
		}
		crc := crc32.Update(0, castagnoli, hb[offAttributes:])
		if _, err := br.Discard(headerSize); err != nil {
			return 0, nil, err
		}
		for rem := int(h.Size() - headerSize); rem > 0; {
			chunk, err := br.Peek(min(rem, br.Size()))
			if len(chunk) == 0 && err != nil {
				return 0, nil, err
			}
			crc = crc32.Update(crc, castagnoli, chunk)
			if _, err := br.Discard(len(chunk)); err != nil {
				return 0, nil, err
			}
			rem -= len(chunk)
		}
		if crc != h.CRC {
			return pos, fmt.Errorf("batch at %d (offset %d): crc %08x, computed %08x", pos, h.BaseOffset, h.CRC, crc), nil
		}
		s.maxTS = max(s.maxTS, h.MaxTimestamp)
		s.index.add(uint32(h.BaseOffset-s.base), uint32(pos), int(h.Size()), s.maxTS, interval)
		if s.lastBase < 0 {
			s.rollMS = l.rollStart(h)
		}
		s.lastBase, s.next = h.BaseOffset, h.LastOffset()+1
		l.epochs.assign(h.LeaderEpoch, h.BaseOffset)
		pos += h.Size()
		s.size = pos
		expect = s.next
	}
	return pos, nil, nil
}
