package storage

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/storage/vfs"
)

// opRecorder is a vfs.Injector that records operations and can fail syncs.
type opRecorder struct {
	mu        sync.Mutex
	ops       []string
	record    bool
	logSyncs  atomic.Int64
	failSyncs atomic.Bool
}

func (r *opRecorder) inject(op vfs.Op, path string) error {
	if op == vfs.OpSync && isLogFile(path) {
		r.logSyncs.Add(1)
		if r.failSyncs.Load() {
			return errors.New("injected EIO")
		}
	}
	r.mu.Lock()
	switch {
	case !r.record || op == vfs.OpRead:
	case op == vfs.OpSyncDir:
		r.ops = append(r.ops, "syncdir") // the temp dir name varies
	default:
		r.ops = append(r.ops, fmt.Sprintf("%s %s", op, filepath.Base(path)))
	}
	r.mu.Unlock()
	return nil
}

func (r *opRecorder) start() {
	r.mu.Lock()
	r.record, r.ops = true, nil
	r.mu.Unlock()
}

func (r *opRecorder) stop() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.record = false
	return r.ops
}

func TestSyncAlwaysFsyncsBeforeAck(t *testing.T) {
	tests := []struct {
		name   string
		policy SyncPolicy
		epoch  int32 // of the first append
		bump   int32 // added to epoch for the recorded append
		want   []string
	}{
		{"always", SyncAlways, 0, 0, []string{"write 00000000000000000000.log", "sync 00000000000000000000.log"}},
		{"interval", SyncInterval, 0, 0, []string{"write 00000000000000000000.log"}},
		{"os", SyncOS, 0, 0, []string{"write 00000000000000000000.log"}},
		{"no epoch", SyncAlways, -1, 0, []string{"write 00000000000000000000.log", "sync 00000000000000000000.log"}},
		{"new leader epoch", SyncAlways, 3, 1, []string{
			"write 00000000000000000000.log",
			"open leader-epoch.checkpoint.tmp",
			"write leader-epoch.checkpoint.tmp",
			"sync leader-epoch.checkpoint.tmp",
			"close leader-epoch.checkpoint.tmp",
			"rename leader-epoch.checkpoint.tmp",
			"syncdir",
			"sync 00000000000000000000.log",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &opRecorder{}
			cfg := testConfig()
			cfg.Sync = tt.policy
			cfg.SyncInterval = time.Hour
			l := openTest(t, t.TempDir(), cfg, Options{FS: vfs.Inject(vfs.Default(), rec.inject)})
			mustAppend(t, l, makeBatch(3, 10, 0), tt.epoch)
			rec.start()
			mustAppend(t, l, makeBatch(3, 10, 0), tt.epoch+tt.bump)
			if got := rec.stop(); !slices.Equal(got, tt.want) {
				t.Fatalf("operations of one Append:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestRollSequence(t *testing.T) {
	// A roll seals the old segment (indexes written, all fsynced), creates
	// the new one, makes the directory entry durable, then moves the
	// recovery point; only then is the batch written into the new segment.
	rec := &opRecorder{}
	cfg := testConfig()
	cfg.SegmentBytes = 200
	dir := t.TempDir()
	l := openTest(t, dir, cfg, Options{FS: vfs.Inject(vfs.Default(), rec.inject)})
	mustAppend(t, l, makeBatch(2, 40, 0), 0)
	rec.start()
	mustAppend(t, l, makeBatch(2, 40, 0), 0)
	got := strings.Join(rec.stop(), "\n")
	want := strings.Join([]string{
		"write 00000000000000000000.timeindex",
		"sync 00000000000000000000.log",
		"sync 00000000000000000000.index",
		"sync 00000000000000000000.timeindex",
		"open 00000000000000000002.log",
		"open 00000000000000000002.index",
		"open 00000000000000000002.timeindex",
		"syncdir",
		"open recovery-point.checkpoint.tmp",
		"write recovery-point.checkpoint.tmp",
		"sync recovery-point.checkpoint.tmp",
		"close recovery-point.checkpoint.tmp",
		"rename recovery-point.checkpoint.tmp",
		"syncdir",
		"write 00000000000000000002.log",
	}, "\n")
	if got != want {
		t.Fatalf("roll operations:\n%s\nwant:\n%s", got, want)
	}
}

func TestConcurrentAppendersShareFsyncs(t *testing.T) {
	rec := &opRecorder{}
	cfg := testConfig()
	cfg.Sync = SyncAlways
	cfg.SegmentBytes = 64 << 10
	dir := t.TempDir()
	var observed atomic.Int64 // Options.OnSync: one call per group commit
	onSync := func(d time.Duration) {
		if d < 0 {
			t.Errorf("OnSync(%v): negative", d)
		}
		observed.Add(1)
	}
	l := openTest(t, dir, cfg, Options{FS: vfs.Inject(vfs.Default(), rec.inject), OnSync: onSync})
	const writers, each = 8, 40
	type result struct{ base, n int64 }
	results := make(chan result, writers*each)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				n := 1 + (w+i)%4
				base, err := l.Append(makeBatch(n, 30, int64(i)), 0)
				if err != nil {
					t.Error(err)
					return
				}
				results <- result{base, int64(n)}
			}
		}()
	}
	wg.Wait()
	close(results)
	var all []result
	for r := range results {
		all = append(all, r)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].base < all[j].base })
	next := int64(0)
	for _, r := range all {
		if r.base != next {
			t.Fatalf("offsets not contiguous: batch at %d, expected %d", r.base, next)
		}
		next += r.n
	}
	if next != l.EndOffset() || len(all) != writers*each {
		t.Fatalf("end %d, covered %d, batches %d", l.EndOffset(), next, len(all))
	}
	syncs := rec.logSyncs.Load()
	t.Logf("%d appends, %d log fsyncs (%d group commits)", len(all), syncs, l.fsyncCount())
	if syncs >= int64(len(all)) {
		t.Fatalf("no group commit: %d fsyncs for %d appends", syncs, len(all))
	}
	if got, want := observed.Load(), l.fsyncCount(); got != int64(want) || got == 0 {
		t.Fatalf("OnSync called %d times, want one per group commit (%d)", got, want)
	}
	readBatches(t, l, 0, l.EndOffset())
}

func TestFailedFsyncFailsLog(t *testing.T) {
	rec := &opRecorder{}
	cfg := testConfig()
	cfg.Sync = SyncAlways
	dir := t.TempDir()
	var logs logBuffer
	l := openTest(t, dir, cfg, Options{FS: vfs.Inject(vfs.Default(), rec.inject), Logger: logs.logger()})
	ok := mustAppend(t, l, makeBatch(2, 10, 0), 0)
	rec.failSyncs.Store(true)
	if _, err := l.Append(makeBatch(2, 10, 0), 0); !errors.Is(err, ErrLogFailed) {
		t.Fatalf("Append with failing fsync: %v", err)
	}
	// Even once fsync works again, the log refuses: after a failed fsync
	// the page cache may hold data the disk lost.
	rec.failSyncs.Store(false)
	for i := 0; i < 3; i++ {
		if _, err := l.Append(makeBatch(1, 10, 0), 0); !errors.Is(err, ErrLogFailed) {
			t.Fatalf("Append after failure: %v", err)
		}
	}
	if err := l.Sync(); !errors.Is(err, ErrLogFailed) {
		t.Fatalf("Sync after failure: %v", err)
	}
	if !strings.Contains(logs.String(), "log failed") {
		t.Fatal("failure not logged")
	}
	// Reads of what was acknowledged still work.
	checkBatches(t, readBatches(t, l, 0, 2), []appended{ok})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening recovers; the unacknowledged batch may or may not be there
	// (it was written), the acknowledged one is.
	l2 := openTest(t, dir, cfg, Options{})
	if l2.EndOffset() < 2 {
		t.Fatalf("acknowledged batch lost: end %d", l2.EndOffset())
	}
	mustAppend(t, l2, makeBatch(1, 1, 0), 0)
}

func TestFailedWriteFailsLog(t *testing.T) {
	var fail atomic.Bool
	inj := func(op vfs.Op, path string) error {
		if op == vfs.OpWrite && isLogFile(path) && fail.Load() {
			return errors.New("injected ENOSPC")
		}
		return nil
	}
	l := openTest(t, t.TempDir(), testConfig(), Options{FS: vfs.Inject(vfs.Default(), inj)})
	mustAppend(t, l, makeBatch(1, 1, 0), 0)
	fail.Store(true)
	if _, err := l.Append(makeBatch(1, 1, 0), 0); !errors.Is(err, ErrLogFailed) {
		t.Fatalf("Append: %v", err)
	}
	fail.Store(false)
	if _, err := l.Append(makeBatch(1, 1, 0), 0); !errors.Is(err, ErrLogFailed) {
		t.Fatalf("Append after failure: %v", err)
	}
	if l.EndOffset() != 1 {
		t.Fatalf("end moved to %d", l.EndOffset())
	}
}

func TestSyncIntervalFlusher(t *testing.T) {
	checkNoLeak(t)
	rec := &opRecorder{}
	cfg := testConfig()
	cfg.Sync = SyncInterval
	cfg.SyncInterval = 5 * time.Millisecond
	l, err := Open(t.TempDir(), cfg, Options{FS: vfs.Inject(vfs.Default(), rec.inject)})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, makeBatch(1, 1, 0), 0)
	deadline := time.Now().Add(5 * time.Second)
	for rec.logSyncs.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("flusher never synced")
		}
		time.Sleep(time.Millisecond)
	}
	// Switching policy at runtime reaches the flusher.
	cfg.Sync = SyncOS
	l.SetConfig(cfg)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCloseWaitsAndStopsGoroutines(t *testing.T) {
	checkNoLeak(t)
	cfg := testConfig()
	cfg.Sync = SyncAlways
	l, err := Open(t.TempDir(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, err := l.Append(makeBatch(1, 10, 0), 0); err != nil {
					if !errors.Is(err, ErrLogClosed) {
						t.Error(err)
					}
					return
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := l.Close(); !errors.Is(err, ErrLogClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

// TestConcurrentReadAppendRetention runs appenders, readers, retention and
// high-watermark updates at once; under -race it checks the locking, and
// every batch a reader gets must be whole and valid.
func TestConcurrentReadAppendRetention(t *testing.T) {
	checkNoLeak(t)
	cfg := testConfig()
	cfg.Sync = SyncAlways
	cfg.SegmentBytes = 2000
	cfg.RetentionAge = -1
	cfg.RetentionBytes = 8000
	l, err := Open(t.TempDir(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	run := func(f func() bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if !f() {
					return
				}
			}
		}()
	}
	for w := 0; w < 3; w++ {
		run(func() bool {
			_, err := l.Append(makeBatch(3, 50, time.Now().UnixMilli()), 1)
			if err != nil {
				t.Error(err)
			}
			l.SetHighWatermark(l.EndOffset())
			return err == nil
		})
	}
	for r := 0; r < 3; r++ {
		off := int64(0)
		run(func() bool {
			s, err := l.Read(off, 700, l.HighWatermark())
			if errors.Is(err, ErrOffsetOutOfRange) {
				off = l.StartOffset()
				return true
			}
			if err != nil {
				t.Error(err)
				return false
			}
			b, err := s.AppendTo(nil)
			s.Release()
			if err != nil {
				t.Error(err)
				return false
			}
			for len(b) > 0 {
				h, err := ParseBatchHeader(b)
				if err == nil {
					err = VerifyCRC(b[:h.Size()])
				}
				if err != nil || h.BaseOffset > off && off >= l.StartOffset() && h.BaseOffset != off {
					t.Errorf("read at %d: batch %d: %v", off, h.BaseOffset, err)
					return false
				}
				off = h.LastOffset() + 1
				b = b[h.Size():]
			}
			return true
		})
	}
	run(func() bool {
		if _, err := l.EnforceRetention(); err != nil {
			t.Error(err)
			return false
		}
		l.OffsetForTime(0)
		time.Sleep(time.Millisecond)
		return true
	})
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestAppendAsyncWritesInOrderAndWaitsLater writes several batches
// without waiting, checks offsets follow write order, then makes them
// durable with one shared fsync.
func TestAppendAsyncWritesInOrderAndWaitsLater(t *testing.T) {
	cfg := testConfig()
	cfg.Sync = SyncAlways
	l := openTest(t, t.TempDir(), cfg, Options{})
	var pend []Pending
	next := int64(0)
	for i := 0; i < 5; i++ {
		p, err := l.AppendAsync(makeBatch(3, 10, 1), 0)
		if err != nil {
			t.Fatal(err)
		}
		if p.BaseOffset != next || p.EndOffset != next+3 {
			t.Fatalf("batch %d at [%d,%d), want [%d,%d)", i, p.BaseOffset, p.EndOffset, next, next+3)
		}
		next = p.EndOffset
		pend = append(pend, p)
	}
	before := l.fsyncCount()
	for _, p := range pend {
		if err := p.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if n := l.fsyncCount() - before; n != 1 {
		t.Fatalf("%d fsyncs for 5 pending appends, want 1", n)
	}
	late, err := l.AppendAsync(makeBatch(1, 10, 1), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := late.Wait(); err != nil {
		t.Fatalf("Wait after Close: %v (Close makes everything written durable)", err)
	}
}
