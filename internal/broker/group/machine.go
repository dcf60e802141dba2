package group

import (
	"slices"
	"time"
)

// machine is the deterministic core of the coordinator: every group and
// its committed offsets. It has no goroutines, reads no clock and does no
// I/O; each event method takes the current time and returns effects (join
// and sync answers addressed by reqID, journal records to persist, the
// group's next deadline). It is not safe for concurrent use: the
// Coordinator serializes calls with its mutex, the scenario tests call it
// directly.
type machine struct {
	cfg    Config // with defaults applied
	groups map[string]*group
}

func newMachine(cfg Config) *machine {
	return &machine{cfg: cfg.withDefaults(), groups: map[string]*group{}}
}

// joinReply and syncReply answer a blocked Join or Sync.
type joinReply struct {
	req  reqID
	resp JoinResponse
}

type syncReply struct {
	req  reqID
	resp SyncResponse
}

// effects is what an event asks of the caller. Replies must be delivered
// only after records are durable; if persisting the records fails, every
// reply is answered ErrCoordinatorNotAvailable instead and persistFailed is
// called.
type effects struct {
	group   string // the group the event was about ("" if none survives)
	joins   []joinReply
	syncs   []syncReply
	records []JournalRecord
	// persistGen is the group's generation when its metadata record was
	// built; a failed append rebalances the group if it is still there.
	persistGen int32
	// timer is the group's earliest deadline after the event, zero if none.
	timer time.Time
}

func (e *effects) join(req reqID, resp JoinResponse) {
	if req != 0 {
		e.joins = append(e.joins, joinReply{req, resp})
	}
}

func (e *effects) sync(req reqID, resp SyncResponse) {
	if req != 0 {
		e.syncs = append(e.syncs, syncReply{req, resp})
	}
}

// begin starts an event on group g (which may be nil): it first fires the
// deadlines that passed, so the event sees the group as it is at now.
func (m *machine) begin(g *group, now time.Time, e *effects) {
	if g != nil {
		e.group = g.id
		m.expire(g, now, e)
	}
}

// end finishes an event on g: fires deadlines that are already due (a zero
// delay), forgets a group that holds nothing, and reports the next
// deadline.
func (m *machine) end(g *group, now time.Time, e *effects) {
	if g == nil {
		return
	}
	m.expire(g, now, e)
	if g.vacant() && m.groups[g.id] == g {
		delete(m.groups, g.id)
	}
	e.timer = g.nextDeadline()
}

// tick is the "time is now" event for one group.
func (m *machine) tick(name string, now time.Time) effects {
	var e effects
	g := m.groups[name]
	m.begin(g, now, &e)
	m.end(g, now, &e)
	return e
}

// nextDeadline is the earliest deadline of group name, zero if none.
func (m *machine) nextDeadline(name string) time.Time {
	if g := m.groups[name]; g != nil {
		return g.nextDeadline()
	}
	return time.Time{}
}

// timerKind names what a deadline is for.
type timerKind uint8

const (
	timerNone timerKind = iota
	timerJoin
	timerSync
	timerSession
	timerPending
)

// earliest returns the group's earliest deadline, what it is for and the
// member it concerns. Ties go to the first considered, so firing order is
// deterministic.
func (g *group) earliest() (time.Time, timerKind, string) {
	var (
		at   time.Time
		kind timerKind
		who  string
	)
	consider := func(t time.Time, k timerKind, id string) {
		if !t.IsZero() && (at.IsZero() || t.Before(at)) {
			at, kind, who = t, k, id
		}
	}
	if g.state == preparingRebalance {
		consider(g.joinDeadline, timerJoin, "")
	}
	if (g.state == completingRebalance || g.state == stable) && len(g.pendingSync) > 0 {
		consider(g.syncDeadline, timerSync, "")
	}
	for _, id := range g.order {
		consider(g.members[id].deadline, timerSession, id)
	}
	ids := make([]string, 0, len(g.pending))
	for id := range g.pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		consider(g.pending[id], timerPending, id)
	}
	if g.consumer != nil {
		g.consumer.earliest(consider)
	}
	return at, kind, who
}

func (g *group) nextDeadline() time.Time {
	t, _, _ := g.earliest()
	return t
}

// expire fires, in time order, every deadline of g at or before now. Each
// fires at its own time, so the outcome does not depend on how late the
// caller's timer was. Every firing clears or moves its deadline past the
// firing time, so the loop ends.
func (m *machine) expire(g *group, now time.Time, e *effects) {
	for g.state != dead {
		at, kind, id := g.earliest()
		if kind == timerNone || at.After(now) {
			return
		}
		switch kind {
		case timerJoin:
			m.onJoinDeadline(g, at, e)
		case timerSync:
			m.onSyncDeadline(g, at, e)
		case timerSession:
			m.onSessionExpired(g, g.members[id], at, e)
		case timerPending:
			delete(g.pending, id)
			m.cfg.Logger.Info("pending member expired", "group", g.id, "member", id)
			m.maybeCompleteJoin(g, at, e)
		default:
			m.onConsumerDeadline(g, kind, id, at, e)
		}
	}
}

// onSessionExpired handles a member whose session deadline passed. A
// member waiting in a rebalance (joined or syncing) is kept alive by it,
// unless it is new and waited NewMemberJoinTimeout (Kafka's
// hasSatisfiedHeartbeat).
func (m *machine) onSessionExpired(g *group, mem *member, now time.Time, e *effects) {
	if !mem.isNew && (mem.awaitingJoin || mem.syncReq != 0) {
		mem.deadline = time.Time{}
		return
	}
	m.cfg.Logger.Info("member session expired", "group", g.id, "member", mem.id)
	m.removeMemberAndUpdate(g, mem, now, e)
}

// dropMember removes mem from g and answers its blocked requests
// UNKNOWN_MEMBER_ID, without touching the group's state.
func (m *machine) dropMember(g *group, mem *member, e *effects) {
	g.removeMember(mem.id)
	if mem.joinReq != 0 {
		e.join(mem.joinReq, JoinResponse{Err: ErrUnknownMemberID})
		mem.joinReq = 0
	}
	if mem.syncReq != 0 {
		e.sync(mem.syncReq, SyncResponse{Err: ErrUnknownMemberID})
		mem.syncReq = 0
	}
}

// removeMemberAndUpdate removes a member that left or failed and moves the
// group on: a stable or completing group rebalances, a preparing group may
// now have everyone it waits for.
func (m *machine) removeMemberAndUpdate(g *group, mem *member, now time.Time, e *effects) {
	m.dropMember(g, mem, e)
	switch g.state {
	case stable, completingRebalance:
		m.prepareRebalance(g, now, e)
	case preparingRebalance:
		m.maybeCompleteJoin(g, now, e)
	}
}

// persistGroup queues the group's metadata record.
func (m *machine) persistGroup(g *group, now time.Time, e *effects) {
	e.records = append(e.records, groupRecord(g, now))
	e.persistGen = g.generation
	g.persisted = true
}

// persistFailed is told that the records of an effects could not be made
// durable; as Kafka does when storing the group fails, a group still at
// that generation rebalances.
func (m *machine) persistFailed(name string, gen int32, now time.Time) effects {
	var e effects
	g := m.groups[name]
	m.begin(g, now, &e)
	if g != nil && g.consumer != nil {
		m.consumerPersistFailed(g)
	}
	if g != nil && g.generation == gen && (g.state == stable || g.state == completingRebalance) {
		m.cfg.Logger.Warn("group metadata not persisted, rebalancing", "group", name, "generation", gen)
		m.prepareRebalance(g, now, &e)
	}
	m.end(g, now, &e)
	return e
}
