package group

import (
	"bytes"
	"cmp"
	"slices"
	"time"
)

// This file holds the state of consumer-protocol groups (KIP-848). A group
// id is either a classic group or a consumer group: a consumer group is a
// *group whose consumer field is set; its classic fields stay unused
// (state Empty, no members), and its committed offsets live in the same
// offsets map as a classic group's, so OffsetCommit, OffsetFetch,
// OffsetDelete and DeleteGroups share their code.

// memberState is where a consumer member is in reconciling towards its
// target assignment (Kafka's MemberState; the values are persisted).
type memberState int8

const (
	// memberStable: the member has reached the target assignment of its
	// epoch.
	memberStable memberState = 0
	// memberUnrevoked: the member must first revoke partitions (those
	// pending revocation) before it moves to the target epoch.
	memberUnrevoked memberState = 1
	// memberUnreleased: the member is at the target epoch but waits for
	// partitions other members have not revoked yet.
	memberUnreleased memberState = 2
)

func (s memberState) String() string {
	switch s {
	case memberStable:
		return "stable"
	case memberUnrevoked:
		return "unrevoked"
	case memberUnreleased:
		return "unreleased"
	default:
		return "unknown"
	}
}

// topicPart is one partition of a topic named by id.
type topicPart struct {
	topic     [16]byte
	partition int32
}

// assignment is a set of partitions by topic id; each slice is sorted and
// without duplicates, and no slice is empty.
type assignment map[[16]byte][]int32

func (a assignment) clone() assignment {
	out := make(assignment, len(a))
	for t, ps := range a {
		out[t] = slices.Clone(ps)
	}
	return out
}

func (a assignment) has(t [16]byte, p int32) bool {
	_, ok := slices.BinarySearch(a[t], p)
	return ok
}

func (a assignment) add(t [16]byte, p int32) {
	ps := a[t]
	i, ok := slices.BinarySearch(ps, p)
	if !ok {
		a[t] = slices.Insert(ps, i, p)
	}
}

func (a assignment) size() int {
	n := 0
	for _, ps := range a {
		n += len(ps)
	}
	return n
}

func (a assignment) equal(b assignment) bool {
	if len(a) != len(b) {
		return false
	}
	for t, ps := range a {
		if !slices.Equal(ps, b[t]) {
			return false
		}
	}
	return true
}

// each calls fn for every partition, topics in id order.
func (a assignment) each(fn func(t [16]byte, p int32)) {
	for _, t := range a.topics() {
		for _, p := range a[t] {
			fn(t, p)
		}
	}
}

// topics returns the topic ids in order.
func (a assignment) topics() [][16]byte {
	ts := make([][16]byte, 0, len(a))
	for t := range a {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(x, y [16]byte) int { return bytes.Compare(x[:], y[:]) })
	return ts
}

// fromTopicPartitions builds an assignment from a request's list, dropping
// duplicates; nil stays nil.
func fromTopicPartitions(tps []TopicPartitions) assignment {
	if tps == nil {
		return nil
	}
	a := assignment{}
	for _, tp := range tps {
		for _, p := range tp.Partitions {
			a.add(tp.TopicID, p)
		}
	}
	return a
}

// consumerMember is one member of a consumer group.
type consumerMember struct {
	id, instanceID, rackID, clientID, clientHost string
	subscribedTopics                             []string // sorted, no duplicates
	subscribedRegex                              string
	rebalanceTimeout                             time.Duration
	serverAssignor                               string

	// epoch is the member epoch the member must send; prevEpoch the one
	// before, accepted once more in case the answer that bumped it was
	// lost. LeaveStaticEpoch marks a static member that left for now.
	epoch, prevEpoch int32
	state            memberState
	// assigned are the partitions the member owns (or will own once it
	// learns them); pending are those it must revoke.
	assigned, pending assignment

	// sessionDeadline is when the member is fenced without a heartbeat;
	// revokeDeadline, when it has not revoked its pending partitions
	// (Kafka's rebalance timeout), zero when nothing is pending.
	sessionDeadline, revokeDeadline time.Time
}

// metadataEqual reports whether the persisted member metadata (the
// ConsumerGroupMemberMetadata record) is the same.
func (m *consumerMember) metadataEqual(o *consumerMember) bool {
	return m.instanceID == o.instanceID && m.rackID == o.rackID && m.clientID == o.clientID &&
		m.clientHost == o.clientHost && slices.Equal(m.subscribedTopics, o.subscribedTopics) &&
		m.subscribedRegex == o.subscribedRegex && m.rebalanceTimeout == o.rebalanceTimeout &&
		m.serverAssignor == o.serverAssignor
}

// assignmentEqual reports whether the persisted current assignment (the
// ConsumerGroupCurrentMemberAssignment record) is the same.
func (m *consumerMember) assignmentEqual(o *consumerMember) bool {
	return m.epoch == o.epoch && m.prevEpoch == o.prevEpoch && m.state == o.state &&
		m.assigned.equal(o.assigned) && m.pending.equal(o.pending)
}

func (m *consumerMember) clone() *consumerMember {
	c := *m
	c.subscribedTopics = slices.Clone(m.subscribedTopics)
	c.assigned = m.assigned.clone()
	c.pending = m.pending.clone()
	return &c
}

// reconciledTo reports whether the member reached the target assignment
// of epoch.
func (m *consumerMember) reconciledTo(epoch int32) bool {
	return m.state == memberStable && m.epoch == epoch
}

// resolvedRegex is what a subscribed regular expression matched when it
// was last resolved.
type resolvedRegex struct {
	topics   []string // sorted
	resolved time.Time
}

// consumerGroup is the KIP-848 state of a group.
type consumerGroup struct {
	// epoch is the group epoch, bumped whenever membership, subscriptions
	// or the subscribed topics' metadata change; assignmentEpoch is the
	// group epoch the target assignment was computed for.
	epoch, assignmentEpoch int32
	members                map[string]*consumerMember
	static                 map[string]string // instance id -> member id
	// targets is the target assignment by member id.
	targets map[string]assignment
	// subscribedMeta is the metadata of the subscribed topics the group
	// epoch was computed with (the ConsumerGroupPartitionMetadata record),
	// sorted by name; a difference bumps the epoch.
	subscribedMeta []TopicMeta
	// regexes are the resolved subscribed regular expressions. They are
	// not persisted: the first heartbeat after a restart resolves them
	// again from the catalog.
	regexes map[string]resolvedRegex
	// owners maps every partition a member owns (assigned or pending
	// revocation) to that member's epoch (Kafka's currentPartitionEpoch):
	// a partition is given to a new owner only once it is free.
	owners map[topicPart]int32
	// exists is false while only tombstones were replayed; such a group
	// is dropped when the replay ends.
	exists bool
	// dirty is set when records of the group failed to persist: the next
	// event rewrites the whole group so the journal catches up.
	dirty bool
	// names caches subscribedNames (nil: to compute again), which every
	// heartbeat needs and which changes only with subscriptions.
	names []string
}

func newConsumerGroup() *consumerGroup {
	return &consumerGroup{
		members: map[string]*consumerMember{},
		static:  map[string]string{},
		targets: map[string]assignment{},
		regexes: map[string]resolvedRegex{},
		owners:  map[topicPart]int32{},
		exists:  true,
	}
}

// memberIDs returns the member ids in order.
func (cg *consumerGroup) memberIDs() []string {
	ids := make([]string, 0, len(cg.members))
	for id := range cg.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// state is the group's state as Kafka reports it.
func (cg *consumerGroup) state() string {
	switch {
	case len(cg.members) == 0:
		return StateEmpty
	case cg.epoch > cg.assignmentEpoch:
		return StateAssigning
	}
	for _, m := range cg.members {
		if !m.reconciledTo(cg.assignmentEpoch) {
			return StateReconciling
		}
	}
	return StateStable
}

// setMember puts m in the group (replacing the member of its id) and
// keeps the ownership index and the static ids current.
func (cg *consumerGroup) setMember(m *consumerMember) {
	if old := cg.members[m.id]; old != nil {
		cg.disown(old)
		if old.instanceID != "" && old.instanceID != m.instanceID && cg.static[old.instanceID] == old.id {
			delete(cg.static, old.instanceID)
		}
	}
	if old := cg.members[m.id]; old == nil || !slices.Equal(old.subscribedTopics, m.subscribedTopics) || old.subscribedRegex != m.subscribedRegex {
		cg.names = nil
	}
	cg.members[m.id] = m
	if m.instanceID != "" {
		cg.static[m.instanceID] = m.id
	}
	cg.own(m)
}

// removeMember drops the member, its target and its partitions.
func (cg *consumerGroup) removeMember(id string) {
	m := cg.members[id]
	if m == nil {
		return
	}
	cg.disown(m)
	delete(cg.members, id)
	delete(cg.targets, id)
	cg.names = nil
	if m.instanceID != "" && cg.static[m.instanceID] == id {
		delete(cg.static, m.instanceID)
	}
}

func (cg *consumerGroup) own(m *consumerMember) {
	for _, a := range []assignment{m.assigned, m.pending} {
		a.each(func(t [16]byte, p int32) { cg.owners[topicPart{t, p}] = m.epoch })
	}
}

func (cg *consumerGroup) disown(m *consumerMember) {
	for _, a := range []assignment{m.assigned, m.pending} {
		a.each(func(t [16]byte, p int32) { delete(cg.owners, topicPart{t, p}) })
	}
}

// ownerEpoch is the epoch of the member owning a partition, -1 if free.
func (cg *consumerGroup) ownerEpoch(t [16]byte, p int32) int32 {
	if e, ok := cg.owners[topicPart{t, p}]; ok {
		return e
	}
	return -1
}

// subscribedNames is every topic name some member subscribes to, by name
// or through a resolved regular expression, sorted.
func (cg *consumerGroup) subscribedNames() []string {
	if cg.names != nil {
		return cg.names
	}
	set := map[string]bool{}
	for _, m := range cg.members {
		for _, t := range m.subscribedTopics {
			set[t] = true
		}
		if m.subscribedRegex != "" {
			for _, t := range cg.regexes[m.subscribedRegex].topics {
				set[t] = true
			}
		}
	}
	cg.names = sortedKeys(set)
	return cg.names
}

// memberTopics is the set of topic names the member subscribes to, by
// name or through its resolved regular expression (an unresolved one
// matches nothing, as in Kafka).
func (cg *consumerGroup) memberTopics(m *consumerMember) map[string]bool {
	set := make(map[string]bool, len(m.subscribedTopics))
	for _, t := range m.subscribedTopics {
		set[t] = true
	}
	if m.subscribedRegex != "" {
		for _, t := range cg.regexes[m.subscribedRegex].topics {
			set[t] = true
		}
	}
	return set
}

// preferredAssignor is the server assignor most members name (ties to the
// first in name order), or def if none names one.
func (cg *consumerGroup) preferredAssignor(def string) string {
	counts := map[string]int{}
	for _, m := range cg.members {
		if m.serverAssignor != "" {
			counts[m.serverAssignor]++
		}
	}
	best, n := def, 0
	for _, name := range sortedKeys(counts) {
		if counts[name] > n {
			best, n = name, counts[name]
		}
	}
	return best
}

// earliest offers the earliest consumer member deadline to consider; ties
// go to the session deadline, then to the smaller member id, so firing
// order is deterministic without sorting the members at every event.
func (cg *consumerGroup) earliest(consider func(time.Time, timerKind, string)) {
	var (
		at   time.Time
		kind timerKind
		who  string
	)
	offer := func(t time.Time, k timerKind, id string) {
		if t.IsZero() {
			return
		}
		if at.IsZero() || t.Before(at) || t.Equal(at) && (k < kind || k == kind && id < who) {
			at, kind, who = t, k, id
		}
	}
	for id, m := range cg.members {
		offer(m.sessionDeadline, timerConsumerSession, id)
		offer(m.revokeDeadline, timerConsumerRevoke, id)
	}
	consider(at, kind, who)
}

// Consumer members' deadlines; the values follow the classic ones of
// machine.go.
const (
	timerConsumerSession timerKind = 100 + iota
	timerConsumerRevoke
)

// sortTopicMetas orders metadata by topic name.
func sortTopicMetas(ms []TopicMeta) {
	slices.SortFunc(ms, func(a, b TopicMeta) int { return cmp.Compare(a.Name, b.Name) })
}
