package group

import (
	"slices"
	"time"
)

// join is the JoinGroup event. The answer to req comes in the returned
// effects or in those of a later event (when the join phase completes).
func (m *machine) join(now time.Time, req reqID, r JoinRequest) effects {
	var e effects
	if r.Group == "" {
		e.join(req, JoinResponse{Err: ErrInvalidGroupID, MemberID: r.MemberID})
		return e
	}
	if r.SessionTimeout < m.cfg.MinSessionTimeout || r.SessionTimeout > m.cfg.MaxSessionTimeout {
		e.join(req, JoinResponse{Err: ErrInvalidSessionTimeout, MemberID: r.MemberID})
		return e
	}
	g := m.groups[r.Group]
	if g == nil {
		// A group is created by its first new member; a known member id
		// for a group that does not exist is stale.
		if r.MemberID != "" {
			e.join(req, JoinResponse{Err: ErrUnknownMemberID, MemberID: r.MemberID})
			return e
		}
		g = newGroup(r.Group)
		g.stateTime = now
		m.groups[r.Group] = g
	}
	m.begin(g, now, &e)
	if g.consumer != nil {
		if err := m.classicJoinConsumerGroup(g, r.MemberID, &e); err != nil {
			e.join(req, JoinResponse{Err: err})
			m.end(g, now, &e)
			return e
		}
	}
	switch {
	case !m.acceptJoining(g, r.MemberID):
		if mem := g.members[r.MemberID]; mem != nil {
			m.removeMemberAndUpdate(g, mem, now, &e)
		}
		e.join(req, JoinResponse{Err: ErrGroupMaxSizeReached})
	case r.MemberID == "":
		m.joinNewMember(g, now, req, r, &e)
	default:
		m.joinKnownMember(g, now, req, r, &e)
	}
	m.end(g, now, &e)
	return e
}

// acceptJoining is Kafka's acceptJoiningMember: the group max size counts
// members awaiting join while preparing (so the last to rejoin are kicked
// out when the limit was lowered), and members otherwise.
func (m *machine) acceptJoining(g *group, memberID string) bool {
	limit := m.cfg.MaxGroupSize
	if limit == 0 {
		return true
	}
	mem := g.members[memberID]
	switch g.state {
	case preparingRebalance:
		if mem != nil && mem.awaitingJoin {
			return true
		}
		n := 0
		for _, o := range g.members {
			if o.awaitingJoin {
				n++
			}
		}
		return n < limit
	case completingRebalance, stable:
		return mem != nil || len(g.members) < limit
	default:
		return true
	}
}

func (m *machine) joinNewMember(g *group, now time.Time, req reqID, r JoinRequest, e *effects) {
	if !g.supportsProtocols(g.static[r.InstanceID], r.ProtocolType, r.Protocols) {
		e.join(req, JoinResponse{Err: ErrInconsistentGroupProtocol})
		return
	}
	prefix := r.ClientID
	if r.InstanceID != "" {
		prefix = r.InstanceID
	}
	id := m.cfg.NewMemberID(prefix)
	switch {
	case r.InstanceID != "":
		if old, ok := g.static[r.InstanceID]; ok {
			m.replaceStaticMember(g, now, req, r, old, id, e)
			return
		}
	case r.RequireKnownMemberID:
		// KIP-394: hand out the id first, so a client that never comes back
		// does not leave a member behind.
		g.pending[id] = now.Add(r.SessionTimeout)
		e.join(req, JoinResponse{Err: ErrMemberIDRequired, MemberID: id})
		return
	}
	m.addMemberAndRebalance(g, now, req, r, id, e)
}

func (m *machine) joinKnownMember(g *group, now time.Time, req reqID, r JoinRequest, e *effects) {
	if !g.supportsProtocols(r.MemberID, r.ProtocolType, r.Protocols) {
		e.join(req, JoinResponse{Err: ErrInconsistentGroupProtocol, MemberID: r.MemberID})
		return
	}
	if _, ok := g.pending[r.MemberID]; ok {
		m.addMemberAndRebalance(g, now, req, r, r.MemberID, e)
		return
	}
	if g.fencedStatic(r.InstanceID, r.MemberID) {
		e.join(req, JoinResponse{Err: ErrFencedInstanceID, MemberID: r.MemberID})
		return
	}
	mem := g.members[r.MemberID]
	if mem == nil {
		e.join(req, JoinResponse{Err: ErrUnknownMemberID, MemberID: r.MemberID})
		return
	}
	switch g.state {
	case preparingRebalance:
		m.updateMemberAndRebalance(g, mem, now, req, r, e)
	case completingRebalance:
		// Same metadata: the member lost its join response; send it again.
		if mem.sameProtocols(r.Protocols) {
			e.join(req, g.joinResponse(mem.id, true))
			return
		}
		m.updateMemberAndRebalance(g, mem, now, req, r, e)
	case stable:
		// A follower rejoining with unchanged metadata gets the current
		// generation; the leader or a changed member rebalances.
		if mem.id != g.leader && mem.sameProtocols(r.Protocols) {
			e.join(req, g.joinResponse(mem.id, false))
			return
		}
		m.updateMemberAndRebalance(g, mem, now, req, r, e)
	default:
		e.join(req, JoinResponse{Err: ErrUnknownMemberID, MemberID: r.MemberID})
	}
}

// joinResponse is the current generation's answer for member id; withMembers
// adds the member list if id is the leader.
func (g *group) joinResponse(id string, withMembers bool) JoinResponse {
	resp := JoinResponse{
		Generation:   g.generation,
		ProtocolType: g.protocolType,
		Protocol:     g.protocol,
		LeaderID:     g.leader,
		MemberID:     id,
	}
	if withMembers && id == g.leader {
		resp.Members = g.leaderMembers()
	}
	return resp
}

func (m *machine) addMemberAndRebalance(g *group, now time.Time, req reqID, r JoinRequest, id string, e *effects) {
	mem := &member{
		id:               id,
		instanceID:       r.InstanceID,
		clientID:         r.ClientID,
		clientHost:       r.ClientHost,
		protocols:        cloneProtocols(r.Protocols),
		sessionTimeout:   r.SessionTimeout,
		rebalanceTimeout: r.RebalanceTimeout,
		joinReq:          req,
		awaitingJoin:     true,
		isNew:            true,
		deadline:         now.Add(m.cfg.NewMemberJoinTimeout),
	}
	if g.state == preparingRebalance && g.generation == 0 {
		g.newMemberAdded = true
	}
	if len(g.members) == 0 {
		g.protocolType = r.ProtocolType
	}
	g.addMember(mem)
	delete(g.pending, id)
	m.cfg.Logger.Info("member joined", "group", g.id, "member", id, "instance", r.InstanceID, "reason", r.Reason)
	m.maybePrepareRebalance(g, now, e)
	m.maybeCompleteJoin(g, now, e)
}

func (m *machine) updateMemberAndRebalance(g *group, mem *member, now time.Time, req reqID, r JoinRequest, e *effects) {
	if mem.joinReq != 0 && mem.joinReq != req {
		// The member sent JoinGroup again while its previous one waits.
		e.join(mem.joinReq, JoinResponse{Err: ErrRebalanceInProgress, MemberID: mem.id})
	}
	mem.protocols = cloneProtocols(r.Protocols)
	mem.sessionTimeout = r.SessionTimeout
	mem.rebalanceTimeout = r.RebalanceTimeout
	mem.joinReq = req
	mem.awaitingJoin = true
	m.cfg.Logger.Info("member rejoined", "group", g.id, "member", mem.id, "reason", r.Reason)
	m.maybePrepareRebalance(g, now, e)
	m.maybeCompleteJoin(g, now, e)
}

// replaceStaticMember handles a known group.instance.id joining with no
// member id: a restarted static member. The old member id is fenced. In a
// stable group whose protocol would not change, the new member takes over
// the old one's assignment without a rebalance (KIP-345); the leader is told
// to skip assignment (KIP-814).
func (m *machine) replaceStaticMember(g *group, now time.Time, req reqID, r JoinRequest, oldID, newID string, e *effects) {
	mem := g.members[oldID]
	if mem.joinReq != 0 {
		e.join(mem.joinReq, JoinResponse{Err: ErrFencedInstanceID, MemberID: oldID})
		mem.joinReq = 0
	}
	if mem.syncReq != 0 {
		e.sync(mem.syncReq, SyncResponse{Err: ErrFencedInstanceID})
		mem.syncReq = 0
	}
	g.replaceMember(oldID, newID)
	mem.clientID, mem.clientHost = r.ClientID, r.ClientHost
	mem.protocols = cloneProtocols(r.Protocols)
	mem.sessionTimeout = r.SessionTimeout
	mem.rebalanceTimeout = r.RebalanceTimeout
	mem.deadline = now.Add(r.SessionTimeout)
	m.cfg.Logger.Info("static member replaced", "group", g.id, "instance", r.InstanceID, "old", oldID, "new", newID)
	switch g.state {
	case stable:
		if g.selectProtocol() == g.protocol {
			resp := g.joinResponse(newID, true)
			resp.SkipAssignment = newID == g.leader
			m.persistGroup(g, now, e)
			e.join(req, resp)
			return
		}
		mem.joinReq, mem.awaitingJoin = req, true
		m.prepareRebalance(g, now, e)
	case completingRebalance:
		// The leader may already be assigning to the old member id.
		mem.joinReq, mem.awaitingJoin = req, true
		m.prepareRebalance(g, now, e)
	default: // preparingRebalance
		mem.joinReq, mem.awaitingJoin = req, true
		m.maybeCompleteJoin(g, now, e)
	}
}

func (m *machine) maybePrepareRebalance(g *group, now time.Time, e *effects) {
	switch g.state {
	case empty, stable, completingRebalance:
		m.prepareRebalance(g, now, e)
	}
}

// prepareRebalance starts a join phase. From Empty it is Kafka's
// InitialDelayedJoin (wait InitialRebalanceDelay, extended while new
// members arrive, up to the rebalance timeout); otherwise it ends when all
// members rejoined or after the rebalance timeout.
func (m *machine) prepareRebalance(g *group, now time.Time, e *effects) {
	if g.state == completingRebalance {
		m.propagateSyncError(g, ErrRebalanceInProgress, now, e)
	}
	clear(g.pendingSync)
	g.syncDeadline = time.Time{}
	rt := g.maxRebalanceTimeout()
	if delay := m.cfg.InitialRebalanceDelay; g.state == empty && delay > 0 {
		g.initialDelay = true
		g.newMemberAdded = false
		g.joinDeadline = now.Add(delay)
		g.remaining = max(rt-delay, 0)
	} else {
		g.initialDelay = false
		g.joinDeadline = now.Add(rt)
	}
	m.cfg.Logger.Info("preparing rebalance", "group", g.id, "generation", g.generation, "from", g.state.String())
	g.transition(preparingRebalance, now)
	m.maybeCompleteJoin(g, now, e)
}

// propagateSyncError answers every blocked SyncGroup with err and clears
// the assignments (Kafka's resetAndPropagateAssignmentError).
func (m *machine) propagateSyncError(g *group, err error, now time.Time, e *effects) {
	for _, id := range g.order {
		mem := g.members[id]
		mem.assignment = nil
		if mem.syncReq != 0 {
			e.sync(mem.syncReq, SyncResponse{Err: err})
			mem.syncReq = 0
			mem.deadline = now.Add(mem.sessionTimeout)
		}
	}
}

func (m *machine) maybeCompleteJoin(g *group, now time.Time, e *effects) {
	if g.state == preparingRebalance && !g.initialDelay && g.allJoined() {
		m.completeJoin(g, now, e)
	}
}

// onJoinDeadline ends the join phase at its deadline, or extends an
// initial delay that saw new members.
func (m *machine) onJoinDeadline(g *group, now time.Time, e *effects) {
	if g.initialDelay && g.newMemberAdded && g.remaining > 0 {
		delay := min(m.cfg.InitialRebalanceDelay, g.remaining)
		g.newMemberAdded = false
		g.remaining -= delay
		g.joinDeadline = now.Add(delay)
		return
	}
	m.completeJoin(g, now, e)
}

// completeJoin is Kafka's onCompleteJoin: drop dynamic members that did not
// rejoin (static ones stay until their session expires), make sure the
// leader rejoined, start the next generation and answer every join.
func (m *machine) completeJoin(g *group, now time.Time, e *effects) {
	g.initialDelay, g.newMemberAdded = false, false
	for _, id := range slices.Clone(g.order) {
		if mem := g.members[id]; !mem.awaitingJoin && mem.instanceID == "" {
			m.cfg.Logger.Info("member did not rejoin in time", "group", g.id, "member", id)
			m.dropMember(g, mem, e)
		}
	}
	if lead := g.members[g.leader]; len(g.members) > 0 && (lead == nil || !lead.awaitingJoin) {
		newLeader := ""
		for _, id := range g.order {
			if g.members[id].awaitingJoin {
				newLeader = id
				break
			}
		}
		if newLeader == "" {
			// Only static members that did not rejoin are left: wait for
			// their sessions to expire or for them to come back.
			g.joinDeadline = now.Add(g.maxRebalanceTimeout())
			return
		}
		g.leader = newLeader
	}
	g.generation++
	if len(g.members) == 0 {
		g.protocol, g.leader = "", ""
		g.transition(empty, now)
		m.cfg.Logger.Info("group is empty", "group", g.id, "generation", g.generation)
		m.persistGroup(g, now, e)
		return
	}
	g.protocol = g.selectProtocol()
	g.transition(completingRebalance, now)
	m.cfg.Logger.Info("rebalance joined", "group", g.id, "generation", g.generation,
		"protocol", g.protocol, "leader", g.leader, "members", len(g.members))
	for _, id := range g.order {
		mem := g.members[id]
		mem.isNew, mem.awaitingJoin = false, false
		mem.deadline = now.Add(mem.sessionTimeout)
		g.pendingSync[id] = true
		if mem.joinReq != 0 {
			e.join(mem.joinReq, g.joinResponse(id, true))
			mem.joinReq = 0
		}
	}
	g.syncDeadline = now.Add(g.maxRebalanceTimeout())
}

func cloneProtocols(ps []Protocol) []Protocol {
	out := make([]Protocol, len(ps))
	for i, p := range ps {
		out[i] = Protocol{Name: p.Name, Metadata: slices.Clone(p.Metadata)}
	}
	return out
}
