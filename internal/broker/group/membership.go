package group

import (
	"slices"
	"time"
)

// sync is the SyncGroup event. A follower's answer may come in the effects
// of a later event (the leader's sync).
func (m *machine) sync(now time.Time, req reqID, r SyncRequest) effects {
	var e effects
	if r.Group == "" {
		e.sync(req, SyncResponse{Err: ErrInvalidGroupID})
		return e
	}
	g := m.groups[r.Group]
	if g == nil {
		e.sync(req, SyncResponse{Err: ErrUnknownMemberID})
		return e
	}
	m.begin(g, now, &e)
	m.syncGroup(g, now, req, r, &e)
	m.end(g, now, &e)
	return e
}

func (m *machine) syncGroup(g *group, now time.Time, req reqID, r SyncRequest, e *effects) {
	fail := func(err error) { e.sync(req, SyncResponse{Err: err}) }
	mem := g.members[r.MemberID]
	switch {
	case g.fencedStatic(r.InstanceID, r.MemberID):
		fail(ErrFencedInstanceID)
		return
	case mem == nil:
		fail(ErrUnknownMemberID)
		return
	case r.Generation != g.generation:
		fail(ErrIllegalGeneration)
		return
	case r.ProtocolType != "" && r.ProtocolType != g.protocolType,
		r.Protocol != "" && r.Protocol != g.protocol:
		fail(ErrInconsistentGroupProtocol)
		return
	}
	switch g.state {
	case preparingRebalance:
		fail(ErrRebalanceInProgress)
	case completingRebalance:
		if mem.syncReq != 0 && mem.syncReq != req {
			e.sync(mem.syncReq, SyncResponse{Err: ErrRebalanceInProgress})
		}
		mem.syncReq = req
		delete(g.pendingSync, mem.id)
		if mem.id != g.leader {
			return // wait for the leader's assignment
		}
		// Members the leader left out get an empty assignment; assignments
		// for unknown member ids are ignored.
		for _, id := range g.order {
			a := r.Assignments[id]
			if a == nil {
				a = []byte{}
			}
			g.members[id].assignment = slices.Clone(a)
		}
		g.transition(stable, now)
		m.cfg.Logger.Info("rebalance completed", "group", g.id, "generation", g.generation)
		m.persistGroup(g, now, e)
		for _, id := range g.order {
			o := g.members[id]
			if o.syncReq != 0 {
				e.sync(o.syncReq, g.syncResponse(o))
				o.syncReq = 0
				o.deadline = now.Add(o.sessionTimeout)
			}
		}
	case stable:
		delete(g.pendingSync, mem.id)
		mem.deadline = now.Add(mem.sessionTimeout)
		e.sync(req, g.syncResponse(mem))
	default:
		fail(ErrUnknownMemberID)
	}
}

func (g *group) syncResponse(mem *member) SyncResponse {
	return SyncResponse{ProtocolType: g.protocolType, Protocol: g.protocol, Assignment: slices.Clone(mem.assignment)}
}

// onSyncDeadline removes the members of the generation that never sent
// SyncGroup and rebalances (Kafka's pending sync expiration).
func (m *machine) onSyncDeadline(g *group, now time.Time, e *effects) {
	for _, id := range slices.Clone(g.order) {
		if g.pendingSync[id] {
			m.cfg.Logger.Info("member did not sync in time", "group", g.id, "member", id)
			m.dropMember(g, g.members[id], e)
		}
	}
	m.prepareRebalance(g, now, e)
}

// heartbeat is the Heartbeat event.
func (m *machine) heartbeat(now time.Time, name, memberID, instanceID string, generation int32) (error, effects) {
	var e effects
	if name == "" {
		return ErrInvalidGroupID, e
	}
	g := m.groups[name]
	if g == nil {
		return ErrUnknownMemberID, e
	}
	m.begin(g, now, &e)
	err := m.heartbeatGroup(g, now, memberID, instanceID, generation)
	m.end(g, now, &e)
	return err, e
}

func (m *machine) heartbeatGroup(g *group, now time.Time, memberID, instanceID string, generation int32) error {
	mem := g.members[memberID]
	switch {
	case g.fencedStatic(instanceID, memberID):
		return ErrFencedInstanceID
	case mem == nil:
		return ErrUnknownMemberID
	case generation != g.generation:
		return ErrIllegalGeneration
	}
	switch g.state {
	case preparingRebalance:
		mem.deadline = now.Add(mem.sessionTimeout)
		return ErrRebalanceInProgress
	case completingRebalance, stable:
		mem.deadline = now.Add(mem.sessionTimeout)
		return nil
	default:
		return ErrUnknownMemberID
	}
}

// leave is the LeaveGroup event: the group-level error and one error per
// member (nil: that member left).
func (m *machine) leave(now time.Time, name string, members []LeaveMember) (error, []error, effects) {
	var e effects
	errs := make([]error, len(members))
	if name == "" {
		return ErrInvalidGroupID, nil, e
	}
	g := m.groups[name]
	if g == nil {
		for i := range errs {
			errs[i] = ErrUnknownMemberID
		}
		return nil, errs, e
	}
	m.begin(g, now, &e)
	for i, lm := range members {
		errs[i] = m.leaveOne(g, now, lm, &e)
	}
	m.end(g, now, &e)
	return nil, errs, e
}

func (m *machine) leaveOne(g *group, now time.Time, lm LeaveMember, e *effects) error {
	if lm.MemberID == "" && lm.InstanceID != "" {
		id, ok := g.static[lm.InstanceID]
		if !ok {
			return ErrUnknownMemberID
		}
		lm.MemberID = id
	}
	if _, ok := g.pending[lm.MemberID]; ok {
		delete(g.pending, lm.MemberID)
		m.maybeCompleteJoin(g, now, e)
		return nil
	}
	if g.fencedStatic(lm.InstanceID, lm.MemberID) {
		return ErrFencedInstanceID
	}
	mem := g.members[lm.MemberID]
	if mem == nil {
		return ErrUnknownMemberID
	}
	m.cfg.Logger.Info("member left", "group", g.id, "member", mem.id, "instance", mem.instanceID, "reason", lm.Reason)
	m.removeMemberAndUpdate(g, mem, now, e)
	return nil
}
