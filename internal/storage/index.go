package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/ternmq/tern/internal/storage/vfs"
)

// The sparse indexes of a segment (formats in doc.go). The in-memory copy is
// authoritative while the log is open: appends add entries in memory only,
// so Append costs one write(2); the files catch up when the segment is
// sealed (roll) and at Close. That is safe because Open trusts an index
// file only for segments below the recovery point or after a clean close,
// and rebuilds every other index from the log.

const (
	indexEntrySize = 8  // relative offset uint32, position uint32
	timeEntrySize  = 12 // max timestamp int64, relative offset uint32
)

type indexEntry struct {
	rel uint32 // batch base offset - segment base offset
	pos uint32 // file position of that batch
}

type timeEntry struct {
	ts  int64  // largest MaxTimestamp of the batches up to and including rel
	rel uint32 // relative base offset of the batch that was appended
}

// segIndex is a segment's offset and time index. Not safe for concurrent
// use: Log.mu guards it (readers under RLock, the appender under Lock).
type segIndex struct {
	offsets []indexEntry
	times   []timeEntry
	// offsetsFlushed and timesFlushed count entries already in the files.
	offsetsFlushed int
	timesFlushed   int
	// bytesSince counts batch bytes since the last offset entry.
	bytesSince int
}

// add is called for every batch about to be placed at pos, with maxTS the
// segment's largest timestamp including that batch. An entry is added once
// interval bytes went by without one, as Kafka's index.interval.bytes.
func (x *segIndex) add(rel, pos uint32, size int, maxTS int64, interval int) {
	if x.bytesSince >= interval {
		x.offsets = append(x.offsets, indexEntry{rel, pos})
		if n := len(x.times); n == 0 || maxTS > x.times[n-1].ts {
			x.times = append(x.times, timeEntry{maxTS, rel})
		}
		x.bytesSince = 0
	}
	x.bytesSince += size
}

// seal adds a last time entry so the time index alone bounds the segment's
// newest timestamp, as Kafka does on roll.
func (x *segIndex) seal(lastRel uint32, maxTS int64) {
	if n := len(x.times); maxTS >= 0 && (n == 0 || maxTS > x.times[n-1].ts) {
		x.times = append(x.times, timeEntry{maxTS, lastRel})
	}
}

// lookup returns the position of the last indexed batch whose relative base
// offset is <= rel (0 if none): a scan from there reaches rel's batch.
func (x *segIndex) lookup(rel uint32) int64 {
	i := sort.Search(len(x.offsets), func(i int) bool { return x.offsets[i].rel > rel })
	if i == 0 {
		return 0
	}
	return int64(x.offsets[i-1].pos)
}

// lookupTime returns the relative offset of the last time entry whose
// timestamp is below ts: every batch up to it is older than ts, so a scan
// for ts may start at its batch. ok is false when there is none.
func (x *segIndex) lookupTime(ts int64) (rel uint32, ok bool) {
	i := sort.Search(len(x.times), func(i int) bool { return x.times[i].ts >= ts })
	if i == 0 {
		return 0, false
	}
	return x.times[i-1].rel, true
}

// truncate drops entries for batches at or after relative offset rel.
func (x *segIndex) truncate(rel uint32) {
	n := sort.Search(len(x.offsets), func(i int) bool { return x.offsets[i].rel >= rel })
	x.offsets = x.offsets[:n]
	x.offsetsFlushed = min(x.offsetsFlushed, n)
	m := sort.Search(len(x.times), func(i int) bool { return x.times[i].rel >= rel })
	x.times = x.times[:m]
	x.timesFlushed = min(x.timesFlushed, m)
	// Conservative: the next batch may get an entry sooner than needed.
	x.bytesSince = 0
}

func (x *segIndex) reset() { *x = segIndex{} }

// flush appends unflushed entries to the index files. The caller holds
// Log.mu (read or write): entries must not change underneath.
func (x *segIndex) flush(idx, tidx vfs.File) error {
	if n := len(x.offsets) - x.offsetsFlushed; n > 0 {
		b := make([]byte, 0, n*indexEntrySize)
		for _, e := range x.offsets[x.offsetsFlushed:] {
			b = binary.BigEndian.AppendUint32(b, e.rel)
			b = binary.BigEndian.AppendUint32(b, e.pos)
		}
		if _, err := idx.WriteAt(b, int64(x.offsetsFlushed)*indexEntrySize); err != nil {
			return err
		}
		x.offsetsFlushed = len(x.offsets)
	}
	if n := len(x.times) - x.timesFlushed; n > 0 {
		b := make([]byte, 0, n*timeEntrySize)
		for _, e := range x.times[x.timesFlushed:] {
			b = binary.BigEndian.AppendUint64(b, uint64(e.ts))
			b = binary.BigEndian.AppendUint32(b, e.rel)
		}
		if _, err := tidx.WriteAt(b, int64(x.timesFlushed)*timeEntrySize); err != nil {
			return err
		}
		x.timesFlushed = len(x.times)
	}
	return nil
}

// rewrite replaces the index files with the in-memory entries (after a
// rebuild or a truncation).
func (x *segIndex) rewrite(idx, tidx vfs.File) error {
	if err := idx.Truncate(0); err != nil {
		return err
	}
	if err := tidx.Truncate(0); err != nil {
		return err
	}
	x.offsetsFlushed, x.timesFlushed = 0, 0
	return x.flush(idx, tidx)
}

// errStaleIndex means an index file cannot be trusted; the caller rebuilds
// it from the log. It never escapes the package.
var errStaleIndex = errors.New("stale index")

// load reads both index files and checks them against what they must
// satisfy for a log of logSize bytes: whole entries, strictly increasing
// offsets and positions inside the log, increasing timestamps. Any failure
// returns errStaleIndex (wrapped) and leaves x empty.
func (x *segIndex) load(idx, tidx vfs.File, logSize int64) error {
	x.reset()
	ib, err := readAll(idx)
	if err != nil {
		return err
	}
	tb, err := readAll(tidx)
	if err != nil {
		return err
	}
	if len(ib)%indexEntrySize != 0 || len(tb)%timeEntrySize != 0 {
		return fmt.Errorf("%w: partial entry (%d, %d bytes)", errStaleIndex, len(ib), len(tb))
	}
	x.offsets = make([]indexEntry, 0, len(ib)/indexEntrySize)
	for i := 0; i < len(ib); i += indexEntrySize {
		e := indexEntry{binary.BigEndian.Uint32(ib[i:]), binary.BigEndian.Uint32(ib[i+4:])}
		if n := len(x.offsets); (n > 0 && (e.rel <= x.offsets[n-1].rel || e.pos <= x.offsets[n-1].pos)) || int64(e.pos)+headerSize > logSize {
			x.reset()
			return fmt.Errorf("%w: offset entry %d (%d@%d) out of order or past the log", errStaleIndex, i/indexEntrySize, e.rel, e.pos)
		}
		x.offsets = append(x.offsets, e)
	}
	x.times = make([]timeEntry, 0, len(tb)/timeEntrySize)
	for i := 0; i < len(tb); i += timeEntrySize {
		e := timeEntry{int64(binary.BigEndian.Uint64(tb[i:])), binary.BigEndian.Uint32(tb[i+8:])}
		if n := len(x.times); n > 0 && (e.ts <= x.times[n-1].ts || e.rel < x.times[n-1].rel) {
			x.reset()
			return fmt.Errorf("%w: time entry %d out of order", errStaleIndex, i/timeEntrySize)
		}
		x.times = append(x.times, e)
	}
	x.offsetsFlushed, x.timesFlushed = len(x.offsets), len(x.times)
	return nil
}

func readAll(f vfs.File) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b, nil
}
