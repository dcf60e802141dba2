package queue

import (
	"errors"
	"testing"
)

// FuzzQueueOps runs random operation sequences and checks, besides the
// structural invariants of checkInvariants, what a client could observe:
// an offset is delivered to at most one consumer at a time, a settled
// offset is never delivered (or settled) again, no consumer exceeds its
// prefetch, the low-water mark never goes back, and a refused ack changes
// nothing.
func FuzzQueueOps(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 1, 2, 4, 7, 6, 0, 6, 1})
	f.Add([]byte{3, 2, 0, 0, 0, 0, 0, 0, 1, 9, 1, 4, 9, 7, 1, 8, 2, 4, 9, 11, 0, 4, 9})
	f.Add([]byte{1, 9, 0, 8, 0, 3, 0, 1, 1, 17, 1, 33, 4, 9, 10, 0, 5, 1, 12, 5, 9, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &byteReader{data: data}
		cfg := DefaultConfig()
		cfg.MaxPriority = r.next() % 3
		if b := r.next(); b%4 == 1 {
			cfg.MaxLength = int64(b % 16)
		}
		if b := r.next(); b%4 == 1 {
			cfg.MaxLengthBytes = int64(b) * 4
		}
		b := r.next()
		cfg.Overflow = Overflow(b % 3)
		cfg.SingleActiveConsumer = b&8 != 0
		cfg.DeadLetter = b&16 != 0
		m := newFuzzModel(t, cfg)
		for ops := 0; !r.done() && ops < 500; ops++ {
			m.step(r)
		}
	})
}

type byteReader struct {
	data []byte
	i    int
}

func (r *byteReader) done() bool { return r.i >= len(r.data) }

func (r *byteReader) next() byte {
	if r.i >= len(r.data) {
		return 0
	}
	r.i++
	return r.data[r.i-1]
}

type key struct {
	level  uint8
	offset int64
}

type fuzzModel struct {
	t        *testing.T
	cfg      Config
	q        *Queue
	unacked  map[key]ChannelID // deliveries awaiting ack, as seen by clients
	order    []key             // unacked keys, in delivery order (for picking)
	settled  map[key]bool
	lowWater []int64
	nextID   ConsumerID
}

func newFuzzModel(t *testing.T, cfg Config) *fuzzModel {
	q, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fuzzModel{t: t, cfg: cfg, q: q, unacked: map[key]ChannelID{}, settled: map[key]bool{},
		lowWater: make([]int64, q.Levels())}
}

func (m *fuzzModel) step(r *byteReader) {
	t := m.t
	op, arg := r.next()%14, r.next()
	lv := arg % uint8(m.q.Levels())
	ch := ChannelID(arg%3 + 1)
	switch op {
	case 0, 1: // append a few
		for range arg%4 + 1 {
			l := &m.q.levels[lv]
			off := l.end
			if arg&0x80 != 0 {
				off += int64(arg % 3) // a gap
			}
			_, fx, err := m.q.Append(lv, off, int(arg))
			if err != nil {
				t.Fatalf("append: %v", err)
			}
			m.effects(fx)
		}
	case 2: // consume
		m.nextID++
		err := m.q.AddConsumer(ConsumerSpec{ID: m.nextID, Channel: ch, Prefetch: int(arg>>2) % 4,
			NoAck: arg&0x40 != 0 && arg&0x80 != 0, Exclusive: arg == 0x7f, Priority: int(arg>>5) % 3})
		if err != nil && !errors.Is(err, ErrExclusiveConsumer) {
			t.Fatalf("consume: %v", err)
		}
	case 3: // cancel
		if len(m.q.consumers) > 0 {
			m.effects(m.q.RemoveConsumer(m.q.consumers[int(arg)%len(m.q.consumers)].ID))
		}
	case 4:
		m.q.SetChannelPrefetch(ch, int(arg>>2)%5)
	case 5, 6: // dispatch
		ds, fx := m.q.Dispatch(int(arg%8) + 1)
		for _, d := range ds {
			c := m.q.byID[d.Consumer]
			m.delivered(d, c != nil && c.NoAck)
		}
		m.effects(fx)
	case 7:
		if d, fx, ok := m.q.Get(ch, arg&1 != 0); ok {
			m.delivered(d, arg&1 != 0)
			m.effects(fx)
		}
	case 8, 9: // ack or reject a held delivery
		if len(m.order) == 0 {
			break
		}
		k := m.order[int(arg)%len(m.order)]
		owner := m.unacked[k]
		var fx Effects
		var err error
		if op == 8 {
			fx, err = m.q.Ack(owner, k.level, k.offset)
		} else {
			fx, err = m.q.Reject(owner, k.level, arg&1 != 0, k.offset)
		}
		if err != nil {
			t.Fatalf("settle held %v on ch%d: %v", k, owner, err)
		}
		m.release(k)
		m.effects(fx)
	case 10: // a bogus ack changes nothing
		before := m.q.Stats()
		k := key{lv, int64(arg)}
		if owner, ok := m.unacked[k]; ok {
			ch = owner + 1
		}
		if _, err := m.q.Ack(ch, k.level, k.offset); !errors.Is(err, ErrUnknownDelivery) {
			t.Fatalf("ack of %v on ch%d: %v, want ErrUnknownDelivery", k, ch, err)
		}
		if after := m.q.Stats(); after != before {
			t.Fatalf("refused ack changed stats %+v -> %+v", before, after)
		}
	case 11: // channel closes
		m.effects(m.q.ChannelClosed(ch))
		for _, k := range append([]key(nil), m.order...) {
			if m.unacked[k] == ch {
				m.release(k)
			}
		}
	case 12: // expire the head, or a random offset
		hl, off, ok := m.q.Head()
		if arg&1 != 0 {
			hl, off, ok = lv, int64(arg>>1), true
		}
		if ok {
			fx, err := m.q.Expire(hl, off)
			if err != nil && !errors.Is(err, ErrNotReady) {
				t.Fatalf("expire: %v", err)
			}
			m.effects(fx)
		}
	case 13:
		if arg&1 != 0 {
			_, fx := m.q.Purge()
			m.effects(fx)
			break
		}
		// Restart from the checkpoint: clients lose their deliveries.
		q, err := New(m.cfg, m.q.State())
		if err != nil {
			t.Fatalf("restart: %v", err)
		}
		m.q = q
		m.unacked, m.order = map[key]ChannelID{}, nil
	}
	if err := m.q.checkInvariants(); err != nil {
		t.Fatalf("after op %d(%d): %v", op, arg, err)
	}
	for i := range m.q.levels {
		if lw := m.q.levels[i].lowWater; lw < m.lowWater[i] {
			t.Fatalf("level %d low-water went back %d -> %d", i, m.lowWater[i], lw)
		} else {
			m.lowWater[i] = lw
		}
	}
}

func (m *fuzzModel) delivered(d Delivery, noAck bool) {
	k := key{d.Level, d.Offset}
	if m.settled[k] {
		m.t.Fatalf("settled %v delivered again to c%d", k, d.Consumer)
	}
	if owner, ok := m.unacked[k]; ok {
		m.t.Fatalf("%v delivered to c%d ch%d while unacked on ch%d", k, d.Consumer, d.Channel, owner)
	}
	if d.Offset >= m.q.levels[d.Level].end {
		m.t.Fatalf("%v delivered beyond the end", k)
	}
	if !noAck {
		m.unacked[k] = d.Channel
		m.order = append(m.order, k)
	}
}

func (m *fuzzModel) release(k key) {
	delete(m.unacked, k)
	for i, o := range m.order {
		if o == k {
			m.order = append(m.order[:i], m.order[i+1:]...)
			return
		}
	}
}

func (m *fuzzModel) effects(fx Effects) {
	for _, r := range fx.Settled {
		for off := r.Start; off < r.End; off++ {
			k := key{r.Level, off}
			if m.settled[k] {
				m.t.Fatalf("%v settled twice", k)
			}
			if _, ok := m.unacked[k]; ok {
				m.t.Fatalf("%v settled while unacked", k)
			}
			m.settled[k] = true
		}
	}
	for _, dl := range fx.DeadLettered {
		if !m.cfg.DeadLetter || !m.settled[key{dl.Level, dl.Offset}] {
			m.t.Fatalf("dead-lettered %+v: not settled or no DLX", dl)
		}
	}
}
