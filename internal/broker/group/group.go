package group

import (
	"bytes"
	"encoding/binary"
	"slices"
	"time"
)

// state is a group's position in the rebalance protocol (see doc.go).
type state uint8

const (
	empty state = iota
	preparingRebalance
	completingRebalance
	stable
	dead
)

func (s state) String() string {
	switch s {
	case empty:
		return StateEmpty
	case preparingRebalance:
		return StatePreparingRebalance
	case completingRebalance:
		return StateCompletingRebalance
	case stable:
		return StateStable
	default:
		return StateDead
	}
}

// reqID addresses a blocked Join or Sync call: the state machine answers
// requests by id and never holds channels or callbacks.
type reqID uint64

// member is one member of a group.
type member struct {
	id, instanceID, clientID, clientHost string
	protocols                            []Protocol
	sessionTimeout, rebalanceTimeout     time.Duration
	assignment                           []byte

	// joinReq/syncReq are the pending JoinGroup/SyncGroup of the member, 0
	// if none. A member with joinReq != 0 is "awaiting join".
	joinReq, syncReq reqID
	// awaitingJoin is true from the member's JoinGroup in a rebalance until
	// the rebalance completes, even if its request was abandoned.
	awaitingJoin bool
	// isNew marks a member added during the current rebalance; it may only
	// wait NewMemberJoinTimeout for the rebalance to complete.
	isNew bool
	// deadline is when the member's session expires (zero: no deadline, the
	// member is waiting in a rebalance and kept alive by it).
	deadline time.Time
}

// metadataFor returns the member's metadata for protocol name.
func (m *member) metadataFor(name string) ([]byte, bool) {
	for _, p := range m.protocols {
		if p.Name == name {
			return p.Metadata, true
		}
	}
	return nil, false
}

// sameProtocols reports whether ps equals the member's protocols (names,
// order and metadata), Kafka's MemberMetadata.matches.
func (m *member) sameProtocols(ps []Protocol) bool {
	return slices.EqualFunc(m.protocols, ps, func(a, b Protocol) bool {
		return a.Name == b.Name && bytes.Equal(a.Metadata, b.Metadata)
	})
}

// vote is the member's most preferred protocol among candidates.
func (m *member) vote(candidates map[string]bool) string {
	for _, p := range m.protocols {
		if candidates[p.Name] {
			return p.Name
		}
	}
	return ""
}

// topicPartition keys committed offsets.
type topicPartition struct {
	topic     string
	partition int32
}

// offsetEntry is a committed offset.
type offsetEntry struct {
	offset      int64
	leaderEpoch int32
	metadata    string
	commitTime  time.Time
}

// group is one consumer group: the deterministic per-group state machine.
// It never reads a clock: every event carries now.
type group struct {
	id           string
	state        state
	generation   int32
	protocolType string
	protocol     string // selected protocol of the current generation
	leader       string
	stateTime    time.Time // when state last changed (persisted, informative)

	members map[string]*member
	order   []string          // member ids in join order (leader election, output)
	static  map[string]string // instance id -> member id
	// pending are member ids handed out with ErrMemberIDRequired and not yet
	// used to join, with their expiry (now + session timeout).
	pending map[string]time.Time

	// joinDeadline is when the PreparingRebalance phase ends at the latest.
	joinDeadline time.Time
	// initialDelay is set while the join phase is Kafka's InitialDelayedJoin:
	// it cannot complete early; remaining is the time it may still extend
	// by, and newMemberAdded requests an extension.
	initialDelay   bool
	remaining      time.Duration
	newMemberAdded bool
	// pendingSync are the members of the current generation that have not
	// sent SyncGroup yet; they are removed at syncDeadline.
	pendingSync  map[string]bool
	syncDeadline time.Time

	offsets map[topicPartition]offsetEntry
	// inflight counts offset commits validated but not yet durable, per
	// partition; DeleteGroups writes tombstones for them too.
	inflight map[topicPartition]int
	// persisted is true once a group metadata record has been written (or
	// replayed) and not tombstoned.
	persisted bool
	// consumer is set for a consumer-protocol (KIP-848) group, whose
	// classic fields stay unused (consumer.go).
	consumer *consumerGroup
}

func newGroup(id string) *group {
	return &group{
		id:          id,
		members:     map[string]*member{},
		static:      map[string]string{},
		pending:     map[string]time.Time{},
		pendingSync: map[string]bool{},
		offsets:     map[topicPartition]offsetEntry{},
		inflight:    map[topicPartition]int{},
	}
}

func (g *group) transition(s state, now time.Time) {
	g.state = s
	g.stateTime = now
}

// vacant reports whether the group holds nothing worth keeping.
func (g *group) vacant() bool {
	return g.state == empty && len(g.members) == 0 && len(g.pending) == 0 &&
		len(g.offsets) == 0 && len(g.inflight) == 0 && !g.persisted &&
		(g.consumer == nil || g.consumer.epoch == 0 && len(g.consumer.members) == 0)
}

// addMember adds m in join order; the first member becomes leader.
func (g *group) addMember(m *member) {
	g.members[m.id] = m
	g.order = append(g.order, m.id)
	if m.instanceID != "" {
		g.static[m.instanceID] = m.id
	}
	if g.leader == "" {
		g.leader = m.id
	}
}

// removeMember removes a member; a removed leader is replaced by the
// earliest remaining member.
func (g *group) removeMember(id string) *member {
	m := g.members[id]
	if m == nil {
		return nil
	}
	delete(g.members, id)
	g.order = slices.DeleteFunc(g.order, func(s string) bool { return s == id })
	if m.instanceID != "" && g.static[m.instanceID] == id {
		delete(g.static, m.instanceID)
	}
	delete(g.pendingSync, id)
	if g.leader == id {
		g.leader = ""
		if len(g.order) > 0 {
			g.leader = g.order[0]
		}
	}
	return m
}

// replaceMember renames member oldID to newID in place (static membership).
func (g *group) replaceMember(oldID, newID string) *member {
	m := g.members[oldID]
	delete(g.members, oldID)
	m.id = newID
	g.members[newID] = m
	for i, id := range g.order {
		if id == oldID {
			g.order[i] = newID
		}
	}
	if m.instanceID != "" {
		g.static[m.instanceID] = newID
	}
	if g.leader == oldID {
		g.leader = newID
	}
	if g.pendingSync[oldID] {
		delete(g.pendingSync, oldID)
		g.pendingSync[newID] = true
	}
	return m
}

// fencedStatic reports Kafka's isStaticMemberFenced: the instance id is
// known and owned by another member id.
func (g *group) fencedStatic(instanceID, memberID string) bool {
	if instanceID == "" {
		return false
	}
	owner, ok := g.static[instanceID]
	return ok && owner != memberID
}

// committer is the classic member committing offsets as memberID (and
// instanceID) in generation: the checks OffsetCommit and TxnOffsetCommit
// share.
func (g *group) committer(memberID, instanceID string, generation int32) (*member, error) {
	mem := g.members[memberID]
	switch {
	case g.fencedStatic(instanceID, memberID):
		return nil, ErrFencedInstanceID
	case mem == nil:
		return nil, ErrUnknownMemberID
	case generation != g.generation:
		return nil, ErrIllegalGeneration
	}
	return mem, nil
}

// supportsProtocols reports whether a member (exclude: its own id when it
// is already a member) with protocolType and protocols may be in the group:
// the group is empty of other members and the member names a protocol, or
// the type matches and one protocol is supported by every other member.
func (g *group) supportsProtocols(exclude, protocolType string, protocols []Protocol) bool {
	if protocolType == "" || len(protocols) == 0 {
		return false
	}
	others := 0
	for _, id := range g.order {
		if id != exclude {
			others++
		}
	}
	if others == 0 {
		return true
	}
	if protocolType != g.protocolType {
		return false
	}
	for _, p := range protocols {
		n := 0
		for _, id := range g.order {
			if id == exclude {
				continue
			}
			if _, ok := g.members[id].metadataFor(p.Name); ok {
				n++
			}
		}
		if n == others {
			return true
		}
	}
	return false
}

// selectProtocol picks the group's protocol as Kafka does: the candidates
// are the protocols every member supports, each member votes for its most
// preferred candidate and the most votes win. Ties go to the candidate
// earliest in the first member's preference order (Kafka leaves ties to hash
// order). "" if there is no candidate.
func (g *group) selectProtocol() string {
	if len(g.order) == 0 {
		return ""
	}
	counts := map[string]int{}
	for _, id := range g.order {
		for _, p := range g.members[id].protocols {
			counts[p.Name]++
		}
	}
	candidates := map[string]bool{}
	for name, n := range counts {
		if n == len(g.order) {
			candidates[name] = true
		}
	}
	votes := map[string]int{}
	for _, id := range g.order {
		if v := g.members[id].vote(candidates); v != "" {
			votes[v]++
		}
	}
	best, bestVotes := "", 0
	for _, p := range g.members[g.order[0]].protocols {
		if n := votes[p.Name]; n > bestVotes {
			best, bestVotes = p.Name, n
		}
	}
	return best
}

// maxRebalanceTimeout is the group's rebalance timeout: the largest of its
// members'.
func (g *group) maxRebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

// allJoined is Kafka's hasAllMembersJoined.
func (g *group) allJoined() bool {
	for _, m := range g.members {
		if !m.awaitingJoin {
			return false
		}
	}
	return len(g.pending) == 0
}

// leaderMembers is the member list sent to the leader in join responses.
func (g *group) leaderMembers() []MemberMetadata {
	out := make([]MemberMetadata, 0, len(g.order))
	for _, id := range g.order {
		m := g.members[id]
		md, _ := m.metadataFor(g.protocol)
		out = append(out, MemberMetadata{MemberID: m.id, InstanceID: m.instanceID, Metadata: slices.Clone(md)})
	}
	return out
}

// subscribedTopics returns the topics the group's members subscribe to,
// parsed from their consumer protocol metadata, and ok=false if the group
// is not a "consumer" group or any member's metadata cannot be parsed (the
// caller must then assume every topic is subscribed, as Kafka does).
func (g *group) subscribedTopics() (map[string]bool, bool) {
	if g.protocolType != "consumer" {
		return nil, false
	}
	topics := map[string]bool{}
	for _, m := range g.members {
		var mds [][]byte
		if md, ok := m.metadataFor(g.protocol); ok && g.protocol != "" {
			mds = [][]byte{md}
		} else {
			for _, p := range m.protocols {
				mds = append(mds, p.Metadata)
			}
		}
		for _, md := range mds {
			ts, ok := parseSubscriptionTopics(md)
			if !ok {
				return nil, false
			}
			for _, t := range ts {
				topics[t] = true
			}
		}
	}
	return topics, true
}

// parseSubscriptionTopics decodes the topics of a consumer protocol
// subscription: int16 version, int32 count, count × (int16 length, bytes).
// Fields after the topics (user data, owned partitions, …) are ignored. A
// null array (count -1) is no topics; anything malformed returns ok=false.
func parseSubscriptionTopics(b []byte) ([]string, bool) {
	if len(b) < 6 {
		return nil, false
	}
	if int16(binary.BigEndian.Uint16(b)) < 0 {
		return nil, false
	}
	n := int32(binary.BigEndian.Uint32(b[2:]))
	b = b[6:]
	if n == -1 {
		return nil, true
	}
	if n < 0 || int(n) > len(b)/2 {
		return nil, false
	}
	topics := make([]string, 0, n)
	for range n {
		if len(b) < 2 {
			return nil, false
		}
		l := int(int16(binary.BigEndian.Uint16(b)))
		b = b[2:]
		if l < 0 || l > len(b) {
			return nil, false
		}
		topics = append(topics, string(b[:l]))
		b = b[l:]
	}
	return topics, true
}
