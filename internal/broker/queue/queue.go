package queue

import "fmt"

// Queue is the delivery state of one AMQP queue over its log(s): which
// offsets are ready, delivered and unacknowledged (to which consumer and
// channel), and settled. It is a deterministic state machine: it never
// reads message bodies, the clock or the disk, and starts no goroutines.
//
// Concurrency: a Queue is not safe for concurrent use; its owner (the
// queue's delivery loop) serializes every call. Ownership: slices passed
// in are not retained; slices returned (deliveries, Effects) are fresh
// and belong to the caller.
type Queue struct {
	cfg    Config
	levels []level // index = priority level

	consumers []*consumer // registration order (oldest first)
	byID      map[ConsumerID]*consumer
	channels  map[ChannelID]*channelState
	exclusive bool   // the (only) consumer is exclusive
	seq       uint64 // round-robin clock: bumped on each delivery
}

// New returns a queue with cfg's levels. recovered, if not nil, is the
// state rebuilt from the acks log after a restart, one LevelState per
// level (missing levels start empty): every unsettled offset in
// [LowWater, Frontier) comes back requeued, redelivered, and every offset
// in [Frontier, End) not in Acked is ready. It fails with ErrInvalidConfig
// or ErrInvalidState.
func New(cfg Config, recovered []LevelState) (*Queue, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(recovered) > int(cfg.MaxPriority)+1 {
		return nil, fmt.Errorf("%w: %d levels for max-priority %d", ErrInvalidState, len(recovered), cfg.MaxPriority)
	}
	q := &Queue{
		cfg:      cfg,
		levels:   make([]level, int(cfg.MaxPriority)+1),
		byID:     make(map[ConsumerID]*consumer),
		channels: make(map[ChannelID]*channelState),
	}
	for i := range q.levels {
		q.levels[i] = newLevel(uint8(i), cfg.trackSizes())
	}
	for i, st := range recovered {
		if err := q.levels[i].recover(st); err != nil {
			return nil, fmt.Errorf("level %d: %w", i, err)
		}
	}
	return q, nil
}

// LevelFor maps a message's priority property to its level: priorities
// above MaxPriority go to the top level (RabbitMQ's rule).
func (q *Queue) LevelFor(priority uint8) uint8 { return min(priority, q.cfg.MaxPriority) }

// Levels is the number of priority levels (MaxPriority+1).
func (q *Queue) Levels() int { return len(q.levels) }

func (q *Queue) level(lv uint8) (*level, error) {
	if int(lv) >= len(q.levels) {
		return nil, fmt.Errorf("%w: %d > max-priority %d", ErrInvalidLevel, lv, q.cfg.MaxPriority)
	}
	return &q.levels[lv], nil
}

// Admit reports whether a publish would be accepted now, for the
// reject-publish overflows: false when the queue holds MaxLength ready
// messages or MaxLengthBytes ready bytes (RabbitMQ checks the state before
// the publish, so one message may take the bytes over the limit). The
// caller asks before appending and, on false, nacks the publish (and with
// RejectPublishDLX and DeadLetter, dead-letters it itself with reason
// "maxlen"). Always true for DropHead.
func (q *Queue) Admit() bool {
	return q.cfg.Overflow == DropHead || !q.atLimit()
}

func (q *Queue) atLimit() bool {
	return (q.cfg.MaxLength != NoLimit && q.ready() >= q.cfg.MaxLength) ||
		(q.cfg.MaxLengthBytes != NoLimit && q.readyBytes() >= q.cfg.MaxLengthBytes)
}

func (q *Queue) overLimit() bool {
	return (q.cfg.MaxLength != NoLimit && q.ready() > q.cfg.MaxLength) ||
		(q.cfg.MaxLengthBytes != NoLimit && q.readyBytes() > q.cfg.MaxLengthBytes)
}

// Append records that a message of size body bytes landed at offset of
// level's log. Offsets only grow: offset must be >= the level's end
// (ErrOffsetOrder); offsets skipped over hold no message and are settled
// at once (reported in Settled so the acks log covers them).
//
// With DropHead, messages are then settled from the head (dead-lettered
// "maxlen" if DeadLetter) until the queue is within its limits; that may
// be the new message itself. With a reject-publish overflow the caller
// should have asked Admit first; if the queue was at its limit anyway,
// accepted is false and the message is settled at once (dead-lettered
// "maxlen" with RejectPublishDLX and DeadLetter): it will never be
// delivered and the caller nacks the publish.
func (q *Queue) Append(lv uint8, offset int64, size int) (accepted bool, fx Effects, err error) {
	l, err := q.level(lv)
	if err != nil {
		return false, fx, err
	}
	if offset < l.end {
		return false, fx, fmt.Errorf("%w: append %d at level %d, end %d", ErrOffsetOrder, offset, lv, l.end)
	}
	refuse := q.cfg.Overflow != DropHead && q.atLimit()
	l.append(offset, size, &fx)
	if refuse {
		var reason Reason
		if q.cfg.Overflow == RejectPublishDLX {
			reason = ReasonMaxLen
		}
		q.settle(l, offset, reason, &fx)
		return false, fx, nil
	}
	for q.cfg.Overflow == DropHead && q.overLimit() {
		hl, ok := q.headLevel()
		if !ok {
			break
		}
		r, _ := hl.take()
		q.settle(hl, r.offset, ReasonMaxLen, &fx)
	}
	return true, fx, nil
}

// settle settles one offset that is no longer ready or unacked: it is
// dead-lettered with reason when reason is set and DeadLetter is
// configured, else dropped.
func (q *Queue) settle(l *level, off int64, reason Reason, fx *Effects) {
	if reason != "" && q.cfg.DeadLetter {
		fx.DeadLettered = append(fx.DeadLettered, DeadLetter{Level: l.idx, Offset: off, Reason: reason})
	}
	l.settle(off, off+1, fx)
}

// headLevel is the highest level with a ready message.
func (q *Queue) headLevel() (*level, bool) {
	for i := len(q.levels) - 1; i >= 0; i-- {
		if _, ok := q.levels[i].head(); ok {
			return &q.levels[i], true
		}
	}
	return nil, false
}

// Head is the message Dispatch or Get would hand out next: the lowest
// requeued offset of the highest non-empty level, else its frontier. The
// caller reads it to check its TTL (and calls Expire) before dispatching.
func (q *Queue) Head() (lv uint8, offset int64, ok bool) {
	l, ok := q.headLevel()
	if !ok {
		return 0, 0, false
	}
	off, _ := l.head()
	return l.idx, off, true
}

func (q *Queue) ready() int64 {
	var n int64
	for i := range q.levels {
		n += q.levels[i].ready()
	}
	return n
}

func (q *Queue) readyBytes() int64 {
	var n int64
	for i := range q.levels {
		n += q.levels[i].readyBytes()
	}
	return n
}

// Stats reports the queue's counters.
func (q *Queue) Stats() Stats {
	s := Stats{Ready: q.ready(), ReadyBytes: q.readyBytes(), Consumers: len(q.consumers)}
	for i := range q.levels {
		s.Unacked += int64(len(q.levels[i].unacked))
		s.UnackedBytes += q.levels[i].unackedBytes
	}
	return s
}

// State is the durable state to checkpoint in the acks log, one
// LevelState per level. Unacked and requeued offsets are below Frontier
// and not in Acked, so they come back redelivered after a restart.
func (q *Queue) State() []LevelState {
	out := make([]LevelState, len(q.levels))
	for i := range q.levels {
		l := &q.levels[i]
		out[i] = LevelState{End: l.end, LowWater: l.lowWater, Frontier: l.frontier, Acked: l.acked.intervals()}
	}
	return out
}
