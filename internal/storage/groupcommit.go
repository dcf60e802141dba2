package storage

import (
	"sync"
	"time"
)

// Group commit: under SyncAlways every Append waits until an fdatasync that
// started after its write(2) has finished. One waiter at a time is the
// leader and runs the fsync with gc.mu released; appenders that write
// meanwhile wait, and the leader's next round (or a new leader) covers them
// all with one fsync. So N concurrent appenders cost about two fsyncs, not
// N.
//
// Appends are numbered by a sequence (written) bumped after each write(2),
// under writeMu. A leader snapshots written and the active segment together
// under gc.mu; every write numbered up to the snapshot is either in that
// segment or in an earlier one, and earlier segments were fsynced when they
// were sealed (roll), so one fsync of the snapshot segment makes all of
// them durable.

type groupCommit struct {
	mu      sync.Mutex
	cond    *sync.Cond // on mu; broadcast when a sync round ends
	active  *segment   // segment receiving appends; swapped by roll/truncate
	written uint64     // appends written
	synced  uint64     // appends known durable
	syncing bool       // a leader is in fsync
	err     error      // sticky: after a failed fsync nothing is durable again
	syncs   uint64     // fsyncs run by leaders (for tests and metrics)
}

// wrote records one more written append and returns its sequence number.
// Caller holds writeMu.
func (g *groupCommit) wrote() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.written++
	return g.written
}

// setActive switches the segment leaders fsync. Caller holds writeMu and
// has made every write to the previous active segment durable (sealed).
func (g *groupCommit) setActive(s *segment, sealed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.active = s
	if sealed {
		g.synced = g.written
		g.cond.Broadcast()
	}
}

// waitDurable returns once append seq is fsynced, running the fsync itself
// if no other goroutine is. Errors wrap ErrLogFailed.
func (l *Log) waitDurable(seq uint64) error {
	g := &l.gc
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.synced < seq {
		if g.err != nil {
			return g.err
		}
		// A failed roll or checkpoint also fails the log: never let a later
		// fsync of the same file acknowledge (it may succeed after the
		// kernel dropped the dirty pages of the failed one).
		if err := l.failed(); err != nil {
			return err
		}
		if g.syncing {
			g.cond.Wait()
			continue
		}
		g.syncing = true
		target, seg := g.written, g.active
		// The reference keeps the file open even if truncation or Close
		// drops the segment while we sync.
		seg.incRef()
		g.mu.Unlock()
		var began time.Time
		if l.onSync != nil { // no clock reads for a log nobody observes
			began = time.Now()
		}
		err := seg.log.Sync()
		if l.onSync != nil {
			l.onSync(time.Since(began))
		}
		seg.decRef()
		g.mu.Lock()
		g.syncing = false
		g.syncs++
		if err != nil {
			g.err = l.fail(err)
		} else if target > g.synced {
			g.synced = target
		}
		g.cond.Broadcast()
	}
	return nil
}

// syncWritten makes every append written so far durable.
func (l *Log) syncWritten() error {
	l.gc.mu.Lock()
	seq := l.gc.written
	l.gc.mu.Unlock()
	return l.waitDurable(seq)
}

// fsyncCount reports how many group-commit fsyncs ran.
func (l *Log) fsyncCount() uint64 {
	l.gc.mu.Lock()
	defer l.gc.mu.Unlock()
	return l.gc.syncs
}

// hwCheckpointInterval is how often the flusher persists a changed high
// watermark, as Kafka's replica.high.watermark.checkpoint.interval.ms.
const hwCheckpointInterval = 5 * time.Second

// flusher is the Log's one background goroutine: it fsyncs every
// SyncInterval under that policy and checkpoints a changed high watermark.
// Close stops it and waits for it.
func (l *Log) flusher() {
	defer close(l.flusherDone)
	// The checkpoint cadence uses the real clock: it is housekeeping, not
	// semantics, and an injected test clock may never move.
	lastHW := time.Now()
	for {
		cfg := l.cfg.Load()
		d := hwCheckpointInterval
		if cfg.Sync == SyncInterval {
			d = cfg.SyncInterval
			if d <= 0 {
				d = time.Second
			}
		}
		t := time.NewTimer(d)
		select {
		case <-l.flusherStop:
			t.Stop()
			return
		case <-l.flusherKick:
			t.Stop()
			continue
		case <-t.C:
		}
		if l.failed() != nil {
			continue
		}
		if cfg.Sync == SyncInterval {
			if err := l.syncWritten(); err != nil {
				l.logger.Error("storage: interval sync failed", "err", err)
				continue
			}
		}
		if time.Since(lastHW) >= hwCheckpointInterval {
			lastHW = time.Now()
			if l.hw.Load() != l.hwWritten.Load() {
				if err := l.writeHW(); err != nil {
					l.logger.Warn("storage: high watermark checkpoint failed", "err", err)
				}
			}
		}
	}
}
