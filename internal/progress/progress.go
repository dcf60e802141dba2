package progress

import (
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"
)

const (
	// logEvery bounds how often a task logs its progress: often enough
	// that an operator watching the log sees movement, rarely enough that
	// a recovery of ten thousand partitions does not flood it.
	logEvery = 2 * time.Second
	// maxFinished and keepFinished bound the finished tasks kept for
	// List: enough to answer "what happened at startup?" without the
	// registry growing with every purge of a long-lived node.
	maxFinished  = 50
	keepFinished = time.Hour
)

// Task states, as Info.State reports them.
const (
	StateRunning = "running"
	StateDone    = "done"
	StateFailed  = "failed"
)

// Registry holds a node's running tasks and its recently finished ones.
// The zero value is not usable: call NewRegistry. A nil *Registry is valid
// and does nothing.
type Registry struct {
	logger *slog.Logger
	// now is the clock; tests replace it to step time without sleeping.
	now func() time.Time

	mu       sync.Mutex
	nextID   uint64
	running  map[uint64]*Task
	finished []Info // oldest first; at most maxFinished
}

// NewRegistry returns an empty registry that logs to logger (nil
// discards).
func NewRegistry(logger *slog.Logger) *Registry {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Registry{logger: logger, now: time.Now, running: map[uint64]*Task{}}
}

// Info is a snapshot of one task.
type Info struct {
	ID uint64
	// Kind is the operation ("open_logs", "delete_topic", "purge_queue"),
	// Target what it works on (a directory, a topic, "vhost/queue"), Unit
	// what Done and Total count ("partitions", "bytes", "messages").
	Kind, Target, Unit string
	// Done is the work done so far; Total the work expected, 0 while
	// unknown. Done may pass Total when the estimate was low.
	Done, Total int64
	// State is "running", "done" or "failed"; Error is the failure.
	State string
	Error string
	// FinishedAt is zero while the task runs.
	StartedAt, FinishedAt time.Time
}

// Start registers a task and logs that it started. total may be 0 when
// not yet known (see SetTotal). On a nil Registry it returns a nil Task,
// which is valid.
func (r *Registry) Start(kind, target, unit string, total int64) *Task {
	if r == nil {
		return nil
	}
	now := r.now()
	r.mu.Lock()
	r.nextID++
	t := &Task{r: r, id: r.nextID, kind: kind, target: target, unit: unit, started: now, total: total, lastLog: now}
	r.running[t.id] = t
	r.mu.Unlock()
	r.logger.Info("started", "id", t.id, "kind", kind, "target", target, "total", total, "unit", unit)
	return t
}

// List returns the running tasks and the recently finished ones (the last
// 50, none finished more than an hour ago), newest first. It is never nil
// on a non-nil Registry, so an empty list encodes as [] in JSON.
func (r *Registry) List() []Info {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pruneLocked(r.now())
	out := make([]Info, 0, len(r.running)+len(r.finished))
	for _, t := range r.running {
		out = append(out, t.info())
	}
	out = append(out, r.finished...)
	// IDs grow with Start, so this is newest first.
	slices.SortFunc(out, func(a, b Info) int {
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
	return out
}

// pruneLocked drops finished tasks past the age or count bound. Caller
// holds r.mu.
func (r *Registry) pruneLocked(now time.Time) {
	i := 0
	for i < len(r.finished) && now.Sub(r.finished[i].FinishedAt) > keepFinished {
		i++
	}
	i = max(i, len(r.finished)-maxFinished)
	if i > 0 {
		// Copy down rather than reslice, so the backing array does not
		// creep forward and keep growing.
		r.finished = slices.Delete(r.finished, 0, i)
	}
}

// Task is one long operation in progress. A nil *Task is valid and does
// nothing, so callers need not check whether progress is reported.
type Task struct {
	r                  *Registry
	id                 uint64
	kind, target, unit string
	started            time.Time

	mu          sync.Mutex
	done, total int64
	// lastLog and lastDone are when the last line was logged and Done
	// then, for the rate over the interval since.
	lastLog  time.Time
	lastDone int64
	// final is set by Finish; the task is then read-only.
	final *Info
}

// Add records n more units of work done. It logs the progress at Info at
// most every two seconds: done, total, percent (when the total is known)
// and the rate in units per second since the last line. Add after Finish
// is ignored.
func (t *Task) Add(n int64) {
	if t == nil {
		return
	}
	now := t.r.now()
	t.mu.Lock()
	if t.final != nil {
		t.mu.Unlock()
		return
	}
	t.done += n
	since := now.Sub(t.lastLog)
	if since < logEvery {
		t.mu.Unlock()
		return
	}
	done, total, rate := t.done, t.total, float64(t.done-t.lastDone)/since.Seconds()
	t.lastLog, t.lastDone = now, done
	t.mu.Unlock()

	attrs := []any{"id", t.id, "kind", t.kind, "target", t.target, "done", done, "total", total, "unit", t.unit}
	if total > 0 {
		attrs = append(attrs, "percent", round1(min(100*float64(done)/float64(total), 100)))
	}
	attrs = append(attrs, "rate", round1(rate))
	t.r.logger.Info("progress", attrs...)
}

// SetTotal sets the expected total, for work whose size is learnt after
// it started (recovery learns how many partitions exist from the catalog
// it replays first).
func (t *Task) SetTotal(n int64) {
	if t == nil {
		return
	}
	t.mu.Lock()
	if t.final == nil {
		t.total = n
	}
	t.mu.Unlock()
}

// Finish ends the task: done, or failed with err. It logs "finished" with
// the time taken, at Warn with the error on failure. Only the first call
// counts.
func (t *Task) Finish(err error) {
	if t == nil {
		return
	}
	now := t.r.now()
	t.mu.Lock()
	if t.final != nil {
		t.mu.Unlock()
		return
	}
	info := t.infoLocked()
	info.FinishedAt = now
	info.State = StateDone
	if err != nil {
		info.State, info.Error = StateFailed, err.Error()
	}
	t.final = &info
	t.mu.Unlock()

	r := t.r
	r.mu.Lock()
	delete(r.running, t.id)
	r.finished = append(r.finished, info)
	r.pruneLocked(now)
	r.mu.Unlock()

	took := now.Sub(t.started).Round(time.Millisecond)
	attrs := []any{"id", t.id, "kind", t.kind, "target", t.target, "done", info.Done, "total", info.Total, "unit", t.unit, "took", took}
	if err != nil {
		r.logger.Warn("finished", append(attrs, "err", err)...)
		return
	}
	r.logger.Info("finished", attrs...)
}

func (t *Task) info() Info {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.infoLocked()
}

// infoLocked snapshots the task. Caller holds t.mu.
func (t *Task) infoLocked() Info {
	if t.final != nil {
		return *t.final
	}
	return Info{ID: t.id, Kind: t.kind, Target: t.target, Unit: t.unit,
		Done: t.done, Total: t.total, State: StateRunning, StartedAt: t.started}
}

// round1 rounds to one decimal, so log lines read "percent=42.5", not
// "percent=42.49999".
func round1(v float64) float64 { return math.Round(v*10) / 10 }
