package compact

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ternmq/tern/internal/storage"
	"github.com/ternmq/tern/internal/storage/vfs"
)

// stopAt is a vfs injector that lets the first n mutating file operations
// through and fails every later one, as if the process had died there:
// nothing after that point reaches the disk. Reads and closes still work
// so the test can let go of the log.
type stopAt struct {
	n, seen atomic.Int64
	hit     atomic.Bool
}

func (s *stopAt) inject(op vfs.Op, _ string) error {
	switch op {
	case vfs.OpRead, vfs.OpClose, vfs.OpReadDir:
		return nil
	}
	if s.seen.Add(1) > s.n.Load() {
		s.hit.Store(true)
		return errors.New("injected crash")
	}
	return nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestCrashMidCleanLosesNoKey stops the process before each file
// operation of a whole pass in turn — writing cleaned segments, the
// commit and swap renames, the directory fsyncs, the checkpoint — then
// opens the directory again: replaying the log must give exactly the
// state it gave before the pass (every key, its latest value or
// tombstone), each record unchanged at its offset; and the next pass must
// then finish.
func TestCrashMidCleanLosesNoKey(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 4096 // groups of two segments: several swaps per pass
	finished, ops := 0, int64(0)
	for n := int64(0); ; n++ {
		dir := t.TempDir()
		clock := newClock()
		l, err := storage.Open(dir, cfg, storage.Options{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		want := workload(t, l, 30, 8, 6, 5, clock.Now().UnixMilli())
		seal(t, l)
		original := map[int64]string{}
		for _, r := range readLog(t, l) {
			original[r.Offset] = string(r.Key) + "=" + string(r.Value)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}

		inj := &stopAt{}
		inj.n.Store(1 << 40)
		l, err = storage.Open(dir, cfg, storage.Options{Now: clock.Now, FS: vfs.Inject(vfs.Default(), inj.inject)})
		if err != nil {
			t.Fatal(err)
		}
		c := New(Config{Now: clock.Now})
		c.Register(Target{Name: "t-0", Log: l, Settings: func() Settings { return SettingsOf(l.Config(), -1) }})
		inj.seen.Store(0)
		inj.n.Store(n)
		_, cerr := c.CleanOnce(context.Background())
		_ = l.Close() // fails past the crash point: no clean-shutdown marker
		c.Close()

		logs := &syncBuffer{}
		l = openLog(t, dir, cfg, storage.Options{Now: clock.Now, Logger: slog.New(slog.NewTextHandler(logs, nil))})
		recs := readLog(t, l)
		sameState(t, latest(recs), want)
		for _, r := range recs {
			if got := string(r.Key) + "=" + string(r.Value); original[r.Offset] != got {
				t.Fatalf("stopped after %d operations: offset %d holds %q, was %q", n, r.Offset, got, original[r.Offset])
			}
		}
		if strings.Contains(logs.String(), "finished an interrupted segment swap") {
			finished++
		}
		c2 := newCleaner(t, l, clock, 0)
		cleanOnce(t, c2)
		recs = readLog(t, l)
		checkCompacted(t, recs)
		sameState(t, latest(recs), want)

		if !inj.hit.Load() {
			if cerr != nil {
				t.Fatalf("the pass failed without a crash: %v", cerr)
			}
			ops = n
			break
		}
	}
	t.Logf("a pass is %d file operations; stopped before each, Open finished %d interrupted swaps", ops, finished)
	if finished == 0 {
		t.Fatal("no crash came after a swap's commit point")
	}
}
