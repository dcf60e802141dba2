package storage

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ternmq/tern/internal/storage/vfs"
)

// cleanFirst replaces the first n sealed segments of l with a Cleaned
// holding the batches keep accepts, and returns what the log should then
// read: the kept batches followed by every batch after those segments.
func cleanFirst(t *testing.T, l *Log, n int, keep func(i int, a appended) bool) ([]appended, error) {
	t.Helper()
	sealed, _ := l.SealedSegments()
	if len(sealed) < n {
		t.Fatalf("%d sealed segments, want at least %d", len(sealed), n)
	}
	group := sealed[:n]
	c, err := l.NewCleaned(group[0].Base)
	if err != nil {
		return nil, err
	}
	var want []appended
	i := 0
	for _, info := range group {
		s, err := l.ReadSegment(info)
		if err != nil {
			c.Abort()
			return nil, err
		}
		b, err := s.AppendTo(nil)
		s.Release()
		if err != nil {
			t.Fatal(err)
		}
		for len(b) > 0 {
			h, err := ParseBatchHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			a := appended{h.BaseOffset, b[:h.Size():h.Size()]}
			if keep(i, a) {
				if err := c.Append(a.bytes); err != nil {
					t.Fatal(err)
				}
				want = append(want, a)
			}
			i++
			b = b[h.Size():]
		}
	}
	end := sealed[n-1].End
	if err := l.ReplaceSegments(c, group); err != nil {
		return nil, err
	}
	for _, b := range readBatches(t, l, end, l.EndOffset()) {
		h, _ := ParseBatchHeader(b)
		want = append(want, appended{h.BaseOffset, b})
	}
	return want, nil
}

func everyOther(i int, _ appended) bool { return i%2 == 1 }

// fillSegments appends batches of 2 records until the log has at least
// segs sealed segments.
func fillSegments(t *testing.T, l *Log, segs int) []appended {
	t.Helper()
	var all []appended
	for i := 0; ; i++ {
		if sealed, _ := l.SealedSegments(); len(sealed) >= segs {
			return all
		}
		all = append(all, mustAppend(t, l, makeBatch(2, 60, int64(i)*1000), 0))
	}
}

func TestReplaceSegmentsKeepsOffsetsAndGaps(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	dir := t.TempDir()
	l := openTest(t, dir, cfg, Options{})
	all := fillSegments(t, l, 4)
	before := l.Segments()
	want, err := cleanFirst(t, l, 3, everyOther)
	if err != nil {
		t.Fatal(err)
	}
	if l.Segments() != before-2 {
		t.Fatalf("segments = %d, want %d (three replaced by one)", l.Segments(), before-2)
	}
	if l.StartOffset() != 0 || l.EndOffset() != all[len(all)-1].base+2 {
		t.Fatalf("start/end moved: %d %d", l.StartOffset(), l.EndOffset())
	}
	checkBatches(t, readBatches(t, l, 0, l.EndOffset()), want)

	// A read inside a removed batch answers the next kept one.
	s, err := l.Read(all[0].base, 1, l.EndOffset())
	if err != nil || s.FirstOffset() != all[1].base {
		t.Fatalf("read at removed offset %d: first %d, err %v; want %d", all[0].base, s.FirstOffset(), err, all[1].base)
	}
	s.Release()
	// The time index was rebuilt: the first batch at or after a
	// removed batch's timestamp is the next kept one.
	if off, ok := l.OffsetForTime(2000); !ok || off != all[3].base {
		t.Fatalf("OffsetForTime(2000) = %d %v, want %d", off, ok, all[3].base)
	}
	if m := append(segmentFiles(t, dir, cleanedSuffix), segmentFiles(t, dir, swapSuffix)...); len(m) != 0 {
		t.Fatalf("leftover files: %v", m)
	}

	// The cleaned segment survives a clean restart and a crash alike.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openTest(t, dir, cfg, Options{})
	checkBatches(t, readBatches(t, l, 0, l.EndOffset()), want)
	crash(t, l)
	l = openTest(t, dir, cfg, Options{})
	checkBatches(t, readBatches(t, l, 0, l.EndOffset()), want)
	// Appends go on after the gaps.
	a := mustAppend(t, l, makeBatch(1, 10, 99), 0)
	checkBatches(t, readBatches(t, l, 0, l.EndOffset()), append(want, a))
}

func TestReplaceSegmentsWithNothing(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	dir := t.TempDir()
	l := openTest(t, dir, cfg, Options{})
	fillSegments(t, l, 4)
	sealed, _ := l.SealedSegments()
	want, err := cleanFirst(t, l, 2, func(int, appended) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	got := readBatches(t, l, 0, l.EndOffset())
	checkBatches(t, got, want)
	if h, _ := ParseBatchHeader(got[0]); h.BaseOffset != sealed[2].Base {
		t.Fatalf("first batch at %d, want %d", h.BaseOffset, sealed[2].Base)
	}
	if l.StartOffset() != 0 {
		t.Fatalf("start = %d: cleaning must not move the log start", l.StartOffset())
	}
	crash(t, l)
	l = openTest(t, dir, cfg, Options{})
	checkBatches(t, readBatches(t, l, 0, l.EndOffset()), want)

	// Two empty segments in a row: a read at the first steps over both.
	sealed, _ = l.SealedSegments()
	c, err := l.NewCleaned(sealed[1].Base)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.ReplaceSegments(c, sealed[1:2]); err != nil {
		t.Fatal(err)
	}
	s, err := l.Read(0, 1, l.EndOffset())
	if err != nil || s.FirstOffset() != sealed[2].Base {
		t.Fatalf("read over two empty segments: first %d, err %v; want %d", s.FirstOffset(), err, sealed[2].Base)
	}
	s.Release()
}

func TestReplaceSegmentsRefusesChangedSegments(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, l *Log)
	}{
		{"retention deleted one", func(t *testing.T, l *Log) {
			cfg := l.Config()
			cfg.RetentionBytes = 0
			l.SetConfig(cfg)
			if n, err := l.EnforceRetention(); err != nil || n == 0 {
				t.Fatalf("retention: %d %v", n, err)
			}
		}},
		{"truncated into them", func(t *testing.T, l *Log) {
			sealed, _ := l.SealedSegments()
			if err := l.TruncateTo(sealed[1].Base + 1); err != nil {
				t.Fatal(err)
			}
		}},
		{"already replaced", func(t *testing.T, l *Log) {
			if _, err := cleanFirst(t, l, 1, everyOther); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.SegmentBytes = 1000
			dir := t.TempDir()
			l := openTest(t, dir, cfg, Options{})
			fillSegments(t, l, 4)
			l.SetHighWatermark(l.EndOffset())
			sealed, _ := l.SealedSegments()
			c, err := l.NewCleaned(sealed[0].Base)
			if err != nil {
				t.Fatal(err)
			}
			tt.change(t, l)
			before := readBatches(t, l, l.StartOffset(), l.EndOffset())
			if err := l.ReplaceSegments(c, sealed[:2]); !errors.Is(err, ErrSegmentsChanged) {
				t.Fatalf("ReplaceSegments = %v, want ErrSegmentsChanged", err)
			}
			checkBatches(t, readBatches(t, l, l.StartOffset(), l.EndOffset()), asAppended(before))
			if m := append(segmentFiles(t, dir, cleanedSuffix), segmentFiles(t, dir, swapSuffix)...); len(m) != 0 {
				t.Fatalf("leftover files: %v", m)
			}
			if _, err := l.Append(makeBatch(1, 1, 1), 0); err != nil {
				t.Fatalf("log unusable after a refused swap: %v", err)
			}
		})
	}
}

func asAppended(bs [][]byte) []appended {
	out := make([]appended, len(bs))
	for i, b := range bs {
		h, _ := ParseBatchHeader(b)
		out[i] = appended{h.BaseOffset, b}
	}
	return out
}

// TestReplaceSegmentsSequence pins the order of the swap's file
// operations: the cleaned files are durable before the commit rename,
// and each step's renames are durable before the next step starts.
func TestReplaceSegmentsSequence(t *testing.T) {
	rec := &opRecorder{}
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	l := openTest(t, t.TempDir(), cfg, Options{FS: vfs.Inject(vfs.Default(), rec.inject)})
	fillSegments(t, l, 3)
	sealed, _ := l.SealedSegments()
	c, err := l.NewCleaned(sealed[0].Base)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := l.ReadSegment(sealed[0])
	b, _ := s.AppendTo(nil)
	s.Release()
	h, _ := ParseBatchHeader(b)
	if err := c.Append(b[:h.Size()]); err != nil {
		t.Fatal(err)
	}
	rec.start()
	if err := l.ReplaceSegments(c, sealed[:2]); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, op := range rec.stop() {
		if !strings.HasPrefix(op, "close") {
			ops = append(ops, op)
		}
	}
	b0, b1 := segmentName(sealed[0].Base, ""), segmentName(sealed[1].Base, "")
	sw := swapName(sealed[0].Base, sealed[2].Base, "")
	want := []string{
		"write " + b0 + ".log.cleaned",
		// one batch: no offset index entry, one time entry (sealed)
		"write " + b0 + ".timeindex.cleaned",
		"sync " + b0 + ".log.cleaned",
		"sync " + b0 + ".index.cleaned",
		"sync " + b0 + ".timeindex.cleaned",
		"rename " + b0 + ".index.cleaned",
		"rename " + b0 + ".timeindex.cleaned",
		"rename " + b0 + ".log.cleaned", // the commit point
		"syncdir",
		"rename " + b0 + ".log", "rename " + b0 + ".index", "rename " + b0 + ".timeindex",
		"rename " + b1 + ".log", "rename " + b1 + ".index", "rename " + b1 + ".timeindex",
		"syncdir",
		"rename " + sw[:len(sw)-len(swapSuffix)] + ".log.swap",
		"rename " + sw[:len(sw)-len(swapSuffix)] + ".index.swap",
		"rename " + sw[:len(sw)-len(swapSuffix)] + ".timeindex.swap",
		"syncdir",
		// the replaced segments go once no reader holds them
		"remove " + b0 + ".log.deleted", "remove " + b0 + ".index.deleted", "remove " + b0 + ".timeindex.deleted",
		"remove " + b1 + ".log.deleted", "remove " + b1 + ".index.deleted", "remove " + b1 + ".timeindex.deleted",
	}
	if !slices.Equal(ops, want) {
		t.Fatalf("operations:\n  %s\nwant:\n  %s", strings.Join(ops, "\n  "), strings.Join(want, "\n  "))
	}
}

// crashAfter is an injector that lets the first n mutating operations
// through and fails every one after: the process "stopped" there. Reads
// and closes go on so the test can abandon the log.
type crashAfter struct {
	n, seen atomic.Int64
}

func (c *crashAfter) inject(op vfs.Op, path string) error {
	switch op {
	case vfs.OpRead, vfs.OpClose, vfs.OpReadDir:
		return nil
	}
	if c.seen.Add(1) > c.n.Load() {
		return errors.New("injected crash")
	}
	return nil
}

// TestSwapCrashAtEveryStep stops the process before each file operation
// of a clean-and-swap in turn, then opens the directory again: the log
// must read either exactly as before the clean or exactly as after it —
// never a mix, never a lost batch — and accept appends.
func TestSwapCrashAtEveryStep(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	undone, finished := 0, 0
	for n := int64(0); ; n++ {
		dir := t.TempDir()
		l := openTest(t, dir, cfg, Options{})
		fillSegments(t, l, 4)
		l.SetHighWatermark(l.EndOffset())
		before := asAppended(readBatches(t, l, 0, l.EndOffset()))
		sealed, _ := l.SealedSegments()
		var after []appended
		for i, a := range before {
			if a.base >= sealed[3].Base || i%2 == 1 {
				after = append(after, a)
			}
		}
		crash(t, l)

		inj := &crashAfter{}
		inj.n.Store(1 << 40) // no crash while opening
		l, err := Open(dir, cfg, Options{FS: vfs.Inject(vfs.Default(), inj.inject)})
		if err != nil {
			t.Fatal(err)
		}
		inj.seen.Store(0)
		inj.n.Store(n)
		_, cerr := cleanFirst(t, l, 3, everyOther)
		crash(t, l)

		l = openTest(t, dir, cfg, Options{})
		got := readBatches(t, l, 0, l.EndOffset())
		switch {
		case cerr == nil:
			checkBatches(t, got, after)
		case len(got) == len(after):
			checkBatches(t, got, after)
			finished++
		default:
			checkBatches(t, got, before)
			undone++
		}
		for _, pat := range []string{"*" + cleanedSuffix, "*" + swapSuffix, "*" + deletedSuffix} {
			if m, _ := filepath.Glob(filepath.Join(dir, pat)); len(m) != 0 {
				t.Fatalf("crash after %d ops: leftovers %v", n, m)
			}
		}
		if _, err := l.Append(makeBatch(1, 1, 1), 0); err != nil {
			t.Fatalf("crash after %d ops: append: %v", n, err)
		}
		if cerr == nil {
			t.Logf("the clean and swap take %d file operations; crashed before each: %d undone, %d finished by Open", n, undone, finished)
			if undone == 0 || finished == 0 {
				t.Fatal("want crashes both before and after the commit point")
			}
			return
		}
	}
}

func TestOpenFinishesOrDiscardsSwapLeftovers(t *testing.T) {
	tests := []struct {
		name string
		// leave edits a directory holding three sealed segments (bases
		// b[0..2]) and an active one, and says which batches survive:
		// all, or only those outside [b[0], b[2]).
		leave      func(t *testing.T, dir string, b []int64)
		keepsFirst bool
	}{
		{"cleaned files only", func(t *testing.T, dir string, b []int64) {
			for _, suf := range segmentSuffixes {
				writeFile(t, filepath.Join(dir, segmentName(b[0], suf)+cleanedSuffix), "partial")
			}
		}, true},
		{"index swaps without the log swap", func(t *testing.T, dir string, b []int64) {
			writeFile(t, filepath.Join(dir, swapName(b[0], b[2], indexSuffix)), "")
			writeFile(t, filepath.Join(dir, swapName(b[0], b[2], timeIndexSuffix)), "")
		}, true},
		{"committed swap, old segments intact", func(t *testing.T, dir string, b []int64) {
			for _, suf := range segmentSuffixes {
				writeFile(t, filepath.Join(dir, swapName(b[0], b[2], suf)), "")
			}
		}, false},
		{"committed swap, old segments half retired", func(t *testing.T, dir string, b []int64) {
			for _, suf := range segmentSuffixes {
				writeFile(t, filepath.Join(dir, swapName(b[0], b[2], suf)), "")
				p := filepath.Join(dir, segmentName(b[0], suf))
				if err := os.Rename(p, p+deletedSuffix); err != nil {
					t.Fatal(err)
				}
			}
		}, false},
		{"committed swap, log renamed in place, indexes not", func(t *testing.T, dir string, b []int64) {
			for _, base := range b[:2] {
				for _, suf := range segmentSuffixes {
					p := filepath.Join(dir, segmentName(base, suf))
					if err := os.Rename(p, p+deletedSuffix); err != nil {
						t.Fatal(err)
					}
				}
			}
			writeFile(t, filepath.Join(dir, segmentName(b[0], logSuffix)), "")
			writeFile(t, filepath.Join(dir, swapName(b[0], b[2], indexSuffix)), "junk")
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.SegmentBytes = 1000
			dir := t.TempDir()
			l := openTest(t, dir, cfg, Options{})
			all := fillSegments(t, l, 3)
			sealed, _ := l.SealedSegments()
			b := []int64{sealed[0].Base, sealed[1].Base, sealed[2].Base}
			crash(t, l)
			tt.leave(t, dir, b)
			l = openTest(t, dir, cfg, Options{})
			want := all
			if !tt.keepsFirst {
				// The "cleaned" segment the test wrote is empty.
				want = slices.DeleteFunc(slices.Clone(all), func(a appended) bool { return a.base < b[2] })
			}
			checkBatches(t, readBatches(t, l, 0, l.EndOffset()), want)
			for _, pat := range []string{"*" + cleanedSuffix, "*" + swapSuffix, "*" + deletedSuffix} {
				if m, _ := filepath.Glob(filepath.Join(dir, pat)); len(m) != 0 {
					t.Fatalf("leftovers %v", m)
				}
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSliceHeldAcrossSwap(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	dir := t.TempDir()
	l := openTest(t, dir, cfg, Options{})
	all := fillSegments(t, l, 3)
	s, err := l.Read(0, 1<<20, l.EndOffset())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cleanFirst(t, l, 2, everyOther); err != nil {
		t.Fatal(err)
	}
	b, err := s.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := ParseBatchHeader(b); string(b[:h.Size()]) != string(all[0].bytes) {
		t.Fatal("a slice of a replaced segment does not read its old bytes")
	}
	// Read stays in one segment: the other replaced one is gone already.
	if len(segmentFiles(t, dir, logSuffix+deletedSuffix)) != 1 {
		t.Fatal("a replaced segment held by a reader should await it as *.deleted")
	}
	s.Release()
	if m := segmentFiles(t, dir, deletedSuffix); len(m) != 0 {
		t.Fatalf("files left after release: %v", m)
	}
}

func TestParseSwapName(t *testing.T) {
	tests := []struct {
		name      string
		base, end int64
		suffix    string
		ok        bool
	}{
		{swapName(0, 42, logSuffix), 0, 42, logSuffix, true},
		{swapName(7, 9, timeIndexSuffix), 7, 9, timeIndexSuffix, true},
		{swapName(9, 7, logSuffix), 0, 0, "", false},
		{segmentName(3, logSuffix) + swapSuffix, 0, 0, "", false},
		{"00000000000000000001-00000000000000000002.log", 0, 0, "", false},
		{"0000000000000000000x-00000000000000000002.log.swap", 0, 0, "", false},
	}
	for _, tt := range tests {
		b, e, suf, ok := parseSwapName(tt.name)
		if b != tt.base || e != tt.end || suf != tt.suffix || ok != tt.ok {
			t.Errorf("parseSwapName(%q) = %d %d %q %v", tt.name, b, e, suf, ok)
		}
	}
}
