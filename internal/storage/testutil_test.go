package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// makeBatch hand-encodes a valid RecordBatch v2 with n records of valueSize
// bytes each; record i has timestamp ts+i. Base offset 0, leader epoch -1:
// Append stamps both.
func makeBatch(n, valueSize int, ts int64) []byte {
	var recs []byte
	value := bytes.Repeat([]byte{'v'}, valueSize)
	for i := 0; i < n; i++ {
		var body []byte
		body = append(body, 0) // attributes
		body = binary.AppendVarint(body, int64(i))
		body = binary.AppendVarint(body, int64(i))
		body = binary.AppendVarint(body, -1) // null key
		body = binary.AppendVarint(body, int64(len(value)))
		body = append(body, value...)
		body = binary.AppendVarint(body, 0) // headers
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	b := make([]byte, headerSize, headerSize+len(recs))
	b = append(b, recs...)
	binary.BigEndian.PutUint32(b[offLength:], uint32(len(b)-logOverhead))
	binary.BigEndian.PutUint32(b[offLeaderEpoch:], 0xffffffff)
	b[offMagic] = batchMagic
	binary.BigEndian.PutUint32(b[offLastOffsetDelta:], uint32(n-1))
	binary.BigEndian.PutUint64(b[offBaseTimestamp:], uint64(ts))
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(ts+int64(n-1)))
	binary.BigEndian.PutUint64(b[offProducerID:], ^uint64(0))
	binary.BigEndian.PutUint16(b[offProducerEpoch:], 0xffff)
	binary.BigEndian.PutUint32(b[offBaseSequence:], 0xffffffff)
	binary.BigEndian.PutUint32(b[offRecordCount:], uint32(n))
	binary.BigEndian.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], castagnoli))
	return b
}

// testConfig is a small, fast configuration: tiny segments, no fsync per
// append (tests that need SyncAlways set it).
func testConfig() Config {
	c := DefaultConfig()
	c.SegmentBytes = 4096
	c.IndexIntervalBytes = 256
	c.Sync = SyncOS
	return c
}

// fakeClock is an injectable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.UnixMilli(1_700_000_000_000)} }

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

// logBuffer collects slog output for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func openTest(t testing.TB, dir string, cfg Config, opts Options) *Log {
	t.Helper()
	l, err := Open(dir, cfg, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil && !errors.Is(err, ErrLogClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// appended remembers what a test appended, after stamping.
type appended struct {
	base  int64
	bytes []byte
}

func mustAppend(t testing.TB, l *Log, b []byte, epoch int32) appended {
	t.Helper()
	base, err := l.Append(b, epoch)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return appended{base, b}
}

// appendN appends n batches of records records each, timestamps ts, ts+1000…
func appendN(t testing.TB, l *Log, n, records, valueSize int, ts int64) []appended {
	t.Helper()
	var out []appended
	for i := 0; i < n; i++ {
		out = append(out, mustAppend(t, l, makeBatch(records, valueSize, ts+int64(i)*1000), 0))
	}
	return out
}

// readBatches reads every batch from offset up to upTo, checking each CRC.
func readBatches(t testing.TB, l *Log, from, upTo int64) [][]byte {
	t.Helper()
	var out [][]byte
	for off := from; off < upTo; {
		s, err := l.Read(off, 1<<20, upTo)
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		if s.Size() == 0 {
			break
		}
		b, err := s.AppendTo(nil)
		s.Release()
		if err != nil {
			t.Fatalf("AppendTo: %v", err)
		}
		for len(b) > 0 {
			h, err := ParseBatchHeader(b)
			if err != nil {
				t.Fatalf("read bad header at offset %d: %v", off, err)
			}
			if err := VerifyCRC(b[:h.Size()]); err != nil {
				t.Fatalf("read batch %d: %v", h.BaseOffset, err)
			}
			out = append(out, b[:h.Size():h.Size()])
			b = b[h.Size():]
			off = h.LastOffset() + 1
		}
	}
	return out
}

func checkBatches(t testing.TB, got [][]byte, want []appended) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d batches, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i].bytes) {
			t.Fatalf("batch %d (offset %d) differs", i, want[i].base)
		}
	}
}

func segmentFiles(t testing.TB, dir, suffix string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func lastSegmentFile(t testing.TB, dir string) string {
	t.Helper()
	m := segmentFiles(t, dir, logSuffix)
	if len(m) == 0 {
		t.Fatal("no segments")
	}
	return m[len(m)-1]
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// checkNoLeak fails if goroutines started during the test outlive it.
func checkNoLeak(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func isLogFile(path string) bool { return strings.HasSuffix(path, logSuffix) }
