package queue

import (
	"fmt"
	"maps"
	"slices"
)

// checkInvariants verifies the invariants listed in doc.go.
func (q *Queue) checkInvariants() error {
	perConsumer := map[ConsumerID]int{}
	perChannel := map[ChannelID]int{}
	for i := range q.levels {
		l := &q.levels[i]
		if err := l.check(); err != nil {
			return fmt.Errorf("level %d: %w", i, err)
		}
		for _, e := range l.unacked {
			if e.consumer != 0 {
				perConsumer[e.consumer]++
				perChannel[e.channel]++
			}
		}
	}
	for _, c := range q.consumers {
		if c.unacked != perConsumer[c.ID] {
			return fmt.Errorf("consumer %d counts %d unacked, holds %d", c.ID, c.unacked, perConsumer[c.ID])
		}
		if !c.NoAck && c.Prefetch > 0 && c.unacked > c.Prefetch {
			return fmt.Errorf("consumer %d holds %d > prefetch %d", c.ID, c.unacked, c.Prefetch)
		}
		if q.byID[c.ID] != c {
			return fmt.Errorf("consumer %d not indexed", c.ID)
		}
	}
	if len(q.byID) != len(q.consumers) {
		return fmt.Errorf("%d consumers indexed, %d registered", len(q.byID), len(q.consumers))
	}
	for _, ch := range slices.Sorted(maps.Keys(q.channels)) {
		if cs := q.channels[ch]; cs.unacked != perChannel[ch] {
			return fmt.Errorf("channel %d counts %d unacked, holds %d", ch, cs.unacked, perChannel[ch])
		}
	}
	return nil
}

func (l *level) check() error {
	if !(0 <= l.lowWater && l.lowWater <= l.frontier && l.frontier <= l.end) {
		return fmt.Errorf("low-water %d frontier %d end %d out of order", l.lowWater, l.frontier, l.end)
	}
	prev := l.lowWater
	for _, iv := range l.acked.iv {
		// The first must start above the low-water mark (else it would
		// have been absorbed), the others above the previous end (sorted,
		// merged).
		if iv.Start <= prev {
			return fmt.Errorf("acked %v after %d (low-water %d): not sorted, merged and above low-water", iv, prev, l.lowWater)
		}
		if iv.End <= iv.Start || iv.End > l.end {
			return fmt.Errorf("acked %v empty or beyond end %d", iv, l.end)
		}
		prev = iv.End
	}
	if h := l.acked.count(l.frontier, l.end); h != l.holes {
		return fmt.Errorf("holes %d, acked above frontier %d", l.holes, h)
	}
	if _, ok := l.acked.contains(l.frontier); ok {
		return fmt.Errorf("frontier %d is settled", l.frontier)
	}
	var rb int64
	for i, r := range l.requeued {
		if i > 0 && l.requeued[i-1].offset <= r.offset {
			return fmt.Errorf("requeued not strictly descending at %d", r.offset)
		}
		if r.offset < l.lowWater || r.offset >= l.frontier {
			return fmt.Errorf("requeued %d outside [%d,%d)", r.offset, l.lowWater, l.frontier)
		}
		if _, ok := l.acked.contains(r.offset); ok {
			return fmt.Errorf("requeued %d is settled", r.offset)
		}
		if _, ok := l.unacked[r.offset]; ok {
			return fmt.Errorf("requeued %d is unacked", r.offset)
		}
		rb += int64(r.size)
	}
	var ub int64
	for off, e := range l.unacked {
		if off < l.lowWater || off >= l.frontier {
			return fmt.Errorf("unacked %d outside [%d,%d)", off, l.lowWater, l.frontier)
		}
		if _, ok := l.acked.contains(off); ok {
			return fmt.Errorf("unacked %d is settled", off)
		}
		ub += int64(e.size)
	}
	if rb != l.requeuedBytes || ub != l.unackedBytes {
		return fmt.Errorf("bytes: requeued %d/%d unacked %d/%d", l.requeuedBytes, rb, l.unackedBytes, ub)
	}
	below := l.acked.count(l.lowWater, l.frontier) + int64(len(l.unacked)) + int64(len(l.requeued))
	if below != l.frontier-l.lowWater {
		return fmt.Errorf("[%d,%d) holds %d settled+unacked+requeued, want %d", l.lowWater, l.frontier, below, l.frontier-l.lowWater)
	}
	if l.track {
		var fb int64
		for i, s := range l.sizes {
			if off := l.sizesFrom + int64(i); off >= l.frontier {
				fb += int64(s)
			}
		}
		if fb != l.frontierBytes {
			return fmt.Errorf("frontier bytes %d, sizes sum %d", l.frontierBytes, fb)
		}
	}
	return nil
}
