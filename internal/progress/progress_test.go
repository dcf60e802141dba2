package progress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The package starts no goroutines; goleak fails the run if it ever does
// (several tests leave tasks unfinished on purpose).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeClock is stepped by tests instead of sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// lines is a slog handler that keeps each record as one line,
// "LEVEL msg k=v …", leaving out the attributes every line of a task
// repeats (id, kind, target, unit), which are checked separately.
type lines struct {
	mu  sync.Mutex
	out []string
	all []slog.Record
}

func (h *lines) Enabled(context.Context, slog.Level) bool { return true }
func (h *lines) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *lines) WithGroup(string) slog.Handler            { return h }
func (h *lines) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "id", "kind", "target", "unit":
		default:
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		}
		return true
	})
	h.mu.Lock()
	h.out = append(h.out, b.String())
	h.all = append(h.all, r.Clone())
	h.mu.Unlock()
	return nil
}

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func newTestRegistry() (*Registry, *fakeClock, *lines) {
	c := &fakeClock{t: t0}
	h := &lines{}
	r := NewRegistry(slog.New(h))
	r.now = c.now
	return r, c, h
}

// Steps of a task scenario.
type step func(*fakeClock, *Task)

func adv(d time.Duration) step { return func(c *fakeClock, _ *Task) { c.advance(d) } }
func add(n int64) step         { return func(_ *fakeClock, t *Task) { t.Add(n) } }
func total(n int64) step       { return func(_ *fakeClock, t *Task) { t.SetTotal(n) } }
func finish(err error) step    { return func(_ *fakeClock, t *Task) { t.Finish(err) } }

func TestTask(t *testing.T) {
	for _, c := range []struct {
		name  string
		total int64
		steps []step
		logs  []string
		want  Info // compared without ID, Kind, Target, Unit, StartedAt
	}{
		{
			name:  "progress is logged at most every two seconds, with the rate since the last line",
			total: 100,
			steps: []step{
				adv(time.Second), add(10), // too soon
				adv(time.Second), add(10),
				adv(1900 * time.Millisecond), add(50), // too soon
				adv(100 * time.Millisecond), add(10),
				adv(500 * time.Millisecond), finish(nil),
			},
			logs: []string{
				"INFO started total=100",
				"INFO progress done=20 total=100 percent=20 rate=10",
				"INFO progress done=80 total=100 percent=80 rate=30",
				"INFO finished done=80 total=100 took=4.5s",
			},
			want: Info{Done: 80, Total: 100, State: StateDone, FinishedAt: t0.Add(4500 * time.Millisecond)},
		},
		{
			name: "an unknown total logs no percent until SetTotal",
			steps: []step{
				adv(3 * time.Second), add(5),
				total(10),
				adv(2 * time.Second), add(5),
				finish(nil),
			},
			logs: []string{
				"INFO started total=0",
				"INFO progress done=5 total=0 rate=1.7",
				"INFO progress done=10 total=10 percent=100 rate=2.5",
				"INFO finished done=10 total=10 took=5s",
			},
			want: Info{Done: 10, Total: 10, State: StateDone, FinishedAt: t0.Add(5 * time.Second)},
		},
		{
			name:  "a low estimate caps the percentage, not the count",
			total: 10,
			steps: []step{adv(2 * time.Second), add(15)},
			logs: []string{
				"INFO started total=10",
				"INFO progress done=15 total=10 percent=100 rate=7.5",
			},
			want: Info{Done: 15, Total: 10, State: StateRunning},
		},
		{
			name:  "a failure is logged at warn with the error",
			total: 7,
			steps: []step{adv(time.Second), add(3), finish(errors.New("disk full"))},
			logs: []string{
				"INFO started total=7",
				"WARN finished done=3 total=7 took=1s err=disk full",
			},
			want: Info{Done: 3, Total: 7, State: StateFailed, Error: "disk full", FinishedAt: t0.Add(time.Second)},
		},
		{
			name:  "only the first Finish counts; Add and SetTotal after it are ignored",
			total: 4,
			steps: []step{
				add(4), finish(nil),
				adv(3 * time.Second), add(100), total(1000), finish(errors.New("late")),
			},
			logs: []string{
				"INFO started total=4",
				"INFO finished done=4 total=4 took=0s",
			},
			want: Info{Done: 4, Total: 4, State: StateDone, FinishedAt: t0},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, clock, h := newTestRegistry()
			task := r.Start("delete_topic", "orders", "bytes", c.total)
			for _, s := range c.steps {
				s(clock, task)
			}
			if !slices.Equal(h.out, c.logs) {
				t.Errorf("logs:\n  %s\nwant:\n  %s", strings.Join(h.out, "\n  "), strings.Join(c.logs, "\n  "))
			}
			for _, rec := range h.all {
				got := map[string]string{}
				rec.Attrs(func(a slog.Attr) bool { got[a.Key] = a.Value.String(); return true })
				if got["id"] != "1" || got["kind"] != "delete_topic" || got["target"] != "orders" || got["unit"] != "bytes" {
					t.Errorf("%q: id/kind/target/unit = %v", rec.Message, got)
				}
			}
			list := r.List()
			if len(list) != 1 {
				t.Fatalf("List = %+v, want one task", list)
			}
			got := list[0]
			if got.ID != 1 || got.Kind != "delete_topic" || got.Target != "orders" || got.Unit != "bytes" || !got.StartedAt.Equal(t0) {
				t.Errorf("identity = %+v", got)
			}
			got.ID, got.Kind, got.Target, got.Unit, got.StartedAt = 0, "", "", "", time.Time{}
			if got != c.want {
				t.Errorf("Info = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestListRetention(t *testing.T) {
	for _, c := range []struct {
		name string
		run  func(r *Registry, clock *fakeClock)
		ids  []uint64 // List's IDs, newest first
	}{
		{
			name: "running and finished tasks, newest first",
			run: func(r *Registry, _ *fakeClock) {
				a := r.Start("open_logs", "data", "partitions", 3)
				r.Start("purge_queue", "/q", "messages", 1)
				r.Start("delete_topic", "t", "bytes", 9).Finish(nil)
				a.Finish(nil)
			},
			ids: []uint64{3, 2, 1},
		},
		{
			name: "the last 50 finished are kept",
			run: func(r *Registry, clock *fakeClock) {
				for range 60 {
					r.Start("purge_queue", "/q", "messages", 1).Finish(nil)
					clock.advance(time.Second)
				}
			},
			ids: ids(60, 11),
		},
		{
			name: "finished tasks are dropped after an hour, running ones never",
			run: func(r *Registry, clock *fakeClock) {
				r.Start("open_logs", "data", "partitions", 3) // 1: still running
				r.Start("purge_queue", "/a", "messages", 1).Finish(nil)
				clock.advance(time.Minute)
				r.Start("purge_queue", "/b", "messages", 1).Finish(nil)
				clock.advance(time.Hour) // 2 finished 61 min ago, 3 exactly an hour ago
			},
			ids: []uint64{3, 1},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, clock, _ := newTestRegistry()
			c.run(r, clock)
			var got []uint64
			for _, i := range r.List() {
				got = append(got, i.ID)
			}
			if !slices.Equal(got, c.ids) {
				t.Errorf("List IDs = %v, want %v", got, c.ids)
			}
		})
	}
}

// ids returns from, from-1, …, to.
func ids(from, to uint64) []uint64 {
	var out []uint64
	for i := from; i >= to; i-- {
		out = append(out, i)
	}
	return out
}

func TestNilIsANoOp(t *testing.T) {
	var r *Registry
	task := r.Start("open_logs", "data", "partitions", 1)
	if task != nil {
		t.Fatalf("nil registry started %v", task)
	}
	task.Add(1)
	task.SetTotal(2)
	task.Finish(errors.New("x"))
	if l := r.List(); l != nil {
		t.Errorf("nil registry List = %v", l)
	}
	if l := NewRegistry(nil).List(); l == nil || len(l) != 0 {
		t.Errorf("empty registry List = %#v, want an empty non-nil slice", l)
	}
}

// TestConcurrentUse is for the race detector: adds from many goroutines
// while another lists, then the count must be exact.
func TestConcurrentUse(t *testing.T) {
	r, clock, _ := newTestRegistry()
	task := r.Start("open_logs", "data", "partitions", 8*1000)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				r.List()
				clock.advance(time.Second) // so some Adds log
			}
		}
	}()
	var adders sync.WaitGroup
	for range 8 {
		adders.Add(1)
		go func() {
			defer adders.Done()
			for range 1000 {
				task.Add(1)
			}
		}()
	}
	adders.Wait()
	task.Finish(nil)
	close(stop)
	wg.Wait()
	if l := r.List(); len(l) != 1 || l[0].Done != 8000 || l[0].State != StateDone {
		t.Errorf("List = %+v, want one done task with 8000", l)
	}
}
