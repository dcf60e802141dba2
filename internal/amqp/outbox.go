package amqp

import (
	"sync"
)

// outbox is a connection's outbound byte queue. Senders (the reader,
// queue delivery loops, confirm waiters) encode frames straight into the
// pending buffer; the writer swaps it for its spare and writes everything
// pending in one syscall. Under load many deliveries share one write, and
// no sender allocates a buffer per frame.
//
// It is bounded: a sender waits while more than limit bytes are pending,
// so a client that does not read slows the queues delivering to it
// instead of growing the broker's memory.
type outbox struct {
	mu     sync.Mutex
	space  sync.Cond // signalled when the writer takes the buffer, or on close
	buf    []byte    // pending bytes
	spare  []byte    // the writer's last buffer, handed back for reuse
	closed bool
	limit  int
	wake   chan struct{} // one-slot: something is pending
}

func newOutbox(limit int) *outbox {
	o := &outbox{limit: limit, wake: make(chan struct{}, 1)}
	o.space.L = &o.mu
	return o
}

// add appends what fn encodes, waiting for room first. fn runs under the
// outbox lock, so what one call appends is never interleaved with another
// sender's frames. It reports false (dropping the frames) once closed.
func (o *outbox) add(fn func([]byte) []byte) bool {
	o.mu.Lock()
	for len(o.buf) >= o.limit && !o.closed {
		o.space.Wait()
	}
	_, ok := o.appendLocked(fn)
	return ok
}

// push appends what fn encodes without waiting for room, for deliveries
// from a queue's delivery loop, which must not block on one slow client.
// It reports whether the outbox is now at or over its limit (the caller
// then stops the flow, see conn.blockConsumer) and false for ok once
// closed.
func (o *outbox) push(fn func([]byte) []byte) (full, ok bool) {
	o.mu.Lock()
	return o.appendLocked(fn)
}

// full reports whether the outbox is at or over its limit.
func (o *outbox) full() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.buf) >= o.limit
}

// tryAdd is add without waiting: it drops the frames when the outbox is
// full (heartbeats, a shutdown notice that must not block shutdown).
// With onlyIfIdle it also drops them when anything is pending.
func (o *outbox) tryAdd(onlyIfIdle bool, fn func([]byte) []byte) bool {
	o.mu.Lock()
	if len(o.buf) >= o.limit || (onlyIfIdle && len(o.buf) > 0) {
		o.mu.Unlock()
		return false
	}
	_, ok := o.appendLocked(fn)
	return ok
}

// appendLocked appends what fn encodes unless closed, releases the lock
// and wakes the writer; full says whether the limit is now reached.
func (o *outbox) appendLocked(fn func([]byte) []byte) (full, ok bool) {
	if o.closed {
		o.mu.Unlock()
		return false, false
	}
	o.buf = fn(o.buf)
	full = len(o.buf) >= o.limit
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return full, true
}

// take waits until bytes are pending or stop is closed and returns them;
// the caller hands the slice back with done once written. It returns nil
// when stop is closed and nothing is pending.
func (o *outbox) take(stop <-chan struct{}) []byte {
	for {
		o.mu.Lock()
		if len(o.buf) > 0 {
			b := o.buf
			o.buf, o.spare = o.spare[:0], nil
			o.space.Broadcast()
			o.mu.Unlock()
			return b
		}
		o.mu.Unlock()
		select {
		case <-o.wake:
		case <-stop:
			o.mu.Lock()
			n := len(o.buf)
			o.mu.Unlock()
			if n == 0 {
				return nil
			}
		}
	}
}

// done hands a written buffer back for reuse; very large ones (a burst of
// big messages) are dropped so an idle connection does not pin them.
func (o *outbox) done(b []byte) {
	if cap(b) > 4*o.limit {
		return
	}
	o.mu.Lock()
	o.spare = b[:0]
	o.mu.Unlock()
}

// close drops whatever is pending and releases waiting senders; later
// adds are dropped.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.buf = nil
	o.space.Broadcast()
	o.mu.Unlock()
}
