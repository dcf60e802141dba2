package storage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAppendReadAcrossRolls(t *testing.T) {
	tests := []struct {
		name         string
		segmentBytes int64
		batches      int
		records      int
		valueSize    int
		wantSegs     func(n int) bool
	}{
		{"one segment", 1 << 20, 50, 3, 20, func(n int) bool { return n == 1 }},
		{"many segments", 2048, 100, 4, 40, func(n int) bool { return n > 5 }},
		{"batch larger than segment", 256, 5, 10, 100, func(n int) bool { return n == 5 }},
		{"single-record batches", 1024, 200, 1, 10, func(n int) bool { return n > 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.SegmentBytes = tt.segmentBytes
			l := openTest(t, t.TempDir(), cfg, Options{})
			want := appendN(t, l, tt.batches, tt.records, tt.valueSize, 1000)
			for i, a := range want {
				if a.base != int64(i*tt.records) {
					t.Fatalf("batch %d got base %d, want %d", i, a.base, i*tt.records)
				}
			}
			if got, want := l.EndOffset(), int64(tt.batches*tt.records); got != want {
				t.Fatalf("EndOffset = %d, want %d", got, want)
			}
			if !tt.wantSegs(l.Segments()) {
				t.Fatalf("Segments() = %d", l.Segments())
			}
			checkBatches(t, readBatches(t, l, 0, l.EndOffset()), want)
			// Reading from every offset starts at the batch containing it.
			for off := int64(0); off < l.EndOffset(); off++ {
				s, err := l.Read(off, 1, l.EndOffset())
				if err != nil {
					t.Fatal(err)
				}
				if first := s.FirstOffset(); first > off || s.LastOffset() < off {
					t.Fatalf("Read(%d) returned [%d, %d]", off, first, s.LastOffset())
				}
				s.Release()
			}
		})
	}
}

func TestReadSemantics(t *testing.T) {
	// Five batches of 4 records: offsets 0-3, 4-7, 8-11, 12-15, 16-19.
	l := openTest(t, t.TempDir(), testConfig(), Options{})
	b := appendN(t, l, 5, 4, 30, 1000)
	size := int64(len(b[0].bytes))
	tests := []struct {
		name      string
		offset    int64
		maxBytes  int
		upTo      int64
		wantFirst int64 // -1: empty
		wantLast  int64
		wantErr   error
	}{
		{"from start, room for all", 0, 1 << 20, 20, 0, 19, nil},
		{"offset inside a batch", 6, 1 << 20, 20, 4, 19, nil},
		{"maxBytes below one batch still returns one", 0, 1, 20, 0, 3, nil},
		{"maxBytes exactly two batches", 0, int(2 * size), 20, 0, 7, nil},
		{"maxBytes just under two batches", 0, int(2*size - 1), 20, 0, 3, nil},
		{"upTo stops before batch base", 0, 1 << 20, 8, 0, 7, nil},
		{"upTo inside a batch includes it", 0, 1 << 20, 9, 0, 11, nil},
		{"offset at upTo is empty", 8, 1 << 20, 8, -1, -1, nil},
		{"offset at end is empty", 20, 1 << 20, 20, -1, -1, nil},
		{"upTo beyond end clamps", 16, 1 << 20, 100, 16, 19, nil},
		{"offset past end", 21, 1 << 20, 100, -1, -1, ErrOffsetOutOfRange},
		{"negative offset", -1, 1 << 20, 100, -1, -1, ErrOffsetOutOfRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := l.Read(tt.offset, tt.maxBytes, tt.upTo)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			defer s.Release()
			if s.FirstOffset() != tt.wantFirst || s.LastOffset() != tt.wantLast {
				t.Fatalf("got [%d, %d], want [%d, %d]", s.FirstOffset(), s.LastOffset(), tt.wantFirst, tt.wantLast)
			}
			if tt.wantFirst >= 0 {
				if want := (tt.wantLast - tt.wantFirst + 1) / 4 * size; s.Size() != want {
					t.Fatalf("Size = %d, want %d", s.Size(), want)
				}
			}
		})
	}
}

func TestReadStaysInOneSegmentAndMovesOn(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	l := openTest(t, t.TempDir(), cfg, Options{})
	want := appendN(t, l, 20, 2, 100, 0)
	if l.Segments() < 3 {
		t.Fatalf("want several segments, got %d", l.Segments())
	}
	s, err := l.Read(0, 1<<20, l.EndOffset())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	if s.Size() >= l.Size() || s.Size() > cfg.SegmentBytes {
		t.Fatalf("read %d bytes spanning segments", s.Size())
	}
	checkBatches(t, readBatches(t, l, 0, l.EndOffset()), want)
}

func TestOffsetForTime(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1500
	cfg.IndexIntervalBytes = 100
	l := openTest(t, t.TempDir(), cfg, Options{})
	// 30 batches of 3 records at ts 10000, 11000, ...: batch i covers
	// offsets 3i..3i+2 with max timestamp 10000+1000i+2.
	appendN(t, l, 30, 3, 50, 10000)
	tests := []struct {
		ts     int64
		want   int64
		wantOK bool
	}{
		{0, 0, true},
		{10000, 0, true},
		{10002, 0, true},
		{10003, 3, true},
		{15500, 18, true},
		{39002, 87, true},
		{39003, -1, false},
	}
	for _, tt := range tests {
		got, ok := l.OffsetForTime(tt.ts)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("OffsetForTime(%d) = %d, %v; want %d, %v", tt.ts, got, ok, tt.want, tt.wantOK)
		}
	}
	// After DeleteRecordsBefore the answer is not below the start.
	l.SetHighWatermark(l.EndOffset())
	if err := l.DeleteRecordsBefore(20); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.OffsetForTime(0); got != 20 {
		t.Errorf("OffsetForTime after delete = %d, want 20", got)
	}
}

func TestReopenAfterCleanClose(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	var logs logBuffer
	l, err := Open(dir, cfg, Options{Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	want := appendN(t, l, 40, 5, 30, 1000)
	l.SetHighWatermark(100)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(makeBatch(1, 1, 0), 0); !errors.Is(err, ErrLogClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if _, err := l.Read(0, 1, 1); !errors.Is(err, ErrLogClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
	l2 := openTest(t, dir, cfg, Options{Logger: logs.logger()})
	if l2.EndOffset() != 200 || l2.HighWatermark() != 100 || l2.StartOffset() != 0 {
		t.Fatalf("reopened end=%d hw=%d start=%d", l2.EndOffset(), l2.HighWatermark(), l2.StartOffset())
	}
	if s := logs.String(); strings.Contains(s, "rebuilding") || strings.Contains(s, "cut") {
		t.Fatalf("clean reopen recovered something:\n%s", s)
	}
	checkBatches(t, readBatches(t, l2, 0, l2.EndOffset()), want)
	more := mustAppend(t, l2, makeBatch(2, 10, 99), 0)
	if more.base != 200 {
		t.Fatalf("append after reopen at %d", more.base)
	}
}

func TestOpenEmptyDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	l := openTest(t, dir, testConfig(), Options{})
	if l.StartOffset() != 0 || l.EndOffset() != 0 || l.HighWatermark() != 0 || l.LatestEpoch() != -1 || l.Segments() != 1 {
		t.Fatalf("empty log: start=%d end=%d hw=%d epoch=%d segs=%d", l.StartOffset(), l.EndOffset(), l.HighWatermark(), l.LatestEpoch(), l.Segments())
	}
	s, err := l.Read(0, 100, 100)
	if err != nil || s.Size() != 0 {
		t.Fatalf("read empty: %v %d", err, s.Size())
	}
	if _, ok := l.OffsetForTime(0); ok {
		t.Fatal("OffsetForTime on empty log")
	}
	if _, err := os.Stat(filepath.Join(dir, segmentName(0, logSuffix))); err != nil {
		t.Fatal(err)
	}
}

func TestHighWatermark(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	l := openTest(t, dir, cfg, Options{})
	appendN(t, l, 10, 2, 10, 0) // end 20
	steps := []struct {
		set, want int64
	}{
		{5, 5},
		{3, 5},    // monotonic
		{100, 20}, // clamped to end
		{-4, 20},
	}
	for _, s := range steps {
		l.SetHighWatermark(s.set)
		if got := l.HighWatermark(); got != s.want {
			t.Fatalf("SetHighWatermark(%d): HighWatermark = %d, want %d", s.set, got, s.want)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Restored on reopen, then clamped to a shorter recovered log.
	l2 := openTest(t, dir, cfg, Options{})
	if l2.HighWatermark() != 20 {
		t.Fatalf("restored HW %d", l2.HighWatermark())
	}
	if err := l2.TruncateTo(12); err != nil {
		t.Fatal(err)
	}
	if l2.HighWatermark() != 12 {
		t.Fatalf("HW after truncate %d", l2.HighWatermark())
	}
}

func TestAppendRejectsMalformed(t *testing.T) {
	l := openTest(t, t.TempDir(), testConfig(), Options{})
	good := makeBatch(2, 10, 0)
	badMagic := append([]byte(nil), good...)
	badMagic[offMagic] = 1
	tests := []struct {
		name  string
		batch []byte
	}{
		{"short", good[:20]},
		{"magic", badMagic},
		{"length mismatch", append(append([]byte(nil), good...), 0)},
	}
	for _, tt := range tests {
		if _, err := l.Append(tt.batch, 0); !errors.Is(err, ErrInvalidBatch) {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
	if a := mustAppend(t, l, good, 0); a.base != 0 {
		t.Fatalf("log changed by rejected appends: base %d", a.base)
	}
}

func TestConfigAndSyncPolicy(t *testing.T) {
	for _, p := range []SyncPolicy{SyncAlways, SyncInterval, SyncOS} {
		got, err := ParseSyncPolicy(p.String())
		if err != nil || got != p {
			t.Errorf("ParseSyncPolicy(%q) = %v, %v", p.String(), got, err)
		}
	}
	if _, err := ParseSyncPolicy("sometimes"); err == nil {
		t.Error("ParseSyncPolicy accepted junk")
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := DefaultConfig()
	bad.IndexIntervalBytes = 0
	if _, err := Open(t.TempDir(), bad, Options{}); err == nil {
		t.Fatal("Open accepted invalid config")
	}
	l := openTest(t, t.TempDir(), testConfig(), Options{})
	c := l.Config()
	c.RetentionBytes = 123
	l.SetConfig(c)
	if l.Config().RetentionBytes != 123 {
		t.Fatal("SetConfig did not apply")
	}
}
