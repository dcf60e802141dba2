package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/ternmq/tern/internal/storage/vfs"
)

// File name suffixes of a segment. A segment is named by its base offset,
// 20 zero-padded decimal digits, as Kafka does, so names sort by offset.
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	deletedSuffix   = ".deleted"
	tmpSuffix       = ".tmp"
)

func segmentName(base int64, suffix string) string {
	return fmt.Sprintf("%020d%s", base, suffix)
}

// parseSegmentName returns the base offset of a segment file name with the
// given suffix.
func parseSegmentName(name, suffix string) (int64, bool) {
	stem, ok := strings.CutSuffix(name, suffix)
	if !ok || len(stem) != 20 {
		return 0, false
	}
	base, err := strconv.ParseInt(stem, 10, 64)
	if err != nil || base < 0 {
		return 0, false
	}
	return base, true
}

// segment is one .log file and its two index files.
//
// Lifetime: a segment is reference counted. The Log holds one reference
// while the segment is in its list; every Slice and every in-flight fsync
// holds another. Removing a segment (retention, truncation) renames its
// files to *.deleted and drops the Log's reference; the descriptors are
// closed, and the files unlinked, when the last reference goes. So a
// reader never sees a file closed under it, and a crash before the unlink
// leaves only *.deleted files, which Open removes.
type segment struct {
	fs   vfs.FS
	dir  string
	base int64

	log  vfs.File
	idx  vfs.File
	tidx vfs.File

	refs    atomic.Int32
	removed atomic.Bool // files renamed to *.deleted
	// indexMissing: Open found no index file; an empty one is not to be
	// trusted as "no entries".
	indexMissing bool

	// The fields below are guarded by Log.mu. size and next advance together
	// after the bytes are written, so a reader never sees a partial batch.
	size     int64 // bytes of whole batches in the file
	next     int64 // offset after the last batch; base when empty
	lastBase int64 // base offset of the last batch; -1 when empty
	maxTS    int64 // largest batch MaxTimestamp; -1 when empty
	// rollMS is when the segment's age starts for SegmentAge (Unix ms): the
	// clock at its first append, or its first batch's timestamp when
	// recovered. 0 while empty.
	rollMS int64
	index  segIndex
}

func (s *segment) path(suffix string) string {
	p := filepath.Join(s.dir, segmentName(s.base, suffix))
	if s.removed.Load() {
		p += deletedSuffix
	}
	return p
}

// openSegment opens (create=false) or creates (create=true, truncating any
// stale leftovers) the three files of the segment at base. The returned
// segment holds one reference, the Log's.
func openSegment(fsys vfs.FS, dir string, base int64, create bool) (*segment, error) {
	s := &segment{fs: fsys, dir: dir, base: base, next: base, lastBase: -1, maxTS: -1}
	s.refs.Store(1)
	logFlag := os.O_RDWR
	if create {
		logFlag |= os.O_CREATE | os.O_TRUNC
	}
	var err error
	if s.log, err = fsys.OpenFile(s.path(logSuffix), logFlag, 0o644); err != nil {
		return nil, fmt.Errorf("storage: open segment: %w", err)
	}
	// Index files are created if missing (and then rebuilt from the log).
	if s.idx, err = s.openIndex(indexSuffix, create); err != nil {
		_ = s.log.Close()
		return nil, fmt.Errorf("storage: open index: %w", err)
	}
	if s.tidx, err = s.openIndex(timeIndexSuffix, create); err != nil {
		_ = s.log.Close()
		_ = s.idx.Close()
		return nil, fmt.Errorf("storage: open time index: %w", err)
	}
	return s, nil
}

func (s *segment) openIndex(suffix string, create bool) (vfs.File, error) {
	if create {
		return s.fs.OpenFile(s.path(suffix), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	}
	f, err := s.fs.OpenFile(s.path(suffix), os.O_RDWR, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		s.indexMissing = true
		return s.fs.OpenFile(s.path(suffix), os.O_RDWR|os.O_CREATE, 0o644)
	}
	return f, err
}

// fileSize is the size of the .log file on disk (not s.size, which counts
// only whole batches).
func (s *segment) fileSize() (int64, error) {
	st, err := s.log.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func (s *segment) incRef() { s.refs.Add(1) }

// decRef drops a reference; the last one closes the files, and unlinks them
// if the segment was removed from the log.
func (s *segment) decRef() {
	n := s.refs.Add(-1)
	if n > 0 {
		return
	}
	if n < 0 {
		panic("storage: segment reference count below zero") // a Release too many: a programming error
	}
	_ = s.closeFiles()
	if s.removed.Load() {
		for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
			_ = s.fs.Remove(s.path(suf))
		}
	}
}

func (s *segment) closeFiles() error {
	return errors.Join(s.log.Close(), s.idx.Close(), s.tidx.Close())
}

// markRemoved renames the files to *.deleted. The caller fsyncs the
// directory and then drops the Log's reference. Must be called at most once.
func (s *segment) markRemoved() error {
	var errs []error
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
		old := s.path(suf)
		if err := s.fs.Rename(old, old+deletedSuffix); err != nil {
			errs = append(errs, err)
		}
	}
	s.removed.Store(true)
	return errors.Join(errs...)
}

// seal makes the segment complete on disk: final time entry, index files
// flushed, all three files fsynced. Called on roll, holding Log.mu (the
// index must not change; only the appender changes it, and it is the
// caller).
func (s *segment) seal() error {
	if s.lastBase >= 0 {
		s.index.seal(uint32(s.lastBase-s.base), s.maxTS)
	}
	return s.flushIndex(true)
}

// flushIndex writes pending index entries and optionally fsyncs all files.
func (s *segment) flushIndex(sync bool) error {
	if err := s.index.flush(s.idx, s.tidx); err != nil {
		return fmt.Errorf("storage: write index of segment %d: %w", s.base, err)
	}
	if !sync {
		return nil
	}
	for _, f := range []vfs.File{s.log, s.idx, s.tidx} {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("storage: sync segment %d: %w", s.base, err)
		}
	}
	return nil
}
