package group

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Coordinator serves every consumer group of the node. It wraps the
// deterministic state machine (machine) with what the machine must not
// have: a mutex, a clock, a timer goroutine that fires deadlines, a journal
// writer goroutine that makes changes durable, and per-request channels on
// which Join and Sync block.
//
// Concurrency: every method is safe for concurrent use. One mutex (mu)
// guards all groups; it is held only for the state machine step, never
// while calling the Journal or waiting, and answers are sent under it on
// channels of capacity 1 that receive exactly one value, so a send never
// blocks. Lock order: mu is the only lock; the Journal is called with no
// lock held.
//
// Durability: an answer that depends on a journal record (a leader's
// SyncGroup, a static member's replacement, a commit, a deletion) is given
// only after Journal.Append returned; if the append fails the answer is
// ErrCoordinatorNotAvailable and the change is not exposed (a group whose
// metadata was not stored rebalances).
type Coordinator struct {
	cfg     Config
	log     *slog.Logger
	journal Journal

	mu          sync.Mutex
	m           *machine
	closed      bool
	lastReq     reqID
	joinWaiters map[reqID]chan JoinResponse
	syncWaiters map[reqID]chan SyncResponse
	timers      timerHeap
	armed       map[string]time.Time // per group, the deadline queued in timers
	queue       []appendOp           // journal appends in state order, for the writer

	wakeTimer  chan struct{} // capacity 1: an earlier deadline was armed
	wakeWriter chan struct{} // capacity 1: queue is not empty
	stop       chan struct{} // closed by Close
	appendCtx  context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
}

// NewCoordinator replays j into memory and starts serving: groups with
// members come back Stable (their sessions start now, so members that are
// gone expire after their session timeout), groups without come back Empty.
// It returns an error wrapping ErrCorruptRecord for a record it cannot
// decode, or Replay's error. The caller keeps ownership of j and must keep
// it usable until Close returns.
func NewCoordinator(cfg Config, j Journal) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if j == nil {
		return nil, errors.New("group: nil Journal")
	}
	cfg = cfg.withDefaults()
	m := newMachine(cfg)
	n := 0
	if err := j.Replay(func(r JournalRecord) error { n++; return m.load(r) }); err != nil {
		return nil, fmt.Errorf("group: replaying journal: %w", err)
	}
	m.finishLoad(cfg.Now())
	ctx, cancel := context.WithCancel(context.Background())
	c := &Coordinator{
		cfg:         cfg,
		log:         cfg.Logger,
		journal:     j,
		m:           m,
		joinWaiters: map[reqID]chan JoinResponse{},
		syncWaiters: map[reqID]chan SyncResponse{},
		armed:       map[string]time.Time{},
		wakeTimer:   make(chan struct{}, 1),
		wakeWriter:  make(chan struct{}, 1),
		stop:        make(chan struct{}),
		appendCtx:   ctx,
		cancel:      cancel,
	}
	c.mu.Lock()
	for name := range m.groups {
		c.arm(name)
	}
	c.mu.Unlock()
	c.log.Info("group coordinator loaded", "records", n, "groups", len(m.groups))
	c.wg.Add(2)
	go c.timerLoop()
	go c.writer()
	return c, nil
}

// Close stops the coordinator: blocked Join and Sync calls return
// ErrCoordinatorNotAvailable, later calls fail with it, the in-flight
// journal append is cancelled (its context is done) and queued ones are
// abandoned, and both goroutines have exited when Close returns. Close is
// idempotent and always returns nil.
func (c *Coordinator) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	for id, ch := range c.joinWaiters {
		ch <- JoinResponse{Err: ErrCoordinatorNotAvailable}
		delete(c.joinWaiters, id)
	}
	for id, ch := range c.syncWaiters {
		ch <- SyncResponse{Err: ErrCoordinatorNotAvailable}
		delete(c.syncWaiters, id)
	}
	c.mu.Unlock()
	close(c.stop)
	c.cancel()
	c.wg.Wait()
	return nil
}

// Join handles JoinGroup. It blocks until the join phase completes (up to
// the rebalance timeout, or the initial rebalance delay for a new group),
// the coordinator closes, or ctx is done. On ctx done the returned Err
// wraps ctx.Err() and the group is unchanged: as in Kafka, an abandoned
// JoinGroup still counts as the member having rejoined, and the answer the
// coordinator later gives it is dropped. Errors are the sentinels of
// errors.go; ErrMemberIDRequired comes with MemberID set. The coordinator
// copies what it keeps of r.
func (c *Coordinator) Join(ctx context.Context, r JoinRequest) JoinResponse {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return JoinResponse{Err: ErrCoordinatorNotAvailable, MemberID: r.MemberID}
	}
	return await(c, ctx, c.joinWaiters, func(id reqID) effects { return c.m.join(c.cfg.Now(), id, r) },
		func(err error) JoinResponse {
			return JoinResponse{Err: fmt.Errorf("group: join not answered: %w", err), MemberID: r.MemberID}
		})
}

// Sync handles SyncGroup. A follower blocks until the leader's SyncGroup
// arrives (and the assignment is durable), the generation fails, the
// coordinator closes or ctx is done (Err then wraps ctx.Err(); the member
// stays in the generation and its assignment is kept, so a retried Sync gets
// it). The leader's Assignments are copied.
func (c *Coordinator) Sync(ctx context.Context, r SyncRequest) SyncResponse {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return SyncResponse{Err: ErrCoordinatorNotAvailable}
	}
	return await(c, ctx, c.syncWaiters, func(id reqID) effects { return c.m.sync(c.cfg.Now(), id, r) },
		func(err error) SyncResponse {
			return SyncResponse{Err: fmt.Errorf("group: sync not answered: %w", err)}
		})
}

// await registers a waiter for a new request id in waiters, feeds the
// request to the state machine (c.mu held, as on entry; released here),
// and blocks until the answer or ctx's end. A request given up on is
// unregistered; an answer that raced the give-up still wins.
func await[R any](c *Coordinator, ctx context.Context, waiters map[reqID]chan R, feed func(reqID) effects, gaveUp func(error) R) R {
	c.lastReq++
	id := c.lastReq
	ch := make(chan R, 1)
	waiters[id] = ch
	c.handle(feed(id))
	c.mu.Unlock()
	select {
	case resp := <-ch:
		return resp
	case <-ctx.Done():
		c.mu.Lock()
		delete(waiters, id)
		c.mu.Unlock()
		select {
		case resp := <-ch:
			return resp
		default:
			return gaveUp(ctx.Err())
		}
	}
}

// Heartbeat handles Heartbeat: nil keeps the member's session alive;
// ErrRebalanceInProgress (session also kept alive) tells it to rejoin;
// ErrUnknownMemberID, ErrIllegalGeneration, ErrFencedInstanceID tell it it
// is out. It does not block.
func (c *Coordinator) Heartbeat(group, memberID, instanceID string, generation int32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrCoordinatorNotAvailable
	}
	err, eff := c.m.heartbeat(c.cfg.Now(), group, memberID, instanceID, generation)
	c.handle(eff)
	return err
}

// Leave handles LeaveGroup. The first result is a group-level error
// (ErrInvalidGroupID, ErrCoordinatorNotAvailable) and then the second is
// nil; otherwise the second holds one error per member, in order (nil: the
// member left; ErrUnknownMemberID; ErrFencedInstanceID). An unknown group
// answers ErrUnknownMemberID for every member, as Kafka does. It does not
// block.
func (c *Coordinator) Leave(group string, members []LeaveMember) (error, []error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrCoordinatorNotAvailable, nil
	}
	gerr, errs, eff := c.m.leave(c.cfg.Now(), group, members)
	c.handle(eff)
	return gerr, errs
}

// CommitOffsets handles OffsetCommit. A group-level error (first result;
// the second is then nil) applies to every partition: ErrIllegalGeneration,
// ErrUnknownMemberID, ErrFencedInstanceID, ErrRebalanceInProgress,
// ErrCoordinatorNotAvailable, or ctx.Err() wrapped if ctx is done before the
// commit is durable (it may still become durable). Otherwise the second
// result has one error per offset (nil: committed and durable;
// ErrOffsetMetadataTooLarge; ErrCoordinatorNotAvailable if the journal
// failed). A generation of -1 with empty member and instance ids is a
// "simple" commit, allowed only while the group has no members; it creates
// the group if needed. An empty group id is allowed, as in Kafka.
func (c *Coordinator) CommitOffsets(ctx context.Context, group, memberID, instanceID string, generation int32, offsets []OffsetCommit) (error, []error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrCoordinatorNotAvailable, nil
	}
	gerr, errs, plan, eff := c.m.commit(c.cfg.Now(), group, memberID, instanceID, generation, offsets)
	c.handle(eff)
	var done <-chan error
	if plan != nil {
		done = c.persistCommit(plan)
	}
	c.mu.Unlock()
	if gerr != nil || done == nil {
		return gerr, errs
	}
	select {
	case err := <-done:
		if err != nil {
			err = unavailable(err)
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		}
		return nil, errs
	case <-ctx.Done():
		return fmt.Errorf("group: commit not confirmed: %w", ctx.Err()), nil
	}
}

// persistCommit queues a commit plan's records, with c.mu held; the
// channel reports once they are durable and the plan applied.
func (c *Coordinator) persistCommit(plan *commitPlan) <-chan error {
	done := make(chan error, 1)
	c.enqueue(plan.records, func(err error) {
		c.mu.Lock()
		c.m.applyCommit(plan, err)
		c.mu.Unlock()
		done <- err
	})
	return done
}

// FetchOffsets handles OffsetFetch: the durable committed offsets of the
// given topics and partitions (Offset and LeaderEpoch -1 for a partition
// with none, including in an unknown group), or every committed offset of
// the group when topics is nil, sorted by topic and partition. The only
// error is ErrCoordinatorNotAvailable. It does not block.
func (c *Coordinator) FetchOffsets(group string, topics map[string][]int32) ([]CommittedOffset, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrCoordinatorNotAvailable
	}
	return c.m.fetch(group, topics), nil
}

// DeleteGroups handles DeleteGroups: one error per group, in order (nil:
// deleted, with its offsets, durably; ErrGroupIDNotFound; ErrNonEmptyGroup;
// ErrCoordinatorNotAvailable). It blocks until the tombstones are durable
// or the coordinator closes.
func (c *Coordinator) DeleteGroups(groups []string) []error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		errs := make([]error, len(groups))
		for i := range errs {
			errs[i] = ErrCoordinatorNotAvailable
		}
		return errs
	}
	errs, eff := c.m.deleteGroups(c.cfg.Now(), groups)
	done := c.handle(eff)
	for _, g := range groups {
		c.arm(g)
	}
	c.mu.Unlock()
	if done != nil {
		if err := <-done; err != nil {
			err = unavailable(err)
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		}
	}
	return errs
}

// DeleteOffsets handles OffsetDelete. A group-level error (first result)
// is ErrInvalidGroupID, ErrGroupIDNotFound, ErrNonEmptyGroup (a non-empty
// group that is not a "consumer" group), ErrCoordinatorNotAvailable or
// ctx.Err() wrapped. Otherwise the map has an entry for every requested
// partition: nil (deleted) or ErrGroupSubscribedToTopic (a current member
// subscribes to the topic, or a member's subscription cannot be parsed). It
// blocks until the tombstones are durable.
func (c *Coordinator) DeleteOffsets(ctx context.Context, group string, topics map[string][]int32) (error, map[string]map[int32]error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrCoordinatorNotAvailable, nil
	}
	gerr, res, eff := c.m.deleteOffsets(c.cfg.Now(), group, topics)
	done := c.handle(eff)
	c.mu.Unlock()
	if gerr != nil || done == nil {
		return gerr, res
	}
	select {
	case err := <-done:
		if err != nil {
			return unavailable(err), nil
		}
		return nil, res
	case <-ctx.Done():
		return fmt.Errorf("group: offset deletion not confirmed: %w", ctx.Err()), nil
	}
}

// Describe handles DescribeGroups: one Description per group, in order.
// An unknown group is State "Dead" with a nil Err (Kafka's answer); Err is
// ErrCoordinatorNotAvailable after Close. The returned slices are copies.
func (c *Coordinator) Describe(groups []string) []Description {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Description, len(groups))
	for i, g := range groups {
		if c.closed {
			out[i] = Description{Group: g, Err: ErrCoordinatorNotAvailable}
			continue
		}
		out[i] = c.m.describe(g)
	}
	return out
}

// List handles ListGroups: every group sorted by id, filtered by state
// (case-insensitive; no filter if states is empty). Nil after Close.
func (c *Coordinator) List(states []string) []Listing {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	return c.m.list(states)
}

// handle carries out a machine step's effects; c.mu is held. Answers
// without records are delivered now; otherwise the records are queued for
// the journal and the answers follow their durability. The returned
// channel (nil when there are no records) receives the append's result
// after the answers were delivered.
func (c *Coordinator) handle(eff effects) <-chan error {
	c.arm(eff.group)
	if len(eff.records) == 0 {
		c.deliver(eff, nil)
		return nil
	}
	done := make(chan error, 1)
	c.enqueue(eff.records, func(err error) {
		c.mu.Lock()
		c.deliver(eff, err)
		if err != nil && eff.group != "" && !c.closed {
			c.handle(c.m.persistFailed(eff.group, eff.persistGen, c.cfg.Now()))
		}
		c.mu.Unlock()
		done <- err
	})
	return done
}

// deliver sends answers to their waiters, or ErrCoordinatorNotAvailable if
// their records failed; answers nobody waits for any more are dropped.
func (c *Coordinator) deliver(eff effects, err error) {
	if err != nil {
		err = unavailable(err)
	}
	for _, j := range eff.joins {
		ch, ok := c.joinWaiters[j.req]
		if !ok {
			continue
		}
		delete(c.joinWaiters, j.req)
		if err != nil {
			j.resp = JoinResponse{Err: err, MemberID: j.resp.MemberID}
		}
		ch <- j.resp
	}
	for _, s := range eff.syncs {
		ch, ok := c.syncWaiters[s.req]
		if !ok {
			continue
		}
		delete(c.syncWaiters, s.req)
		if err != nil {
			s.resp = SyncResponse{Err: err}
		}
		ch <- s.resp
	}
}

// unavailable makes a journal failure an ErrCoordinatorNotAvailable.
func unavailable(err error) error {
	if errors.Is(err, ErrCoordinatorNotAvailable) {
		return err
	}
	return fmt.Errorf("%w: journal: %w", ErrCoordinatorNotAvailable, err)
}
