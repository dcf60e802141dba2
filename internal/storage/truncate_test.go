package storage

import (
	"testing"
)

func TestTruncateTo(t *testing.T) {
	// 20 batches of 3 records: batch i holds offsets 3i..3i+2.
	tests := []struct {
		name    string
		offset  int64
		wantEnd int64
	}{
		{"at a batch boundary", 30, 30},
		{"inside a batch drops it whole", 31, 30},
		{"last offset of a batch", 32, 30},
		{"to zero", 0, 0},
		{"at end is a no-op", 60, 60},
		{"beyond end is a no-op", 100, 60},
		{"inside the first batch", 1, 0},
		{"at a segment base", -1, -1}, // filled in from the layout
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig()
			cfg.SegmentBytes = 1200
			l := openTest(t, dir, cfg, Options{})
			var all []appended
			for i := 0; i < 20; i++ {
				all = append(all, mustAppend(t, l, makeBatch(3, 40, int64(i)*1000), int32(i/5))) // epochs 0,1,2,3 every 5 batches
			}
			l.SetHighWatermark(60)
			if tt.offset < 0 {
				tt.offset = l.segs[2].base
				tt.wantEnd = tt.offset
			}
			if err := l.TruncateTo(tt.offset); err != nil {
				t.Fatal(err)
			}
			check := func(l *Log) {
				t.Helper()
				if l.EndOffset() != tt.wantEnd || l.HighWatermark() != tt.wantEnd {
					t.Fatalf("end=%d hw=%d, want %d", l.EndOffset(), l.HighWatermark(), tt.wantEnd)
				}
				checkBatches(t, readBatches(t, l, 0, l.EndOffset()), all[:tt.wantEnd/3])
				wantEpoch := int32(-1)
				if tt.wantEnd > 0 {
					wantEpoch = int32((tt.wantEnd/3 - 1) / 5)
				}
				if l.LatestEpoch() != wantEpoch {
					t.Fatalf("LatestEpoch %d, want %d", l.LatestEpoch(), wantEpoch)
				}
				if got, ok := l.OffsetForTime(0); (tt.wantEnd > 0) != ok || (ok && got != 0) {
					t.Fatalf("OffsetForTime(0) = %d, %v", got, ok)
				}
			}
			check(l)
			// Appends continue at the new end with contiguous offsets.
			a := mustAppend(t, l, makeBatch(2, 10, 99_000), 7)
			if a.base != tt.wantEnd {
				t.Fatalf("append after truncate at %d, want %d", a.base, tt.wantEnd)
			}
			if e, end := l.EndOffsetForEpoch(7); e != 7 || end != tt.wantEnd+2 {
				t.Fatalf("EndOffsetForEpoch(7) = %d, %d", e, end)
			}
			if err := l.TruncateTo(tt.wantEnd); err != nil {
				t.Fatal(err)
			}
			check(l)
			// And it survives crash recovery and a clean reopen.
			crash(t, l)
			l2 := openTest(t, dir, cfg, Options{})
			l2.SetHighWatermark(100)
			check(l2)
			if err := l2.Close(); err != nil {
				t.Fatal(err)
			}
			l3 := openTest(t, dir, cfg, Options{})
			l3.SetHighWatermark(100)
			check(l3)
		})
	}
}

func TestTruncateBelowStartEmptiesLog(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	l := openTest(t, t.TempDir(), cfg, Options{})
	appendN(t, l, 20, 2, 60, 0)
	l.SetHighWatermark(40)
	if err := l.DeleteRecordsBefore(30); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateTo(25); err != nil {
		t.Fatal(err)
	}
	if l.StartOffset() != 25 || l.EndOffset() != 25 || l.Segments() != 1 || l.Size() != 0 {
		t.Fatalf("start=%d end=%d segs=%d size=%d", l.StartOffset(), l.EndOffset(), l.Segments(), l.Size())
	}
	if a := mustAppend(t, l, makeBatch(1, 1, 0), 0); a.base != 25 {
		t.Fatalf("append at %d", a.base)
	}
}
