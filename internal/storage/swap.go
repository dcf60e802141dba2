package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ternmq/tern/internal/storage/vfs"
)

// Replacing sealed segments with a cleaned copy, crash-safely.
//
// A cleaner writes the batches it keeps from one or more consecutive
// sealed segments [B, E) — E is the base of the segment after them — into
// a Cleaned, whose files are named <B>.log.cleaned (and .index.cleaned,
// .timeindex.cleaned). ReplaceSegments then, holding writeMu:
//
//  1. fsyncs the cleaned files and renames them to <B>-<E>.<suffix>.swap,
//     the log file last; fsync dir. The .log.swap file is the commit
//     point: from then on recovery finishes the swap instead of undoing it.
//  2. renames the old segments' files to *.deleted; fsync dir.
//  3. renames the .swap files to <B>.log, <B>.index, <B>.timeindex; fsync
//     dir; swaps the segment list under mu.
//
// Open finishes or discards what a crash left (finishSwaps, cleanDir):
// *.cleaned files are deleted (the old segments are intact); a
// <B>-<E>.log.swap deletes every segment based in [B, E) and takes its
// place; index .swap files without their log are deleted (indexes are
// rebuilt when missing). The directory fsyncs between the steps keep a
// crash from making a later rename durable without an earlier one.
//
// Offsets never change: a cleaned segment keeps its batches' offsets, so
// the log has gaps that Read steps over.

// ErrSegmentsChanged reports that segments a cleaner read were deleted,
// truncated or replaced meanwhile. Its work is discarded; nothing changed.
var ErrSegmentsChanged = errors.New("storage: segments changed during cleaning")

const (
	cleanedSuffix = ".cleaned"
	swapSuffix    = ".swap"
)

func swapName(base, end int64, suffix string) string {
	return fmt.Sprintf("%020d-%020d%s%s", base, end, suffix, swapSuffix)
}

// parseSwapName parses <base>-<end><suffix>.swap.
func parseSwapName(name string) (base, end int64, suffix string, ok bool) {
	stem, ok := strings.CutSuffix(name, swapSuffix)
	if !ok {
		return 0, 0, "", false
	}
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
		r, found := strings.CutSuffix(stem, suf)
		if !found || len(r) != 41 || r[20] != '-' {
			continue
		}
		b, okb := parseSegmentName(r[:20]+suf, suf)
		e, oke := parseSegmentName(r[21:]+suf, suf)
		if okb && oke && e > b {
			return b, e, suf, true
		}
	}
	return 0, 0, "", false
}

// isSwapIndex reports an index .swap file; cleanDir deletes those left
// after finishSwaps, whose log never committed.
func isSwapIndex(name string) bool {
	_, _, suf, ok := parseSwapName(name)
	return ok && suf != logSuffix
}

// Cleaned is a replacement under construction for consecutive sealed
// segments, written by a cleaner: batches go to files beside the log that
// readers never see until ReplaceSegments swaps them in. It builds its
// indexes as it goes, as an append does. Not safe for concurrent use.
type Cleaned struct {
	l        *Log
	base     int64
	files    [3]vfs.File // log, index, time index
	size     int64       // bytes appended (flushed or buffered)
	flushed  int64       // bytes written to the file
	buf      []byte
	next     int64 // offset after the last batch; base when empty
	lastBase int64
	maxTS    int64
	index    segIndex
	interval int
	done     bool // replaced or aborted
}

// cleanedBuffer is how many bytes a Cleaned gathers per write(2).
const cleanedBuffer = 1 << 20

var segmentSuffixes = [3]string{logSuffix, indexSuffix, timeIndexSuffix}

// NewCleaned starts a replacement whose first segment has base offset
// base (the base of the first segment it will replace).
func (l *Log) NewCleaned(base int64) (*Cleaned, error) {
	l.writeMu.Lock()
	closed := l.closed
	l.writeMu.Unlock()
	if closed {
		return nil, ErrLogClosed
	}
	c := &Cleaned{l: l, base: base, next: base, lastBase: -1, maxTS: -1, interval: l.cfg.Load().IndexIntervalBytes}
	for i, suf := range segmentSuffixes {
		f, err := l.fs.OpenFile(c.path(suf), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			c.Abort()
			return nil, fmt.Errorf("storage: create cleaned segment %d: %w", base, err)
		}
		c.files[i] = f
	}
	return c, nil
}

func (c *Cleaned) path(suffix string) string {
	return filepath.Join(c.l.dir, segmentName(c.base, suffix)+cleanedSuffix)
}

// Size is the number of bytes appended so far.
func (c *Cleaned) Size() int64 { return c.size }

// Append adds one batch, which must be a well-formed RecordBatch v2 whose
// offsets are above those appended before and not below the base. The
// cleaner keeps offsets, so gaps are expected. Errors: ErrInvalidBatch;
// I/O errors (the Cleaned is then only good for Abort).
func (c *Cleaned) Append(batch []byte) error {
	h, err := ParseBatchHeader(batch)
	if err != nil || h.Size() != int64(len(batch)) {
		return fmt.Errorf("%w: cleaned batch of %d bytes: %v", ErrInvalidBatch, len(batch), err)
	}
	switch {
	case h.BaseOffset < c.next:
		return fmt.Errorf("%w: cleaned batch offset %d below %d", ErrInvalidBatch, h.BaseOffset, c.next)
	case h.LastOffset()-c.base > math.MaxInt32:
		return fmt.Errorf("%w: batch at %d does not fit a segment based at %d", ErrInvalidBatch, h.BaseOffset, c.base)
	case c.size+h.Size() > maxSegmentBytes:
		return fmt.Errorf("%w: cleaned segment %d would pass %d bytes", ErrInvalidBatch, c.base, int64(maxSegmentBytes))
	}
	c.maxTS = max(c.maxTS, h.MaxTimestamp)
	c.index.add(uint32(h.BaseOffset-c.base), uint32(c.size), len(batch), c.maxTS, c.interval)
	c.lastBase, c.next = h.BaseOffset, h.LastOffset()+1
	c.size += h.Size()
	c.buf = append(c.buf, batch...)
	if len(c.buf) >= cleanedBuffer {
		return c.flush()
	}
	return nil
}

func (c *Cleaned) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	if _, err := c.files[0].WriteAt(c.buf, c.flushed); err != nil {
		return fmt.Errorf("storage: write cleaned segment %d: %w", c.base, err)
	}
	c.flushed += int64(len(c.buf))
	c.buf = c.buf[:0]
	return nil
}

// finish writes what is buffered and the sealed indexes, and fsyncs the
// three files: after it, the files are complete on disk.
func (c *Cleaned) finish() error {
	if err := c.flush(); err != nil {
		return err
	}
	if c.lastBase >= 0 {
		c.index.seal(uint32(c.lastBase-c.base), c.maxTS)
	}
	if err := c.index.flush(c.files[1], c.files[2]); err != nil {
		return fmt.Errorf("storage: write cleaned index %d: %w", c.base, err)
	}
	for _, f := range c.files {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("storage: sync cleaned segment %d: %w", c.base, err)
		}
	}
	c.buf = nil
	return nil
}

// Abort discards the replacement: its files are closed and deleted. It is
// safe to call more than once, and after ReplaceSegments (a no-op then).
func (c *Cleaned) Abort() {
	if c.done {
		return
	}
	c.done = true
	for i, f := range c.files {
		if f != nil {
			_ = f.Close()
		}
		if err := c.l.fs.Remove(c.path(segmentSuffixes[i])); err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.l.logger.Warn("storage: remove cleaned file", "file", c.path(segmentSuffixes[i]), "err", err)
		}
	}
}

// ReplaceSegments swaps c in for old, which must be consecutive sealed
// segments of the log, c's base the first one's: readers see the cleaned
// batches from then on, while Slices of the old segments keep reading
// them until released. Appends wait only for the renames and directory
// fsyncs (c is fsynced before). c is used up either way.
//
// Errors: ErrSegmentsChanged (old are no longer consecutive sealed
// segments: retention, truncation or another swap got there first; the
// log is unchanged); ErrLogClosed; ErrLogFailed — a rename or fsync
// failed once the swap was committed, so the log refuses appends until
// reopened, and Open finishes the swap.
func (l *Log) ReplaceSegments(c *Cleaned, old []SegmentInfo) error {
	if c.done || c.l != l {
		return fmt.Errorf("storage: replace segments with a used or foreign Cleaned")
	}
	if err := c.finish(); err != nil {
		c.Abort()
		return err
	}
	l.writeMu.Lock()
	removed, err := l.replaceLocked(c, old)
	l.writeMu.Unlock()
	for _, s := range removed {
		s.decRef() // unlinks the *.deleted files once no reader holds them
	}
	return err
}

func (l *Log) replaceLocked(c *Cleaned, old []SegmentInfo) ([]*segment, error) {
	if l.closed {
		c.Abort()
		return nil, ErrLogClosed
	}
	if err := l.failed(); err != nil {
		c.Abort()
		return nil, err
	}
	k := -1
	if len(old) > 0 {
		k = slices.IndexFunc(l.segs, func(s *segment) bool { return s == old[0].seg })
	}
	if k < 0 || k+len(old) >= len(l.segs) || old[0].Base != c.base {
		c.Abort()
		return nil, fmt.Errorf("%w: %d segments from %d", ErrSegmentsChanged, len(old), c.base)
	}
	for i, o := range old {
		if l.segs[k+i] != o.seg {
			c.Abort()
			return nil, fmt.Errorf("%w: segment %d", ErrSegmentsChanged, o.Base)
		}
	}
	end := l.segs[k+len(old)].base
	if c.next > end {
		c.Abort()
		return nil, fmt.Errorf("%w: cleaned batches reach %d, past the next segment at %d", ErrInvalidBatch, c.next, end)
	}

	// Step 1: commit. Until the .log.swap rename, a failure leaves the
	// old segments in charge, so the log goes on.
	for _, i := range []int{1, 2, 0} {
		if err := l.fs.Rename(c.path(segmentSuffixes[i]), filepath.Join(l.dir, swapName(c.base, end, segmentSuffixes[i]))); err != nil {
			for _, j := range []int{1, 2} {
				_ = l.fs.Remove(filepath.Join(l.dir, swapName(c.base, end, segmentSuffixes[j])))
			}
			c.Abort()
			return nil, fmt.Errorf("storage: commit cleaned segment %d: %w", c.base, err)
		}
	}
	c.done = true
	fail := func(err error) ([]*segment, error) {
		for _, f := range c.files {
			_ = f.Close()
		}
		return nil, l.fail(fmt.Errorf("swap cleaned segment %d: %w", c.base, err))
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fail(err)
	}
	// Step 2: retire the old segments.
	replaced := slices.Clone(l.segs[k : k+len(old)])
	for _, s := range replaced {
		if err := s.markRemoved(); err != nil {
			return fail(err)
		}
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fail(err)
	}
	// Step 3: the cleaned files take the segment's names.
	for _, suf := range segmentSuffixes {
		if err := l.fs.Rename(filepath.Join(l.dir, swapName(c.base, end, suf)), filepath.Join(l.dir, segmentName(c.base, suf))); err != nil {
			return fail(err)
		}
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fail(err)
	}
	seg := &segment{
		fs: l.fs, dir: l.dir, base: c.base,
		log: c.files[0], idx: c.files[1], tidx: c.files[2],
		size: c.size, next: c.next, lastBase: c.lastBase, maxTS: c.maxTS, index: c.index,
	}
	seg.index.bytesSince = 0
	seg.refs.Store(1)

	l.mu.Lock()
	l.segs = slices.Concat(l.segs[:k], []*segment{seg}, l.segs[k+len(old):])
	l.mu.Unlock()
	var before int64
	for _, s := range replaced {
		before += s.size
	}
	l.logger.Info("storage: swapped in cleaned segment", "base", c.base, "replaced", len(replaced), "bytesBefore", before, "bytesAfter", seg.size)
	return replaced, nil
}

// finishSwaps completes every swap a crash interrupted after its commit
// point (see the top of this file): the old segments based in [B, E) are
// deleted and the .swap files renamed into place. Run by Open before
// cleanDir, which then removes what is left (*.cleaned, *.deleted,
// uncommitted index .swap files).
func (l *Log) finishSwaps() error {
	entries, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return err
	}
	type swap struct{ base, end int64 }
	var swaps []swap
	for _, e := range entries {
		if b, end, suf, ok := parseSwapName(e.Name()); ok && suf == logSuffix {
			swaps = append(swaps, swap{b, end})
		}
	}
	if len(swaps) == 0 {
		return nil
	}
	for _, sw := range swaps {
		for _, e := range entries {
			name := e.Name()
			for _, suf := range segmentSuffixes {
				if b, ok := parseSegmentName(name, suf); ok && b >= sw.base && b < sw.end {
					if err := l.fs.Remove(filepath.Join(l.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
						return err
					}
				}
			}
		}
		for _, suf := range segmentSuffixes {
			from := filepath.Join(l.dir, swapName(sw.base, sw.end, suf))
			err := l.fs.Rename(from, filepath.Join(l.dir, segmentName(sw.base, suf)))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		l.logger.Warn("storage: finished an interrupted segment swap", "base", sw.base, "end", sw.end)
	}
	return l.fs.SyncDir(l.dir)
}
