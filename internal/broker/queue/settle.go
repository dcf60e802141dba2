package queue

import (
	"fmt"
	"slices"
)

// Ack is basic.ack of offsets of level lv delivered on channel ch (the
// adapter expands multiple=true into the offsets of its delivery tags).
// They are settled (fx.Settled) and the low-water mark may advance
// (fx.LowWater). If any offset is not unacknowledged on ch (never
// delivered, settled, acked twice, or owned by another channel) nothing
// is acked and the error wraps ErrUnknownDelivery.
func (q *Queue) Ack(ch ChannelID, lv uint8, offsets ...int64) (fx Effects, err error) {
	l, err := q.checkUnacked(ch, lv, offsets)
	if err != nil {
		return fx, err
	}
	for _, off := range offsets {
		q.release(l, off)
		q.settle(l, off, "", &fx)
	}
	return fx, nil
}

// Reject is basic.reject, or basic.nack of offsets of level lv delivered
// on channel ch. With requeue the messages are ready again at their
// place (before every message they preceded) and redelivered next time;
// without, they are settled and dead-lettered with reason "rejected" when
// DeadLetter is set, else dropped. Errors as for Ack.
func (q *Queue) Reject(ch ChannelID, lv uint8, requeue bool, offsets ...int64) (fx Effects, err error) {
	l, err := q.checkUnacked(ch, lv, offsets)
	if err != nil {
		return fx, err
	}
	for _, off := range offsets {
		e := q.release(l, off)
		if requeue {
			l.requeue(ready{offset: off, size: e.size, count: e.count})
		} else {
			q.settle(l, off, ReasonRejected, &fx)
		}
	}
	return fx, nil
}

// checkUnacked validates that every offset is unacknowledged on ch, once.
func (q *Queue) checkUnacked(ch ChannelID, lv uint8, offsets []int64) (*level, error) {
	l, err := q.level(lv)
	if err != nil {
		return nil, err
	}
	for _, off := range offsets {
		if e, ok := l.unacked[off]; !ok || e.channel != ch {
			return nil, fmt.Errorf("%w: level %d offset %d on channel %d", ErrUnknownDelivery, lv, off, ch)
		}
	}
	if dup, ok := duplicate(offsets); ok {
		return nil, fmt.Errorf("%w: level %d offset %d twice", ErrUnknownDelivery, lv, dup)
	}
	return l, nil
}

// duplicate finds an offset listed twice.
func duplicate(offsets []int64) (int64, bool) {
	if len(offsets) <= 32 {
		for i, off := range offsets {
			if slices.Contains(offsets[:i], off) {
				return off, true
			}
		}
		return 0, false
	}
	s := slices.Clone(offsets)
	slices.Sort(s)
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return s[i], true
		}
	}
	return 0, false
}

// release removes an unacked delivery and returns the consumer's and
// channel's credit.
func (q *Queue) release(l *level, off int64) inflight {
	e := l.unacked[off]
	delete(l.unacked, off)
	l.unackedBytes -= int64(e.size)
	if e.consumer != 0 {
		if c := q.byID[e.consumer]; c != nil {
			c.unacked--
		}
		if cs := q.channels[e.channel]; cs != nil {
			cs.unacked--
		}
	}
	return e
}

// ChannelClosed is the end of channel ch (channel.close, connection loss):
// its consumers are removed and every message it holds unacknowledged is
// requeued at its place, to be redelivered. Effects.Activated names a
// single active consumer that took over.
func (q *Queue) ChannelClosed(ch ChannelID) Effects {
	var fx Effects
	for _, c := range slices.Clone(q.consumers) {
		if c.Channel == ch {
			fx.Merge(q.RemoveConsumer(c.ID))
		}
	}
	var offs []int64
	for i := range q.levels {
		l := &q.levels[i]
		offs = offs[:0]
		for off, e := range l.unacked {
			if e.channel == ch {
				offs = append(offs, off)
			}
		}
		slices.Sort(offs) // map order is random; keep requeue deterministic
		for _, off := range offs {
			e := q.release(l, off)
			l.requeue(ready{offset: off, size: e.size, count: e.count})
		}
	}
	delete(q.channels, ch)
	// An activated consumer that was itself on ch is already gone.
	fx.Activated = slices.DeleteFunc(fx.Activated, func(id ConsumerID) bool { return q.byID[id] == nil })
	return fx
}

// Expire settles a ready message the caller found past its TTL (usually
// the Head, or one found by a periodic scan): dead-lettered with reason
// "expired" when DeadLetter is set, else dropped. ErrNotReady if the
// message is not ready (delivered, settled or not appended).
func (q *Queue) Expire(lv uint8, offset int64) (fx Effects, err error) {
	l, err := q.level(lv)
	if err != nil {
		return fx, err
	}
	if i, ok := l.requeuedIndex(offset); ok {
		l.requeuedBytes -= int64(l.requeued[i].size)
		l.requeued = slices.Delete(l.requeued, i, i+1)
	} else if _, settled := l.acked.contains(offset); settled || offset < l.frontier || offset >= l.end {
		return fx, fmt.Errorf("%w: level %d offset %d", ErrNotReady, lv, offset)
	}
	q.settle(l, offset, ReasonExpired, &fx)
	return fx, nil
}

// Purge is queue.purge: every ready message is settled (not
// dead-lettered); unacknowledged ones stay. n is the number purged.
func (q *Queue) Purge() (n int64, fx Effects) {
	for i := range q.levels {
		l := &q.levels[i]
		n += l.ready()
		for j := len(l.requeued) - 1; j >= 0; j-- {
			l.settle(l.requeued[j].offset, l.requeued[j].offset+1, &fx)
		}
		l.requeued, l.requeuedBytes = l.requeued[:0], 0
		// The unsettled pieces of [frontier, end), between holes.
		var pieces []Interval
		at := l.frontier
		for _, iv := range l.acked.iv {
			if iv.End <= at {
				continue
			}
			if iv.Start > at {
				pieces = append(pieces, Interval{at, min(iv.Start, l.end)})
			}
			at = iv.End
		}
		if at < l.end {
			pieces = append(pieces, Interval{at, l.end})
		}
		for _, p := range pieces {
			l.settle(p.Start, p.End, &fx)
		}
	}
	return n, fx
}
