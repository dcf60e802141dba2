package compact

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/storage"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.UnixMilli(1_700_000_000_000)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// segmentBytes is the test logs' segment.bytes: a few batches each.
const segmentBytes = 2048

func testConfig() storage.Config {
	c := storage.DefaultConfig()
	c.SegmentBytes = segmentBytes
	c.IndexIntervalBytes = 256
	c.Sync = storage.SyncOS
	c.Cleanup = storage.CleanupCompact
	c.MinCleanableRatio = 0
	c.DeleteRetention = time.Hour
	return c
}

func openLog(t testing.TB, dir string, cfg storage.Config, opts storage.Options) *storage.Log {
	t.Helper()
	l, err := storage.Open(dir, cfg, opts)
	if err != nil {
		t.Fatalf("open log: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil && !errors.Is(err, storage.ErrLogClosed) {
			t.Errorf("close log: %v", err)
		}
	})
	return l
}

// newCleaner makes a cleaner over l with the test clock; the log's own
// config gives the settings, with no owner's bound.
func newCleaner(t testing.TB, l *storage.Log, clock *fakeClock, dedupe int64) *Cleaner {
	t.Helper()
	c := New(Config{DedupeBufferBytes: dedupe, Now: clock.Now})
	t.Cleanup(c.Close)
	c.Register(Target{Name: "test-0", Log: l, Settings: func() Settings { return SettingsOf(l.Config(), -1) }})
	return c
}

func cleanOnce(t testing.TB, c *Cleaner) int {
	t.Helper()
	n, err := c.CleanOnce(context.Background())
	if err != nil {
		t.Fatalf("CleanOnce: %v", err)
	}
	return n
}

func rec(key, value string, ts int64) message.Record {
	r := message.Record{Key: []byte(key), Value: []byte(value), Timestamp: ts}
	if value == "" {
		r.Value = nil // a tombstone
	}
	return r
}

// appendRecs appends one batch holding recs with opts, and returns its
// base offset.
func appendRecs(t testing.TB, l *storage.Log, opts message.BatchOptions, recs ...message.Record) int64 {
	t.Helper()
	off, err := l.Append(message.EncodeBatch(recs, opts), 0)
	if err != nil {
		t.Fatal(err)
	}
	return off
}

var plainBatch = message.BatchOptions{ProducerID: -1, BaseSequence: -1}

// seal appends a batch big enough to sit alone in a new active segment,
// so everything before it is sealed (cleanable).
func seal(t testing.TB, l *storage.Log) {
	t.Helper()
	appendRecs(t, l, plainBatch, message.Record{Key: []byte("~seal"), Value: make([]byte, segmentBytes), Timestamp: 1})
	appendRecs(t, l, plainBatch, message.Record{Key: []byte("~seal"), Value: make([]byte, segmentBytes), Timestamp: 1})
}

// logRecords reads every record of the log from its start, with the
// batch each came in.
type logRecord struct {
	message.Record
	batch message.Batch
}

func readLog(t testing.TB, l *storage.Log) []logRecord {
	t.Helper()
	var out []logRecord
	for off := l.StartOffset(); off < l.EndOffset(); {
		s, err := l.Read(off, 1<<20, l.EndOffset())
		if err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if s.Size() == 0 {
			s.Release()
			// A gap at the end of the sealed segments: the active
			// segment starts later.
			sealed, active := l.SealedSegments()
			if off >= active || len(sealed) == 0 {
				break
			}
			off = active
			continue
		}
		b, err := s.AppendTo(nil)
		s.Release()
		if err != nil {
			t.Fatal(err)
		}
		for len(b) > 0 {
			bt, err := message.ParseHeader(b)
			if err != nil || !message.CRCValid(bt.Raw) {
				t.Fatalf("bad batch at %d: %v", off, err)
			}
			recs, err := message.Records(bt, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				out = append(out, logRecord{r, bt})
			}
			off = bt.LastOffset() + 1
			b = b[len(bt.Raw):]
		}
	}
	return out
}

// latest is the state a log replayed from its start gives: each key's
// last value, "" for a tombstone (the key is deleted but the tombstone is
// still there).
func latest(recs []logRecord) map[string]string {
	m := map[string]string{}
	for _, r := range recs {
		if bytes.HasPrefix(r.Key, []byte("~")) {
			continue
		}
		m[string(r.Key)] = string(r.Value)
	}
	return m
}

// checkCompacted fails unless recs hold exactly one record per key
// (ignoring ~ keys, and keys listed in also), in increasing offsets.
func checkCompacted(t testing.TB, recs []logRecord) {
	t.Helper()
	seen := map[string]int64{}
	prev := int64(-1)
	for _, r := range recs {
		if r.Offset <= prev {
			t.Fatalf("offset %d after %d", r.Offset, prev)
		}
		prev = r.Offset
		if bytes.HasPrefix(r.Key, []byte("~")) {
			continue
		}
		if o, dup := seen[string(r.Key)]; dup {
			t.Fatalf("key %q at offsets %d and %d after cleaning", r.Key, o, r.Offset)
		}
		seen[string(r.Key)] = r.Offset
	}
}

func sameState(t testing.TB, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d keys, want %d", len(got), len(want))
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Fatalf("key %q = %q (present %v), want %q", k, g, ok, v)
		}
	}
}

// workload writes versions of keys in batches of batchSize records: key i
// gets versions 0..versions-1, every tombEvery-th version a tombstone
// (0: none). It returns the expected latest state.
func workload(t testing.TB, l *storage.Log, keys, versions, batchSize, tombEvery int, ts int64) map[string]string {
	t.Helper()
	want := map[string]string{}
	var batch []message.Record
	for v := 0; v < versions; v++ {
		for k := 0; k < keys; k++ {
			key := fmt.Sprintf("key-%03d", k)
			val := fmt.Sprintf("%s-v%03d", key, v)
			if tombEvery > 0 && (v+k)%tombEvery == 0 {
				val = ""
			}
			batch = append(batch, rec(key, val, ts))
			want[key] = val
			ts++
			if len(batch) == batchSize {
				appendRecs(t, l, plainBatch, batch...)
				batch = nil
			}
		}
	}
	if len(batch) > 0 {
		appendRecs(t, l, plainBatch, batch...)
	}
	return want
}

// zstdBatch compresses the records of an uncompressed batch with zstd,
// as a producer would.
func zstdBatch(t testing.TB, raw []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	out := enc.EncodeAll(raw[message.HeaderSize:], append([]byte(nil), raw[:message.HeaderSize]...))
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	binary.BigEndian.PutUint16(out[21:], binary.BigEndian.Uint16(out[21:])|message.CodecZstd)
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}
