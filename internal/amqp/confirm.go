package amqp

import (
	"sync"

	"github.com/ternmq/tern/internal/amqp/spec"
)

// confirmer sends a confirm-mode channel's publisher confirms. Publishes
// are queued in sequence order with a wait that returns once the message
// is durable in every queue it reached; one goroutine per channel waits on
// them in order and answers each run of successes with a single
// basic.ack multiple=true, as RabbitMQ does. With group commit most
// messages of a burst become durable in the same fsync, so a burst of
// publishes costs a handful of confirm frames instead of one goroutine
// and one frame per message.
type confirmer struct {
	ch *channel

	mu      sync.Mutex
	pending []pendingConfirm
	stopped bool
	wake    chan struct{} // one-slot
	stop    chan struct{}
	done    chan struct{}
}

// pendingConfirm is one published message awaiting its confirm; a nil
// wait means the message was refused (nack at once, in order).
type pendingConfirm struct {
	seq  uint64
	wait func() error
}

func newConfirmer(ch *channel) *confirmer {
	cf := &confirmer{ch: ch, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go cf.run()
	return cf
}

// add queues the confirm of message seq.
func (cf *confirmer) add(seq uint64, wait func() error) {
	cf.mu.Lock()
	if cf.stopped {
		cf.mu.Unlock()
		return
	}
	cf.pending = append(cf.pending, pendingConfirm{seq, wait})
	cf.mu.Unlock()
	select {
	case cf.wake <- struct{}{}:
	default:
	}
}

// close stops the goroutine; confirms not yet sent are dropped (the
// channel is gone, so the client can no longer receive them).
func (cf *confirmer) close() {
	cf.mu.Lock()
	if cf.stopped {
		cf.mu.Unlock()
		return
	}
	cf.stopped = true
	cf.mu.Unlock()
	close(cf.stop)
	<-cf.done
}

func (cf *confirmer) run() {
	defer close(cf.done)
	var batch []pendingConfirm
	for {
		select {
		case <-cf.wake:
		case <-cf.stop:
			return
		}
		cf.mu.Lock()
		batch, cf.pending = cf.pending, batch[:0]
		cf.mu.Unlock()
		// acked is the last seq of the current run of successes not yet
		// sent; first is where the run started, so a run of one goes out
		// as a plain ack.
		var first, acked uint64
		flush := func() {
			if acked != 0 {
				cf.ch.c.sendMethod(cf.ch.id, &spec.BasicAck{DeliveryTag: acked, Multiple: acked != first})
				first, acked = 0, 0
			}
		}
		for _, p := range batch {
			if p.wait != nil && p.wait() == nil {
				if acked == 0 {
					first = p.seq
				}
				acked = p.seq
				continue
			}
			flush()
			cf.ch.c.sendMethod(cf.ch.id, &spec.BasicNack{DeliveryTag: p.seq})
		}
		flush()
		clear(batch) // drop the wait closures
	}
}
