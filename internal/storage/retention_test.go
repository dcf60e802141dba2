package storage

import (
	"errors"
	"testing"
	"time"
)

func TestRetentionBySize(t *testing.T) {
	tests := []struct {
		name           string
		retentionBytes int64
		wantDeleted    int
	}{
		{"unlimited", -1, 0},
		{"larger than log", 1 << 30, 0},
		{"keeps at least the limit", 2500, -1}, // computed below
		{"zero keeps only the active segment", 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.SegmentBytes = 1000
			cfg.RetentionAge = -1
			cfg.RetentionBytes = tt.retentionBytes
			l := openTest(t, t.TempDir(), cfg, Options{})
			all := appendN(t, l, 40, 2, 60, 0)
			segsBefore, sizeBefore := l.Segments(), l.Size()
			var sizes []int64
			for _, s := range l.segs {
				sizes = append(sizes, s.size)
			}
			want := tt.wantDeleted
			if want < 0 {
				want = 0
				total := sizeBefore
				for _, sz := range sizes[:len(sizes)-1] {
					if total-sz < tt.retentionBytes {
						break
					}
					total -= sz
					want++
				}
			}
			n, err := l.EnforceRetention()
			if err != nil || n != want {
				t.Fatalf("EnforceRetention = %d, %v; want %d", n, err, want)
			}
			if l.Segments() != segsBefore-want {
				t.Fatalf("segments %d, want %d", l.Segments(), segsBefore-want)
			}
			if tt.retentionBytes >= 0 && l.Size() < min(tt.retentionBytes, sizeBefore) && l.Segments() > 1 {
				t.Fatalf("deleted below the limit: %d < %d", l.Size(), tt.retentionBytes)
			}
			start := l.segs[0].base
			if l.StartOffset() != start {
				t.Fatalf("StartOffset %d, first segment %d", l.StartOffset(), start)
			}
			if _, err := l.Read(start-1, 1, l.EndOffset()); start > 0 && !errors.Is(err, ErrOffsetOutOfRange) {
				t.Fatalf("read below start: %v", err)
			}
			var kept []appended
			for _, a := range all {
				if a.base >= start {
					kept = append(kept, a)
				}
			}
			checkBatches(t, readBatches(t, l, start, l.EndOffset()), kept)
		})
	}
}

func TestRetentionByTime(t *testing.T) {
	clock := newFakeClock()
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	cfg.RetentionAge = time.Hour
	dir := t.TempDir()
	l := openTest(t, dir, cfg, Options{Now: clock.Now})
	nowMS := clock.Now().UnixMilli()
	// Old batches (2 hours ago), then recent ones.
	appendN(t, l, 21, 2, 60, nowMS-2*time.Hour.Milliseconds())
	appendN(t, l, 20, 2, 60, nowMS)
	// Expired: the leading segments whose newest batch is old. The segment
	// where old and new batches meet holds a recent timestamp and stays.
	want := 0
	for _, s := range l.segs {
		if s.maxTS >= nowMS-time.Hour.Milliseconds() {
			break
		}
		want++
	}
	if want == 0 || want == l.Segments() {
		t.Fatalf("bad layout: %d expired of %d", want, l.Segments())
	}
	if n, err := l.EnforceRetention(); err != nil || n != want {
		t.Fatalf("EnforceRetention = %d, %v; want %d", n, err, want)
	}
	if got, _ := l.OffsetForTime(0); got != l.StartOffset() {
		t.Fatalf("OffsetForTime(0) = %d, start %d", got, l.StartOffset())
	}
	// Two hours later everything is expired, the active segment included:
	// it is rolled and deleted, leaving an empty active segment.
	clock.Advance(2 * time.Hour)
	end := l.EndOffset()
	if _, err := l.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if l.Segments() != 1 || l.Size() != 0 || l.StartOffset() != end || l.EndOffset() != end {
		t.Fatalf("after full expiry: segs=%d size=%d start=%d end=%d", l.Segments(), l.Size(), l.StartOffset(), l.EndOffset())
	}
	// Nothing to do on an empty log.
	if n, err := l.EnforceRetention(); err != nil || n != 0 {
		t.Fatalf("EnforceRetention on empty = %d, %v", n, err)
	}
	// The start survives a restart.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openTest(t, dir, cfg, Options{Now: clock.Now})
	if l2.StartOffset() != end || l2.EndOffset() != end {
		t.Fatalf("reopen start=%d end=%d want %d", l2.StartOffset(), l2.EndOffset(), end)
	}
}

func TestSegmentAgeRoll(t *testing.T) {
	clock := newFakeClock()
	cfg := testConfig()
	cfg.SegmentBytes = 1 << 20
	cfg.SegmentAge = time.Minute
	l := openTest(t, t.TempDir(), cfg, Options{Now: clock.Now})
	appendN(t, l, 3, 1, 10, 0)
	clock.Advance(30 * time.Second)
	appendN(t, l, 1, 1, 10, 0)
	if l.Segments() != 1 {
		t.Fatalf("rolled too early: %d segments", l.Segments())
	}
	clock.Advance(31 * time.Second)
	appendN(t, l, 1, 1, 10, 0)
	if l.Segments() != 2 {
		t.Fatalf("want a roll after SegmentAge, have %d segments", l.Segments())
	}
}

func TestDeleteRecordsBefore(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	l := openTest(t, dir, cfg, Options{})
	all := appendN(t, l, 30, 2, 60, 0) // offsets 0..59
	segs := l.Segments()
	if err := l.DeleteRecordsBefore(10); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("delete above HW: %v", err)
	}
	l.SetHighWatermark(l.EndOffset())
	target := l.segs[2].base + 1 // inside the third segment
	if err := l.DeleteRecordsBefore(target); err != nil {
		t.Fatal(err)
	}
	if l.StartOffset() != target || l.Segments() != segs-2 {
		t.Fatalf("start=%d segs=%d (had %d)", l.StartOffset(), l.Segments(), segs)
	}
	if _, err := l.Read(target-1, 1, l.EndOffset()); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}
	// Reading at the start returns the batch containing it.
	s, err := l.Read(target, 1, l.EndOffset())
	if err != nil || s.FirstOffset() != target-1 {
		t.Fatalf("read at start: first=%d err=%v", s.FirstOffset(), err)
	}
	s.Release()
	if err := l.DeleteRecordsBefore(3); err != nil || l.StartOffset() != target {
		t.Fatalf("lower delete moved start: %d %v", l.StartOffset(), err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openTest(t, dir, cfg, Options{})
	if l2.StartOffset() != target {
		t.Fatalf("start after reopen = %d, want %d", l2.StartOffset(), target)
	}
	var kept []appended
	for _, a := range all {
		if a.base+1 >= target {
			kept = append(kept, a)
		}
	}
	checkBatches(t, readBatches(t, l2, target, l2.EndOffset()), kept)
}

func TestSliceHeldAcrossRetention(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	cfg.RetentionAge = -1
	cfg.RetentionBytes = 0
	dir := t.TempDir()
	l := openTest(t, dir, cfg, Options{})
	all := appendN(t, l, 20, 2, 60, 0)
	s, err := l.Read(0, 1<<20, l.EndOffset())
	if err != nil {
		t.Fatal(err)
	}
	if n, err := l.EnforceRetention(); err != nil || n == 0 {
		t.Fatalf("EnforceRetention = %d, %v", n, err)
	}
	if len(segmentFiles(t, dir, logSuffix+deletedSuffix)) != 1 {
		t.Fatal("held segment should await its reader as *.deleted")
	}
	b, err := s.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := ParseBatchHeader(b); h.BaseOffset != 0 || VerifyCRC(b[:h.Size()]) != nil || string(b[:h.Size()]) != string(all[0].bytes) {
		t.Fatal("held slice does not read the deleted segment's bytes")
	}
	s.Release()
	if m := segmentFiles(t, dir, deletedSuffix); len(m) != 0 {
		t.Fatalf("files left after release: %v", m)
	}
}
