package compact

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/storage"
)

// Config configures a Cleaner. Zero values take the defaults.
type Config struct {
	// DedupeBufferBytes is the memory of the offset map
	// (log.cleaner.dedupe.buffer.size): at 24 bytes a key and a 0.9 load
	// factor, 32 MiB (the default) maps about 1.25 million keys per pass.
	DedupeBufferBytes int64
	// Backoff is the pause of Run when no log needed cleaning
	// (log.cleaner.backoff.ms). Default 15s.
	Backoff time.Duration
	// MaxDecompressedBytes bounds the memory one batch may decompress to.
	// Default 64 MiB, as produce validation.
	MaxDecompressedBytes int
	// Logger receives a line per cleaned log and every error. nil
	// discards.
	Logger *slog.Logger
	// Now is the clock of the lags and delete horizons. nil = time.Now.
	Now func() time.Time
}

// Defaults of Config.
const (
	DefaultDedupeBufferBytes = 32 << 20
	DefaultBackoff           = 15 * time.Second
)

// Target is one log the cleaner may compact.
type Target struct {
	// Name identifies the log in logs and metrics: "topic-partition", or
	// an internal log's directory name.
	Name string
	Log  *storage.Log
	// Settings returns the log's current settings; it is called at the
	// start of every pass.
	Settings func() Settings
}

// Cleaner compacts logs: for each key it keeps the latest record, removes
// tombstones delete.retention.ms after it first kept them, and rewrites
// segments through storage's crash-safe swap. One pass cleans the logs
// that need it one after the other (filthiest first), so its memory is
// one offset map and one batch at a time, whatever the number of logs.
//
// Logs come from Register (fixed logs: the consumer offsets log, later the
// transaction log) and RegisterSource (sets that change: the broker's
// compacted partitions, listed at each pass).
//
// Concurrency: every method is safe for concurrent use; passes are
// serialized (CleanOnce waits for a pass of Run and the other way round).
type Cleaner struct {
	cfg    Config
	logger *slog.Logger

	regMu   sync.Mutex
	nextID  int
	fixed   map[int]Target
	sources map[int]func() []Target

	mu    sync.Mutex // one pass at a time; guards what follows
	state map[*storage.Log]*logState
	omap  *offsetMap // allocated by the first pass that needs it
	z     message.Compressor

	passes, errs             atomic.Int64
	bytesRead, bytesWritten  atomic.Int64
	recordsRemoved, segments atomic.Int64
	statsMu                  sync.Mutex
	logStats                 []LogStats // as of the last pass
}

// logState is what the cleaner keeps of a log between passes.
type logState struct {
	name        string
	uncleanable bool  // an error stopped cleaning it until restart
	horizon     int64 // earliest delete horizon of the clean section; -1 none
	horizonSeen bool  // horizon was computed (after a pass, or a scan at start)
	dirtyRatio  float64
}

// New makes a cleaner. It starts nothing: call Run in a goroutine for
// background cleaning, or CleanOnce.
func New(cfg Config) *Cleaner {
	if cfg.DedupeBufferBytes <= 0 {
		cfg.DedupeBufferBytes = DefaultDedupeBufferBytes
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Cleaner{
		cfg: cfg, logger: cfg.Logger,
		fixed: map[int]Target{}, sources: map[int]func() []Target{},
		state: map[*storage.Log]*logState{},
	}
}

// Register adds a log the cleaner considers at every pass until the
// returned function is called.
func (c *Cleaner) Register(t Target) (unregister func()) {
	c.regMu.Lock()
	defer c.regMu.Unlock()
	id := c.nextID
	c.nextID++
	c.fixed[id] = t
	return func() {
		c.regMu.Lock()
		defer c.regMu.Unlock()
		delete(c.fixed, id)
	}
}

// RegisterSource adds a function listing logs to consider; it is called
// at the start of every pass until the returned function is called.
func (c *Cleaner) RegisterSource(src func() []Target) (unregister func()) {
	c.regMu.Lock()
	defer c.regMu.Unlock()
	id := c.nextID
	c.nextID++
	c.sources[id] = src
	return func() {
		c.regMu.Lock()
		defer c.regMu.Unlock()
		delete(c.sources, id)
	}
}

func (c *Cleaner) targets() []Target {
	c.regMu.Lock()
	var out []Target
	srcs := make([]func() []Target, 0, len(c.sources))
	for _, t := range c.fixed {
		out = append(out, t)
	}
	for _, s := range c.sources {
		srcs = append(srcs, s)
	}
	c.regMu.Unlock()
	// Sources take their owners' locks: call them without ours.
	for _, s := range srcs {
		out = append(out, s()...)
	}
	return out
}

// Run cleans until ctx ends: a pass, then another at once if it cleaned
// something (more may be due), else after the backoff.
func (c *Cleaner) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, _ := c.CleanOnce(ctx)
		if n > 0 {
			t.Reset(0)
		} else {
			t.Reset(c.cfg.Backoff)
		}
	}
}

// CleanOnce runs one pass: every registered log whose settings say
// compact and whose dirty ratio, max.compaction.lag.ms or tombstones make
// it due is cleaned, filthiest first. It returns how many logs it
// cleaned, and the errors of logs it had to mark uncleanable (they are
// also logged); a log that vanished or changed under the pass is not an
// error. It returns early with ctx's error when ctx ends.
func (c *Cleaner) CleanOnce(ctx context.Context) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	type due struct {
		t     Target
		s     Settings
		st    *logState
		p     plan
		ratio float64
	}
	var todo []due
	seen := map[*storage.Log]bool{}
	for _, t := range c.targets() {
		if t.Log == nil || seen[t.Log] {
			continue
		}
		s := t.Settings()
		if !s.Compact {
			continue
		}
		seen[t.Log] = true
		st := c.state[t.Log]
		if st == nil {
			st = &logState{name: t.Name, horizon: -1}
			c.state[t.Log] = st
		}
		if st.uncleanable {
			continue
		}
		p, err := c.planLog(t.Log, s, st, now)
		if err != nil {
			c.failed(t, st, err)
			continue
		}
		st.dirtyRatio = p.dirtyRatio()
		if p.cleanable(s) {
			todo = append(todo, due{t, s, st, p, st.dirtyRatio})
		}
	}
	for l := range c.state {
		if !seen[l] {
			delete(c.state, l) // deleted topics, or no longer compacted
		}
	}
	sort.SliceStable(todo, func(i, j int) bool { return todo[i].ratio > todo[j].ratio })

	cleaned := 0
	var errs []error
	for _, d := range todo {
		if err := ctx.Err(); err != nil {
			c.publishStats()
			return cleaned, err
		}
		err := c.cleanLog(ctx, d.t, d.s, d.st, d.p, now)
		switch {
		case err == nil:
			cleaned++
			c.passes.Add(1)
		case ctx.Err() != nil:
			c.publishStats()
			return cleaned, ctx.Err()
		case errors.Is(err, storage.ErrSegmentsChanged), d.t.Log.Closed():
			// Retention, truncation or a topic delete got there first:
			// the next pass starts over.
			c.logger.Debug("log cleaner: log changed during the pass; will retry", "log", d.t.Name, "err", err)
		default:
			c.failed(d.t, d.st, err)
			errs = append(errs, fmt.Errorf("%s: %w", d.t.Name, err))
		}
	}
	c.publishStats()
	return cleaned, errors.Join(errs...)
}

// planLog computes a log's plan; at the first pass after start it also
// finds the delete horizons of the clean section from batch headers.
func (c *Cleaner) planLog(l *storage.Log, s Settings, st *logState, now time.Time) (plan, error) {
	sealed, activeBase := l.SealedSegments()
	ck, ok := l.CleanerOffset()
	if !ok {
		ck = -1
	}
	v := logView{sealed: sealed, activeBase: activeBase, start: l.StartOffset(), end: l.EndOffset(), checkpoint: ck, horizon: -1}
	if !st.horizonSeen && ck > v.start {
		h, err := scanHorizons(l, v.start, ck)
		if err != nil {
			return plan{}, err
		}
		st.horizon, st.horizonSeen = h, true
	}
	v.horizon = st.horizon
	v.firstBatchTime = func(seg storage.SegmentInfo) int64 {
		sl, err := l.ReadSegment(seg)
		if err != nil {
			return -1
		}
		defer sl.Release()
		if seg.Bytes == 0 {
			return -1
		}
		h, err := sl.Header()
		if err != nil {
			return -1
		}
		return h.MaxTimestamp
	}
	return makePlan(v, s, now), nil
}

// scanHorizons returns the earliest delete horizon of the batches wholly
// in [from, to), -1 if none has one.
func scanHorizons(l *storage.Log, from, to int64) (int64, error) {
	earliest := int64(-1)
	err := l.ScanHeaders(from, func(h storage.BatchHeader) bool {
		if h.LastOffset() >= to {
			return false
		}
		if hz, ok := (message.Batch{Attributes: h.Attributes, BaseTimestamp: h.BaseTimestamp}).DeleteHorizon(); ok && (earliest < 0 || hz < earliest) {
			earliest = hz
		}
		return true
	})
	return earliest, err
}

// failed marks a log uncleanable until restart, as Kafka does: its data is
// served as it is, never rewritten again by this process.
func (c *Cleaner) failed(t Target, st *logState, err error) {
	st.uncleanable = true
	c.errs.Add(1)
	c.logger.Error("log cleaner: marking log uncleanable until restart", "log", t.Name, "err", err)
}

// cleanLog runs the pass over one log; a panic (a bug) is an error of
// this log, never the broker's end.
func (c *Cleaner) cleanLog(ctx context.Context, t Target, s Settings, st *logState, p plan, now time.Time) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	began := time.Now()
	res, err := c.clean(ctx, t.Log, s, p, now)
	if err != nil {
		return err
	}
	st.horizon, st.horizonSeen = res.horizon, true
	c.bytesRead.Add(res.bytesRead)
	c.bytesWritten.Add(res.bytesWritten)
	c.recordsRemoved.Add(res.recordsRemoved)
	c.segments.Add(int64(res.segments))
	c.logger.Info("log cleaner: cleaned log", "log", t.Name, "segments", res.segments,
		"bytesBefore", res.bytesRead, "bytesAfter", res.bytesWritten, "recordsRemoved", res.recordsRemoved,
		"cleanedTo", res.cleanEnd, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// Stats are the cleaner's counters since it was made, and each log's
// figures as of the last pass.
type Stats struct {
	// Passes counts logs cleaned (one per log and pass).
	Passes int64
	// Errors counts logs marked uncleanable.
	Errors int64
	// BytesRead and BytesWritten are segment bytes read and written by
	// cleaning; their difference is what cleaning reclaimed.
	BytesRead, BytesWritten int64
	// RecordsRemoved counts records cleaning dropped.
	RecordsRemoved int64
	// Segments counts sealed segments rewritten.
	Segments int64
	Logs     []LogStats
}

// LogStats is one compacted log's figures.
type LogStats struct {
	Name string
	// DirtyRatio is the share of its sealed bytes not cleaned yet.
	DirtyRatio float64
	// Uncleanable: an error stopped its cleaning until restart.
	Uncleanable bool
}

// Stats returns the counters and the last pass's per-log figures.
func (c *Cleaner) Stats() Stats {
	c.statsMu.Lock()
	logs := slices.Clone(c.logStats)
	c.statsMu.Unlock()
	return Stats{
		Passes: c.passes.Load(), Errors: c.errs.Load(),
		BytesRead: c.bytesRead.Load(), BytesWritten: c.bytesWritten.Load(),
		RecordsRemoved: c.recordsRemoved.Load(), Segments: c.segments.Load(),
		Logs: logs,
	}
}

// publishStats snapshots the per-log figures. Caller holds mu.
func (c *Cleaner) publishStats() {
	logs := make([]LogStats, 0, len(c.state))
	for _, st := range c.state {
		logs = append(logs, LogStats{Name: st.name, DirtyRatio: st.dirtyRatio, Uncleanable: st.uncleanable})
	}
	sort.Slice(logs, func(i, j int) bool { return logs[i].Name < logs[j].Name })
	c.statsMu.Lock()
	c.logStats = logs
	c.statsMu.Unlock()
}

// Close releases the cleaner's encoders and offset map. Call it after Run
// returned; the Cleaner must not be used afterwards.
func (c *Cleaner) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.z.Close()
	c.omap = nil
}
