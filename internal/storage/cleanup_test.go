package storage

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRetentionFollowsCleanupPolicy(t *testing.T) {
	tests := []struct {
		name    string
		policy  CleanupPolicy
		deletes bool
	}{
		{"delete", CleanupDelete, true},
		{"compact", CleanupCompact, false},
		{"compact,delete", CleanupCompact | CleanupDelete, true},
	}
	for _, tt := range tests {
		for _, by := range []string{"time", "size"} {
			t.Run(tt.name+"/"+by, func(t *testing.T) {
				clock := newFakeClock()
				cfg := testConfig()
				cfg.SegmentBytes = 1000
				cfg.Cleanup = tt.policy
				if by == "time" {
					cfg.RetentionAge = time.Hour
				} else {
					cfg.RetentionAge, cfg.RetentionBytes = -1, 1
				}
				l := openTest(t, t.TempDir(), cfg, Options{Now: clock.Now})
				appendN(t, l, 20, 2, 60, clock.Now().UnixMilli())
				clock.Advance(2 * time.Hour)
				n, err := l.EnforceRetention()
				if err != nil {
					t.Fatal(err)
				}
				if (n > 0) != tt.deletes {
					t.Fatalf("retention deleted %d segments; want deletion %v", n, tt.deletes)
				}
				// DeleteRecords moves the start whatever the policy.
				appendN(t, l, 2, 2, 60, clock.Now().UnixMilli())
				l.SetHighWatermark(l.EndOffset())
				target := l.EndOffset() - 1
				if err := l.DeleteRecordsBefore(target); err != nil || l.StartOffset() != target {
					t.Fatalf("DeleteRecordsBefore: start %d, err %v", l.StartOffset(), err)
				}
			})
		}
	}
}

func TestEmptySealedSegmentGoesWithRetention(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	cfg.RetentionAge, cfg.RetentionBytes = -1, -1
	l := openTest(t, t.TempDir(), cfg, Options{})
	fillSegments(t, l, 3)
	sealed, _ := l.SealedSegments()
	if _, err := cleanFirst(t, l, 1, func(int, appended) bool { return false }); err != nil {
		t.Fatal(err)
	}
	// The empty first segment does not stop a later DeleteRecords from
	// removing the segments after it.
	l.SetHighWatermark(l.EndOffset())
	if err := l.DeleteRecordsBefore(sealed[2].Base); err != nil {
		t.Fatal(err)
	}
	if after, _ := l.SealedSegments(); len(after) != len(sealed)-2 || after[0].Base != sealed[2].Base {
		t.Fatalf("sealed segments after DeleteRecords: %+v", after)
	}
}

func TestCleanerOffsetCheckpoint(t *testing.T) {
	cfg := testConfig()
	dir := t.TempDir()
	l := openTest(t, dir, cfg, Options{})
	if off, ok := l.CleanerOffset(); ok {
		t.Fatalf("fresh log has cleaner offset %d", off)
	}
	if err := l.SetCleanerOffset(42); err != nil {
		t.Fatal(err)
	}
	crash(t, l)
	l = openTest(t, dir, cfg, Options{})
	if off, ok := l.CleanerOffset(); !ok || off != 42 {
		t.Fatalf("cleaner offset after restart = %d %v, want 42", off, ok)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// A damaged checkpoint costs a full clean, never a failed Open.
	if err := os.WriteFile(filepath.Join(dir, cleanerOffsetFile), []byte{9, 9, 9}, 0o644); err != nil {
		t.Fatal(err)
	}
	l = openTest(t, dir, cfg, Options{})
	if off, ok := l.CleanerOffset(); ok {
		t.Fatalf("damaged checkpoint read as %d", off)
	}
	if err := l.SetCleanerOffset(-1); err == nil {
		t.Fatal("negative cleaner offset accepted")
	}
}

func TestScanHeadersAndSealedSegments(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	l := openTest(t, t.TempDir(), cfg, Options{})
	all := fillSegments(t, l, 3)
	sealed, active := l.SealedSegments()
	if len(sealed) != l.Segments()-1 || active != l.segs[len(l.segs)-1].base {
		t.Fatalf("sealed %d of %d segments, active base %d", len(sealed), l.Segments(), active)
	}
	for i, s := range sealed {
		if s.End <= s.Base || (i > 0 && s.Base != sealed[i-1].End) || s.Bytes == 0 || s.MaxTimestamp < 0 {
			t.Fatalf("segment %d: %+v", i, s)
		}
	}
	for _, from := range []int64{0, 1, all[5].base, all[len(all)-1].base + 1} {
		var got []int64
		if err := l.ScanHeaders(from, func(h BatchHeader) bool {
			got = append(got, h.BaseOffset)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, a := range all {
			if a.base+1 >= from { // batches of 2 records
				want = append(want, a.base)
			}
		}
		if len(got) != len(want) || (len(want) > 0 && (got[0] != want[0] || got[len(got)-1] != want[len(want)-1])) {
			t.Fatalf("ScanHeaders(%d): %v, want %v", from, got, want)
		}
	}
	n := 0
	_ = l.ScanHeaders(0, func(BatchHeader) bool { n++; return n < 3 })
	if n != 3 {
		t.Fatalf("ScanHeaders went on after false: %d calls", n)
	}
	if _, err := l.ReadSegment(SegmentInfo{Base: 0}); err == nil {
		t.Fatal("ReadSegment of an unknown segment succeeded")
	}
}
