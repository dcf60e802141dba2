package storage

// Lock order (a goroutine holding a lock may only take locks to its right):
//
//	writeMu  →  checkpointFile.mu  →  mu  →  gc.mu
//
//   - writeMu serializes everything that changes the set of batches or
//     segments: Append's write, roll, TruncateTo, retention and
//     DeleteRecordsBefore, a cleaner's segment swap (its renames and
//     directory fsyncs only; the cleaned files are written before), Close. It is held across the write(2) of one
//     batch, never across a group-commit fsync.
//   - checkpointFile.mu (one per checkpoint file) serializes writes of that
//     file; the payload is computed under it, reading state under mu.
//   - mu (RWMutex) guards what readers look at: the segment list, each
//     segment's size/next/maxTS/index entries, the epoch cache. Writers take
//     it only for short in-memory updates, after the bytes are on the file,
//     so readers never see a partial batch.
//   - gc.mu is the group-commit leaf lock (groupcommit.go).
//
// start, end and hw are atomics written under mu so accessors need no lock.
// Segment lifetime is reference counted (segment.go), not locked.

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ternmq/tern/internal/storage/vfs"
)

// Log is one partition log: a directory of segments (doc.go).
//
// Concurrency: every method is safe for concurrent use. Appends are
// serialized in offset order; reads run in parallel with appends and with
// each other.
type Log struct {
	dir    string
	fs     vfs.FS
	now    func() time.Time
	logger *slog.Logger
	cfg    atomic.Pointer[Config]
	onSync func(time.Duration) // Options.OnSync; may be nil

	writeMu sync.Mutex
	closed  bool // guarded by writeMu
	// recoveryOffset is the base of the active segment: all below it is
	// sealed (fsynced with its indexes). Guarded by writeMu.
	recoveryOffset int64

	mu     sync.RWMutex
	segs   []*segment // ordered by base; the last is the active segment; nil once closed
	epochs epochCache

	start atomic.Int64
	end   atomic.Int64
	hw    atomic.Int64

	failure atomic.Pointer[error] // first write/fsync failure; sticky
	gc      groupCommit

	ckRecovery checkpointFile
	ckStart    checkpointFile
	ckHW       checkpointFile
	ckEpoch    checkpointFile
	ckCleaner  checkpointFile
	// cleanerOffset is the first offset a cleaner has not cleaned, -1
	// when none was recorded (cleanpoint.go).
	cleanerOffset atomic.Int64

	flusherStop chan struct{}
	flusherKick chan struct{}
	flusherDone chan struct{}
	hwWritten   atomic.Int64 // last high watermark checkpointed

	bufPool sync.Pool // *[]byte header-scan windows (read.go)
}

// Open opens the log in dir, creating the directory if needed, and runs
// crash recovery (recovery.go) before returning. cfg must pass Validate.
// The returned Log owns a background flusher goroutine until Close.
//
// Errors: ErrCorrupt when data that was known durable is damaged (recovery
// cuts only an unsynced tail on its own) or a checkpoint is from a newer
// version; otherwise I/O errors.
func Open(dir string, cfg Config, opts Options) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	l := &Log{
		dir:         dir,
		fs:          opts.FS,
		now:         opts.Now,
		onSync:      opts.OnSync,
		logger:      opts.Logger.With("log", dir),
		flusherStop: make(chan struct{}),
		flusherKick: make(chan struct{}, 1),
		flusherDone: make(chan struct{}),
	}
	l.cfg.Store(&cfg)
	l.gc.cond = sync.NewCond(&l.gc.mu)
	l.ckRecovery = checkpointFile{fs: l.fs, dir: dir, name: recoveryPointFile, kind: kindRecoveryPoint}
	l.ckStart = checkpointFile{fs: l.fs, dir: dir, name: startOffsetFile, kind: kindStartOffset}
	l.ckHW = checkpointFile{fs: l.fs, dir: dir, name: highWatermarkFile, kind: kindHighWatermark}
	l.ckEpoch = checkpointFile{fs: l.fs, dir: dir, name: leaderEpochFile, kind: kindLeaderEpoch}
	l.ckCleaner = checkpointFile{fs: l.fs, dir: dir, name: cleanerOffsetFile, kind: kindCleanerOffset}
	l.bufPool.New = func() any { b := make([]byte, scanWindow); return &b }
	if err := l.recover(); err != nil {
		l.mu.Lock()
		for _, s := range l.segs {
			s.decRef()
		}
		l.segs = nil
		l.mu.Unlock()
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	l.gc.active = l.segs[len(l.segs)-1]
	go l.flusher()
	return l, nil
}

// Dir is the directory the log lives in.
func (l *Log) Dir() string { return l.dir }

// StartOffset is the first offset a Read may ask for. Retention,
// DeleteRecordsBefore and TruncateTo move it.
func (l *Log) StartOffset() int64 { return l.start.Load() }

// EndOffset is the offset the next Append will get (Kafka's log end
// offset). It covers written batches, which under SyncAlways may not be
// fsynced yet: use HighWatermark for what consumers may see.
func (l *Log) EndOffset() int64 { return l.end.Load() }

// HighWatermark is the offset below which batches are visible to
// consumers. Storage never moves it up on its own: the caller does (the
// single-node broker sets it to the durable end, replication to the
// committed end). It is clamped down by TruncateTo and up by StartOffset.
func (l *Log) HighWatermark() int64 { return l.hw.Load() }

// SetHighWatermark raises the high watermark to off, clamped to
// [StartOffset, EndOffset]; a lower value is ignored. It is persisted lazily
// (by the flusher and on Close) and restored by Open, clamped to the
// recovered end, so after a crash it may be behind: callers re-establish it.
func (l *Log) SetHighWatermark(off int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	off = min(max(off, l.start.Load()), l.end.Load())
	if off > l.hw.Load() {
		l.hw.Store(off)
	}
}

// LatestEpoch is the newest leader epoch appended, -1 if none.
func (l *Log) LatestEpoch() int32 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.epochs.latest()
}

// EndOffsetForEpoch answers Kafka's OffsetForLeaderEpoch: the largest known
// epoch <= epoch, and the start offset of the epoch after it (EndOffset if
// it is the latest). (-1, -1) when epoch is below the first known epoch or
// none is known.
func (l *Log) EndOffsetForEpoch(epoch int32) (int32, int64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.epochs.endOffsetFor(epoch, l.end.Load())
}

// Config returns the current configuration.
func (l *Log) Config() Config { return *l.cfg.Load() }

// SetConfig replaces the configuration (topic AlterConfigs). It applies to
// the next roll, retention run and Append; the flusher picks up a new sync
// interval at once. Callers validate cfg with Config.Validate first;
// invalid intervals fall back to safe values.
func (l *Log) SetConfig(cfg Config) {
	l.cfg.Store(&cfg)
	select {
	case l.flusherKick <- struct{}{}:
	default:
	}
}

// Size is the number of bytes of all segment files (without indexes).
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var n int64
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

// Segments is the number of segments, the active one included.
func (l *Log) Segments() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.segs)
}

// Sync fsyncs every written batch now, sharing an fsync already in flight.
// Errors wrap ErrLogFailed (and the log refuses appends from then on) or
// ErrLogClosed.
func (l *Log) Sync() error {
	l.writeMu.Lock()
	closed := l.closed
	l.writeMu.Unlock()
	if closed {
		return ErrLogClosed
	}
	return l.syncWritten()
}

// Close stops the flusher (writes are done under writeMu, so none is in
// flight once closed is set), fsyncs the active
// segment and its indexes, writes the checkpoints including the clean
// shutdown marker, and drops the log's file references (files still held
// by unreleased Slices close when those are released). Later calls on the
// Log return ErrLogClosed. A log that failed is closed without a clean
// marker, so the next Open runs recovery.
func (l *Log) Close() error {
	l.writeMu.Lock()
	if l.closed {
		l.writeMu.Unlock()
		return ErrLogClosed
	}
	l.closed = true
	l.writeMu.Unlock()

	close(l.flusherStop)
	<-l.flusherDone

	// From here no goroutine but us touches the write side.
	var errs []error
	if l.failure.Load() == nil {
		active := l.segs[len(l.segs)-1]
		if err := l.syncWritten(); err != nil {
			errs = append(errs, err)
		} else if err := active.flushIndex(true); err != nil {
			errs = append(errs, err)
		} else if err := l.writeHW(); err != nil {
			errs = append(errs, err)
		} else {
			size, err := active.fileSize()
			if err == nil {
				rp := recoveryPoint{clean: true, offset: l.end.Load(), activeBase: active.base, activeSize: size}
				err = l.ckRecovery.store(rp.encode)
			}
			errs = append(errs, err)
		}
	}
	l.mu.Lock()
	segs := l.segs
	l.segs = nil
	l.mu.Unlock()
	for _, s := range segs {
		s.decRef()
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("storage: close %s: %w", l.dir, err)
	}
	return nil
}

// Delete closes the log and removes its directory (topic deletion). Files
// held by unreleased Slices stay readable until released (unlinked files).
func (l *Log) Delete() error {
	if err := l.Close(); err != nil && !errors.Is(err, ErrLogClosed) {
		l.logger.Warn("storage: close before delete failed", "err", err)
	}
	if err := l.fs.RemoveAll(l.dir); err != nil {
		return fmt.Errorf("storage: delete %s: %w", l.dir, err)
	}
	return nil
}

// fail records the first write/fsync failure; from then on every Append
// returns an ErrLogFailed error.
func (l *Log) fail(err error) error {
	werr := fmt.Errorf("%w: %s: %w", ErrLogFailed, l.dir, err)
	if l.failure.CompareAndSwap(nil, &werr) {
		l.logger.Error("storage: log failed; refusing appends until reopened", "err", err)
	}
	return *l.failure.Load()
}

func (l *Log) failed() error {
	if p := l.failure.Load(); p != nil {
		return *p
	}
	return nil
}

func (l *Log) writeHW() error {
	hw := l.hw.Load()
	if err := l.ckHW.store(func() []byte { return encodeInt64(hw) }); err != nil {
		return err
	}
	l.hwWritten.Store(hw)
	return nil
}

func (l *Log) writeStart() error {
	return l.ckStart.store(func() []byte { return encodeInt64(l.start.Load()) })
}

func (l *Log) writeEpochs() error {
	return l.ckEpoch.store(func() []byte {
		l.mu.RLock()
		defer l.mu.RUnlock()
		return l.epochs.encode()
	})
}

// writeRecoveryPoint records that everything below l.recoveryOffset is
// sealed. Caller holds writeMu.
func (l *Log) writeRecoveryPoint() error {
	rp := recoveryPoint{offset: l.recoveryOffset}
	return l.ckRecovery.store(rp.encode)
}
