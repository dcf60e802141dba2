package group

import (
	"container/heap"
	"time"
)

// timerEntry asks for group to be ticked at at.
type timerEntry struct {
	at    time.Time
	group string
}

// timerHeap is a min-heap of deadlines. Entries go stale when a group's
// deadline moves; a stale entry is skipped when it pops (see fire).
type timerHeap []timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// arm makes sure the timer loop wakes by group's next deadline; c.mu is
// held. A group keeps at most one live entry: a later deadline than the
// armed one waits for the armed one to fire (a no-op tick that re-arms),
// an earlier one replaces it.
func (c *Coordinator) arm(group string) {
	if group == "" {
		return
	}
	at := c.m.nextDeadline(group)
	if at.IsZero() {
		return
	}
	if cur, ok := c.armed[group]; ok && !at.Before(cur) {
		return
	}
	c.armed[group] = at
	heap.Push(&c.timers, timerEntry{at: at, group: group})
	if c.timers[0].group == group && c.timers[0].at.Equal(at) {
		select {
		case c.wakeTimer <- struct{}{}:
		default:
		}
	}
}

// fire ticks every group whose armed deadline has passed.
func (c *Coordinator) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	now := c.cfg.Now()
	for len(c.timers) > 0 && !c.timers[0].at.After(now) {
		e := heap.Pop(&c.timers).(timerEntry)
		if cur, ok := c.armed[e.group]; !ok || !cur.Equal(e.at) {
			continue // stale
		}
		delete(c.armed, e.group)
		c.handle(c.m.tick(e.group, now))
	}
}

// timerLoop sleeps until the earliest armed deadline and fires it.
func (c *Coordinator) timerLoop() {
	defer c.wg.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		c.mu.Lock()
		var next time.Time
		if len(c.timers) > 0 {
			next = c.timers[0].at
		}
		c.mu.Unlock()
		var fired <-chan time.Time
		if !next.IsZero() {
			t.Reset(max(next.Sub(c.cfg.Now()), 0))
			fired = t.C
		}
		select {
		case <-c.stop:
			return
		case <-c.wakeTimer:
		case <-fired:
			c.fire()
		}
		t.Stop()
	}
}
