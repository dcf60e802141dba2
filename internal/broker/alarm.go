package broker

import (
	"sync"
	"syscall"
	"time"
)

// diskAlarm watches the free space of the data directory. Below the
// limit, publishers are held back (AMQP connection.blocked) before the
// disk fills and appends start failing — RabbitMQ's disk alarm.
type diskAlarm struct {
	mu     sync.Mutex
	on     bool
	limit  int64
	subs   []func(bool)
	freeFn func() (int64, error)
}

// statfsFree reports the free bytes of the filesystem holding dir.
func statfsFree(dir string) func() (int64, error) {
	return func() (int64, error) {
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil {
			return 0, err
		}
		return int64(st.Bavail) * int64(st.Bsize), nil
	}
}

// check samples free space and notifies subscribers on a change.
func (a *diskAlarm) check() {
	free, err := a.freeFn()
	if err != nil {
		return
	}
	a.mu.Lock()
	on := free < a.limit
	changed := on != a.on
	a.on = on
	subs := append([]func(bool){}, a.subs...)
	a.mu.Unlock()
	if changed {
		for _, fn := range subs {
			fn(on)
		}
	}
}

// OnResourceAlarm registers fn to be told when the disk alarm goes on or
// off; fn is called at once with the current state. fn must not block.
func (b *Broker) OnResourceAlarm(fn func(on bool)) {
	b.alarm.mu.Lock()
	b.alarm.subs = append(b.alarm.subs, fn)
	on := b.alarm.on
	b.alarm.mu.Unlock()
	fn(on)
}

func (b *Broker) alarmLoop() {
	defer b.bg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.alarm.check()
		}
	}
}
