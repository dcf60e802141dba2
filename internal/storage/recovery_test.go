package storage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// crash simulates a crash: the log is abandoned without Close (its files
// are closed so the test can edit them, but no checkpoint is written).
func crash(t testing.TB, l *Log) {
	t.Helper()
	l.writeMu.Lock()
	l.closed = true
	l.writeMu.Unlock()
	close(l.flusherStop)
	<-l.flusherDone
	l.mu.Lock()
	segs := l.segs
	l.segs = nil
	l.mu.Unlock()
	for _, s := range segs {
		s.decRef()
	}
}

func TestRecoverTornTail(t *testing.T) {
	tests := []struct {
		name string
		// damage edits the active segment file given the positions of its
		// batches; it returns how many of the appended batches survive.
		damage func(t *testing.T, path string, pos []int64, n int) int
	}{
		{"truncated mid-batch", func(t *testing.T, path string, pos []int64, n int) int {
			size := fileSize(t, path)
			if err := os.Truncate(path, size-7); err != nil {
				t.Fatal(err)
			}
			return n - 1
		}},
		{"truncated mid-header", func(t *testing.T, path string, pos []int64, n int) int {
			if err := os.Truncate(path, pos[len(pos)-1]+20); err != nil {
				t.Fatal(err)
			}
			return n - 1
		}},
		{"garbage appended", func(t *testing.T, path string, pos []int64, n int) int {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Write([]byte("garbage that is not a batch, long enough to hold a header............")); err != nil {
				t.Fatal(err)
			}
			return n
		}},
		{"zeros appended (preallocated tail)", func(t *testing.T, path string, pos []int64, n int) int {
			if err := os.Truncate(path, fileSize(t, path)+4096); err != nil {
				t.Fatal(err)
			}
			return n
		}},
		{"byte flipped in last batch", func(t *testing.T, path string, pos []int64, n int) int {
			flipByte(t, path, pos[len(pos)-1]+headerSize+3)
			return n - 1
		}},
		{"byte flipped in a middle batch", func(t *testing.T, path string, pos []int64, n int) int {
			k := len(pos) / 2
			flipByte(t, path, pos[k]+offCRC)
			return n - (len(pos) - k)
		}},
		{"length field corrupted", func(t *testing.T, path string, pos []int64, n int) int {
			flipByte(t, path, pos[len(pos)-2]+offLength)
			return n - 2
		}},
		{"offset going backwards", func(t *testing.T, path string, pos []int64, n int) int {
			// baseOffset is not covered by the CRC: only monotonicity
			// catches it.
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(make([]byte, 8), pos[len(pos)-1]); err != nil {
				t.Fatal(err)
			}
			return n - 1
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig()
			cfg.SegmentBytes = 3000
			l := openTest(t, dir, cfg, Options{})
			want := appendN(t, l, 25, 3, 40, 1000)
			if l.Segments() < 2 {
				t.Fatal("want several segments")
			}
			active := l.segs[len(l.segs)-1]
			var pos []int64
			for _, a := range want {
				if a.base >= active.base {
					pos = append(pos, int64(len(pos))*int64(len(a.bytes)))
				}
			}
			crash(t, l)
			keep := tt.damage(t, lastSegmentFile(t, dir), pos, len(want))

			var logs logBuffer
			l2 := openTest(t, dir, cfg, Options{Logger: logs.logger()})
			want = want[:keep]
			wantEnd := int64(keep * 3)
			if l2.EndOffset() != wantEnd {
				t.Fatalf("EndOffset = %d, want %d\n%s", l2.EndOffset(), wantEnd, logs.String())
			}
			checkBatches(t, readBatches(t, l2, 0, l2.EndOffset()), want)
			if !strings.Contains(logs.String(), "cut torn or corrupt tail") {
				t.Fatalf("no recovery log line:\n%s", logs.String())
			}
			// The log keeps working at the recovered end.
			if a := mustAppend(t, l2, makeBatch(1, 5, 0), 0); a.base != wantEnd {
				t.Fatalf("append after recovery at %d, want %d", a.base, wantEnd)
			}
			if err := l2.Close(); err != nil {
				t.Fatal(err)
			}
			l3 := openTest(t, dir, cfg, Options{})
			if l3.EndOffset() != wantEnd+1 {
				t.Fatalf("second reopen end %d", l3.EndOffset())
			}
		})
	}
}

func flipByte(t testing.TB, path string, at int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

func TestRecoverIndexes(t *testing.T) {
	tests := []struct {
		name   string
		clean  bool
		damage func(t *testing.T, dir string)
	}{
		{"missing indexes after clean close", true, func(t *testing.T, dir string) {
			for _, p := range append(segmentFiles(t, dir, indexSuffix), segmentFiles(t, dir, timeIndexSuffix)...) {
				os.Remove(p)
			}
		}},
		{"missing indexes after crash", false, func(t *testing.T, dir string) {
			for _, p := range segmentFiles(t, dir, indexSuffix) {
				os.Remove(p)
			}
		}},
		{"index garbage", true, func(t *testing.T, dir string) {
			for _, p := range segmentFiles(t, dir, indexSuffix) {
				os.WriteFile(p, []byte("0123456789abcdef-xyz"), 0o644)
			}
		}},
		{"index larger than the log", true, func(t *testing.T, dir string) {
			p := segmentFiles(t, dir, indexSuffix)[0]
			b, _ := os.ReadFile(p)
			b = append(b, 0, 0, 0xff, 0xff, 0, 0x0f, 0xff, 0xff)
			os.WriteFile(p, b, 0o644)
		}},
		{"time index out of order", true, func(t *testing.T, dir string) {
			p := segmentFiles(t, dir, timeIndexSuffix)[0]
			b, _ := os.ReadFile(p)
			os.WriteFile(p, append(b, make([]byte, timeEntrySize)...), 0o644)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig()
			cfg.SegmentBytes = 3000
			cfg.IndexIntervalBytes = 100
			l := openTest(t, dir, cfg, Options{})
			want := appendN(t, l, 30, 3, 40, 5000)
			if tt.clean {
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				crash(t, l)
			}
			tt.damage(t, dir)
			l2 := openTest(t, dir, cfg, Options{})
			checkBatches(t, readBatches(t, l2, 0, l2.EndOffset()), want)
			for off := int64(0); off < l2.EndOffset(); off += 7 {
				s, err := l2.Read(off, 1, l2.EndOffset())
				if err != nil || s.FirstOffset() > off || s.LastOffset() < off {
					t.Fatalf("Read(%d) = [%d, %d], %v", off, s.FirstOffset(), s.LastOffset(), err)
				}
				s.Release()
			}
			if got, ok := l2.OffsetForTime(5000 + 10*1000); !ok || got != 30 {
				t.Fatalf("OffsetForTime after rebuild = %d, %v", got, ok)
			}
			// The rebuilt index files are trusted by the next clean open.
			if err := l2.Close(); err != nil {
				t.Fatal(err)
			}
			for _, p := range segmentFiles(t, dir, indexSuffix) {
				if fileSize(t, p)%indexEntrySize != 0 {
					t.Fatalf("%s not rewritten", p)
				}
			}
		})
	}
}

func TestRecoverStrayFiles(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, testConfig(), Options{})
	appendN(t, l, 3, 1, 10, 0)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	strays := []string{
		"high-watermark.checkpoint.tmp",
		segmentName(500, logSuffix) + deletedSuffix,
		segmentName(900, indexSuffix),     // index without a log
		segmentName(900, timeIndexSuffix), // ditto
	}
	for _, s := range strays {
		if err := os.WriteFile(filepath.Join(dir, s), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l2 := openTest(t, dir, testConfig(), Options{})
	for _, s := range strays {
		if _, err := os.Stat(filepath.Join(dir, s)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not removed: %v", s, err)
		}
	}
	if l2.EndOffset() != 3 {
		t.Fatalf("end %d", l2.EndOffset())
	}
}

func TestCorruptSealedSegmentFailsOpen(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.SegmentBytes = 2000
	l := openTest(t, dir, cfg, Options{})
	appendN(t, l, 30, 3, 40, 0)
	crash(t, l)
	first := segmentFiles(t, dir, logSuffix)[0]
	flipByte(t, first, headerSize+5)
	// With its index gone the sealed segment is verified, and the damage
	// below the recovery point is reported rather than silently cut.
	os.Remove(strings.TrimSuffix(first, logSuffix) + indexSuffix)
	if _, err := Open(dir, cfg, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
}

func TestRecoverAfterCrashWithoutRecoveryPoint(t *testing.T) {
	// Every segment is scanned when the recovery point is lost.
	dir := t.TempDir()
	cfg := testConfig()
	cfg.SegmentBytes = 2000
	l := openTest(t, dir, cfg, Options{})
	want := appendN(t, l, 30, 2, 40, 0)
	crash(t, l)
	os.Remove(filepath.Join(dir, recoveryPointFile))
	l2 := openTest(t, dir, cfg, Options{})
	checkBatches(t, readBatches(t, l2, 0, l2.EndOffset()), want)
}
