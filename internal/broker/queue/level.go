package queue

import "sort"

// ready is a requeued message: ready again below the frontier.
type ready struct {
	offset int64
	size   uint32
	count  uint32 // deliveries so far
}

// inflight is an unacknowledged delivery.
type inflight struct {
	consumer ConsumerID // 0 for basic.get
	channel  ChannelID
	size     uint32
	count    uint32 // deliveries so far, this one included
}

// level is the delivery state of one log (one priority level). Its memory
// is O(len(requeued) + len(unacked) + acked.len()), never O(end-frontier):
// offsets in [frontier, end) are ready by construction, except the
// `holes` settled ones recorded in acked (gaps, expiries above the
// frontier), which dispatch skips.
type level struct {
	idx      uint8
	end      int64 // next offset to be appended
	frontier int64 // next offset never delivered
	lowWater int64 // first unsettled offset
	holes    int64 // settled offsets in [frontier, end)

	requeued      []ready // sorted by offset descending: the lowest is last
	requeuedBytes int64
	unacked       map[int64]inflight
	unackedBytes  int64
	acked         intervalSet // settled offsets >= lowWater

	// Sizes of [sizesFrom, sizesFrom+len(sizes)), kept only when
	// MaxLengthBytes is set; offsets below sizesFrom (recovered backlog)
	// count as size 0. frontierBytes is their sum over ready offsets.
	track         bool
	sizes         []uint32
	sizesFrom     int64
	frontierBytes int64
	// For the ReadyBytes estimate when sizes are not tracked.
	appendedBytes, appendedCount int64
}

func newLevel(idx uint8, track bool) level {
	return level{idx: idx, track: track, unacked: make(map[int64]inflight)}
}

// readyFrontier is the number of ready offsets at or above the frontier.
func (l *level) readyFrontier() int64 { return l.end - l.frontier - l.holes }

func (l *level) ready() int64 { return l.readyFrontier() + int64(len(l.requeued)) }

// readyBytes is exact when sizes are tracked, else estimated.
func (l *level) readyBytes() int64 {
	if l.track {
		return l.frontierBytes + l.requeuedBytes
	}
	return l.readyFrontier()*l.meanSize() + l.requeuedBytes
}

func (l *level) meanSize() int64 {
	if l.appendedCount == 0 {
		return 0
	}
	return l.appendedBytes / l.appendedCount
}

// sizeAt is the size of a ready offset at or above the frontier.
func (l *level) sizeAt(off int64) uint32 {
	if !l.track {
		return uint32(min(l.meanSize(), int64(^uint32(0))))
	}
	if i := off - l.sizesFrom; i >= 0 && i < int64(len(l.sizes)) {
		return l.sizes[i]
	}
	return 0
}

// head is the offset the next take returns.
func (l *level) head() (int64, bool) {
	if n := len(l.requeued); n > 0 {
		return l.requeued[n-1].offset, true
	}
	if l.frontier < l.end {
		return l.frontier, true
	}
	return 0, false
}

// take removes the head from the ready messages. ok is false when none
// is ready.
func (l *level) take() (r ready, ok bool) {
	if n := len(l.requeued); n > 0 {
		r = l.requeued[n-1]
		l.requeued = l.requeued[:n-1]
		l.requeuedBytes -= int64(r.size)
		return r, true
	}
	if l.frontier >= l.end {
		return ready{}, false
	}
	r = ready{offset: l.frontier, size: l.sizeAt(l.frontier)}
	if l.track {
		l.frontierBytes -= int64(r.size)
	}
	l.advanceFrontier(1)
	l.skipSettled()
	return r, true
}

// advanceFrontier moves the frontier by n, forgetting the sizes below it.
func (l *level) advanceFrontier(n int64) {
	l.frontier += n
	if k := l.frontier - l.sizesFrom; k > 0 {
		k = min(k, int64(len(l.sizes)))
		l.sizes = l.sizes[k:]
		l.sizesFrom += k
		if len(l.sizes) == 0 {
			l.sizesFrom = l.frontier
		}
	}
}

// skipSettled moves the frontier past settled offsets (holes) so that the
// frontier is always unsettled or the end.
func (l *level) skipSettled() {
	for l.holes > 0 && l.frontier < l.end {
		e, ok := l.acked.contains(l.frontier)
		if !ok {
			return
		}
		n := min(e, l.end) - l.frontier
		l.holes -= n
		l.advanceFrontier(n)
	}
}

// requeue makes a delivered offset ready again, keeping its place.
func (l *level) requeue(r ready) {
	i := sort.Search(len(l.requeued), func(i int) bool { return l.requeued[i].offset < r.offset })
	l.requeued = append(l.requeued, ready{})
	copy(l.requeued[i+1:], l.requeued[i:])
	l.requeued[i] = r
	l.requeuedBytes += int64(r.size)
}

// requeuedIndex finds a requeued offset.
func (l *level) requeuedIndex(off int64) (int, bool) {
	i := sort.Search(len(l.requeued), func(i int) bool { return l.requeued[i].offset <= off })
	return i, i < len(l.requeued) && l.requeued[i].offset == off
}

// settle records [start, end) as settled. Every offset of it must be
// unsettled and not unacked (ready, or a gap at or above the end being
// appended). It reports the range in fx and advances the low-water mark.
func (l *level) settle(start, end int64, fx *Effects) {
	if start >= end {
		return
	}
	l.acked.add(start, end)
	if end > l.frontier {
		lo := max(start, l.frontier)
		l.holes += min(end, l.end) - lo
		if l.track {
			for off := lo; off < min(end, l.end); off++ {
				if i := off - l.sizesFrom; i >= 0 && i < int64(len(l.sizes)) {
					l.frontierBytes -= int64(l.sizes[i])
					l.sizes[i] = 0
				}
			}
		}
	}
	if n := len(fx.Settled); n > 0 && fx.Settled[n-1].Level == l.idx && fx.Settled[n-1].End == start {
		fx.Settled[n-1].End = end
	} else {
		fx.Settled = append(fx.Settled, Range{Level: l.idx, Interval: Interval{start, end}})
	}
	l.skipSettled()
	l.advanceLowWater(fx)
}

// advanceLowWater absorbs the settled intervals that start at the
// low-water mark and reports the new mark.
func (l *level) advanceLowWater(fx *Effects) {
	moved := false
	for {
		iv, ok := l.acked.popFrontAt(l.lowWater)
		if !ok {
			break
		}
		l.lowWater = iv.End
		moved = true
	}
	if moved {
		fx.setLowWater(Mark{Level: l.idx, Offset: l.lowWater})
	}
}

// append records a message at off (>= end) of size bytes; offsets in
// [end, off) hold no message and are settled at once.
func (l *level) append(off int64, size int, fx *Effects) {
	gap := l.end
	sz := uint32(min(max(size, 0), int(^uint32(0))))
	if l.track {
		if len(l.sizes) == 0 {
			l.sizesFrom = off
		} else {
			for range off - l.end {
				l.sizes = append(l.sizes, 0)
			}
		}
		l.sizes = append(l.sizes, sz)
		l.frontierBytes += int64(sz)
	}
	l.end = off + 1
	l.appendedBytes += int64(sz)
	l.appendedCount++
	if gap < off {
		l.settle(gap, off, fx)
	}
}
