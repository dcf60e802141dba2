package group

import (
	"slices"
	"strings"
	"time"
)

// consumerHeartbeat is the ConsumerGroupHeartbeat event (Kafka's
// GroupMetadataManager.consumerGroupHeartbeat). A heartbeat does, in turn:
//
//  1. create or update the member; a new member or a changed
//     subscription bumps the group epoch, and so does any change in the
//     metadata of the subscribed topics;
//  2. if the group epoch is past the target assignment's, compute a new
//     target assignment with the preferred assignor;
//  3. reconcile the member towards its target (consumer_reconcile.go).
//
// It never waits: the answer is in the returned response, to be given
// once the effects' records are durable.
func (m *machine) consumerHeartbeat(now time.Time, r ConsumerHeartbeatRequest) (ConsumerHeartbeatResponse, effects) {
	var e effects
	if err := m.validateConsumerHeartbeat(r); err != nil {
		return ConsumerHeartbeatResponse{Err: err}, e
	}
	if r.MemberEpoch == LeaveEpoch || r.MemberEpoch == LeaveStaticEpoch {
		return m.consumerLeave(now, r)
	}
	g := m.groups[r.Group]
	m.begin(g, now, &e)
	resp, err := m.consumerHeartbeatGroup(g, now, r, &e)
	if g = m.groups[r.Group]; g != nil {
		m.end(g, now, &e)
	}
	if err != nil {
		return ConsumerHeartbeatResponse{Err: err}, e
	}
	return resp, e
}

// validateConsumerHeartbeat is Kafka's
// throwIfConsumerGroupHeartbeatRequestIsInvalid, with its messages.
func (m *machine) validateConsumerHeartbeat(r ConsumerHeartbeatRequest) error {
	blank := func(s string) bool { return strings.TrimSpace(s) == "" }
	if (r.Version >= 1 || r.MemberEpoch > 0 || r.MemberEpoch == LeaveEpoch) && blank(r.MemberID) {
		return errorf(ErrInvalidRequest, "MemberId can't be empty.")
	}
	switch {
	case blank(r.Group):
		return errorf(ErrInvalidRequest, "GroupId can't be empty.")
	case r.InstanceID != nil && blank(*r.InstanceID):
		return errorf(ErrInvalidRequest, "InstanceId can't be empty.")
	case r.RackID != nil && blank(*r.RackID):
		return errorf(ErrInvalidRequest, "RackId can't be empty.")
	}
	switch {
	case r.MemberEpoch == 0:
		if r.RebalanceTimeoutMs == -1 {
			return errorf(ErrInvalidRequest, "RebalanceTimeoutMs must be provided in first request.")
		}
		if r.Owned == nil || len(r.Owned) != 0 {
			return errorf(ErrInvalidRequest, "TopicPartitions must be empty when (re-)joining.")
		}
		if len(r.SubscribedTopics) == 0 && (r.SubscribedRegex == nil || *r.SubscribedRegex == "") {
			return errorf(ErrInvalidRequest, "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.")
		}
	case r.MemberEpoch == LeaveStaticEpoch:
		if r.InstanceID == nil {
			return errorf(ErrInvalidRequest, "InstanceId can't be null.")
		}
	case r.MemberEpoch < LeaveStaticEpoch:
		return errorf(ErrInvalidRequest, "MemberEpoch is invalid.")
	}
	if r.ServerAssignor != nil && !slices.Contains(m.cfg.ConsumerAssignors, *r.ServerAssignor) {
		return errorf(ErrUnsupportedAssignor, "ServerAssignor %s is not supported. Supported assignors: %s.",
			*r.ServerAssignor, strings.Join(m.cfg.ConsumerAssignors, ", "))
	}
	if r.SubscribedRegex != nil && *r.SubscribedRegex != "" {
		if _, err := compileRegex(*r.SubscribedRegex); err != nil {
			return errorf(ErrInvalidRegularExpression, "SubscribedTopicRegex `%s` is not a valid regular expression: %v.", *r.SubscribedRegex, err)
		}
	}
	return nil
}

// consumerGroupFor returns the consumer group a heartbeat is for, creating
// it when a member joins: a new group id, or an empty classic group, which
// is converted (its offsets stay). Tern does not convert a classic group
// with members: it behaves as Kafka with group.consumer.migration.policy
// set to disabled.
func (m *machine) consumerGroupFor(g *group, now time.Time, name string, joining bool, e *effects) (*group, error) {
	switch {
	case g != nil && g.consumer != nil:
		return g, nil
	case !joining && g == nil:
		return nil, errorf(ErrGroupIDNotFound, "Consumer group %s not found.", name)
	case !joining:
		return nil, errorf(ErrGroupIDNotFound, "Group %s is not a consumer group.", name)
	case g == nil:
		g = newGroup(name)
		g.stateTime = now
		m.groups[name] = g
		e.group = name
	case g.state != empty || len(g.members) > 0 || len(g.pending) > 0:
		return nil, errorf(ErrGroupIDNotFound, "Cannot upgrade classic group %s to consumer group because the online upgrade is disabled.", name)
	default:
		if g.persisted {
			e.records = append(e.records, JournalRecord{Key: groupKey(name)})
			g.persisted = false
		}
		g.generation, g.protocol, g.leader = 0, "", ""
		m.cfg.Logger.Info("converted the empty classic group to a consumer group", "group", name)
	}
	g.consumer = newConsumerGroup()
	g.protocolType = GroupTypeConsumer
	return g, nil
}

func (m *machine) consumerHeartbeatGroup(g *group, now time.Time, r ConsumerHeartbeatRequest, e *effects) (ConsumerHeartbeatResponse, error) {
	joining := r.MemberEpoch == 0
	g, err := m.consumerGroupFor(g, now, r.Group, joining, e)
	if err != nil {
		return ConsumerHeartbeatResponse{}, err
	}
	cg := g.consumer
	memberID := r.MemberID
	if memberID == "" { // v0: the coordinator names new members
		memberID = m.cfg.NewMemberID(r.ClientID)
	}
	if limit := m.cfg.ConsumerMaxGroupSize; limit > 0 && len(cg.members) >= limit && cg.members[memberID] == nil {
		return ConsumerHeartbeatResponse{}, errorf(ErrGroupMaxSizeReached, "The consumer group has reached its maximum capacity of %d members.", limit)
	}
	owned := fromTopicPartitions(r.Owned)
	old, isNew, err := m.consumerMemberFor(g, memberID, r, owned, e)
	if err != nil {
		return ConsumerHeartbeatResponse{}, err
	}

	// 1. The member and the group epoch.
	upd := old.clone()
	if r.InstanceID != nil {
		upd.instanceID = *r.InstanceID
	}
	if r.RackID != nil {
		upd.rackID = *r.RackID
	}
	if r.RebalanceTimeoutMs != -1 {
		upd.rebalanceTimeout = time.Duration(r.RebalanceTimeoutMs) * time.Millisecond
	}
	if r.ServerAssignor != nil {
		upd.serverAssignor = *r.ServerAssignor
	}
	if r.SubscribedTopics != nil {
		upd.subscribedTopics = sortedUnique(r.SubscribedTopics)
	}
	if r.SubscribedRegex != nil {
		upd.subscribedRegex = *r.SubscribedRegex
	}
	upd.clientID, upd.clientHost = r.ClientID, r.ClientHost
	if isNew || !upd.metadataEqual(old) {
		e.records = append(e.records, memberRecord(g.id, upd))
	}
	namesChanged := !slices.Equal(upd.subscribedTopics, old.subscribedTopics)
	regexChanged := upd.subscribedRegex != old.subscribedRegex
	if isNew {
		m.cfg.Logger.Info("member joins the consumer group", "group", g.id, "member", upd.id, "instance", upd.instanceID)
	}
	cg.setMember(upd)
	bump := cg.epoch == 0 || namesChanged || regexChanged
	if m.refreshRegexes(cg, now, r.TopicAllowed, false) {
		bump = true
	}
	if meta := m.subscriptionMetadata(cg); !slices.Equal(meta, cg.subscribedMeta) {
		cg.subscribedMeta = meta
		e.records = append(e.records, partitionMetadataRecord(g.id, meta))
		bump = true
	}
	if bump {
		cg.epoch++
		e.records = append(e.records, epochRecord(g.id, cg.epoch))
		m.cfg.Logger.Info("bumped consumer group epoch", "group", g.id, "epoch", cg.epoch)
	}

	// 2. The target assignment.
	if cg.epoch > cg.assignmentEpoch {
		m.updateTargets(g, e)
	}

	// 3. Reconciliation.
	next := cg.reconcile(upd, cg.assignmentEpoch, cg.targets[upd.id], owned, namesChanged || regexChanged, m.topicID)
	if isNew || !next.assignmentEqual(upd) {
		if next.state == memberUnrevoked {
			next.revokeDeadline = now.Add(next.rebalanceTimeout)
		} else {
			next.revokeDeadline = time.Time{}
		}
		e.records = append(e.records, currentRecord(g.id, next))
		cg.setMember(next)
	}
	next.sessionDeadline = now.Add(m.cfg.ConsumerSessionTimeout)
	if cg.dirty {
		e.records = append(e.records, consumerSnapshot(g.id, cg)...)
		cg.dirty = false
	}
	if len(e.records) > 0 {
		g.persisted = true
	}

	resp := ConsumerHeartbeatResponse{MemberID: next.id, MemberEpoch: next.epoch, HeartbeatInterval: m.cfg.ConsumerHeartbeatInterval}
	full := r.RebalanceTimeoutMs != -1 && (r.SubscribedTopics != nil || r.SubscribedRegex != nil) && r.Owned != nil
	if joining || full || !next.assigned.equal(old.assigned) {
		resp.HasAssignment = true
		resp.Assignment = idPartitions(next.assigned)
	}
	return resp, nil
}

// consumerMemberFor finds the member a heartbeat is from, or makes a new
// one (isNew) for a joining member, after checking its epoch and, for a
// static member, its instance id. A static member joining with a new
// member id takes the place of the member of its instance id, which must
// have left with epoch -2: it inherits its partitions and target, and
// counts as new (its records are written under the new id).
func (m *machine) consumerMemberFor(g *group, id string, r ConsumerHeartbeatRequest, owned assignment, e *effects) (mem *consumerMember, isNew bool, err error) {
	cg := g.consumer
	joining := r.MemberEpoch == 0
	fresh := func() (*consumerMember, bool, error) {
		return &consumerMember{id: id, assigned: assignment{}, pending: assignment{}}, true, nil
	}
	if r.InstanceID == nil {
		mem := cg.members[id]
		switch {
		case mem == nil && joining:
			return fresh()
		case mem == nil:
			return nil, false, errorf(ErrUnknownMemberID, "Member %s is not a member of group %s.", id, g.id)
		}
		return mem, false, checkMemberEpoch(mem, r.MemberEpoch, owned)
	}
	inst := *r.InstanceID
	existing := cg.members[cg.static[inst]]
	switch {
	case existing == nil && joining:
		if mem := cg.members[id]; mem != nil {
			return mem, false, nil
		}
		return fresh()
	case existing == nil:
		return nil, false, errorf(ErrUnknownMemberID, "Instance id %s is unknown.", inst)
	case existing.id == id:
		// The same incarnation: a heartbeat, or a rejoin after an error.
		return existing, false, checkMemberEpoch(existing, r.MemberEpoch, owned)
	case !joining:
		return nil, false, errorf(ErrFencedInstanceID, "Static member %s with instance id %s was fenced by member %s.", id, inst, existing.id)
	case existing.epoch != LeaveStaticEpoch:
		return nil, false, errorf(ErrUnreleasedInstanceID, "Static member %s with instance id %s cannot join the group because the instance id is owned by %s member.", id, inst, existing.id)
	}
	repl := existing.clone()
	repl.id = id
	repl.epoch, repl.prevEpoch = 0, 0
	repl.state = memberStable
	repl.revokeDeadline = time.Time{}
	target, hadTarget := cg.targets[existing.id]
	e.records = append(e.records, memberTombstones(g.id, existing.id)...)
	cg.removeMember(existing.id)
	if hadTarget {
		cg.targets[id] = target
		e.records = append(e.records, targetRecord(g.id, id, target))
	}
	cg.setMember(repl)
	m.cfg.Logger.Info("static member replaced", "group", g.id, "instance", inst, "old", existing.id, "new", id)
	return repl, true, nil
}

// checkMemberEpoch is Kafka's throwIfConsumerGroupMemberEpochIsInvalid.
// Epoch 0 from a known member is a rejoin (it lost its partitions and asks
// for its assignment again); the previous epoch is accepted with a subset
// of the member's partitions, in case the answer that bumped it was lost.
func checkMemberEpoch(mem *consumerMember, received int32, owned assignment) error {
	switch {
	case received == 0 || received == mem.epoch:
		return nil
	case received > mem.epoch:
		return errorf(ErrFencedMemberEpoch, "The consumer group member has a greater member epoch (%d) than the one known by the group coordinator (%d). The member must abandon all its partitions and rejoin.", received, mem.epoch)
	case received != mem.prevEpoch || owned == nil || !subsetOf(owned, mem.assigned):
		return errorf(ErrFencedMemberEpoch, "The consumer group member has a smaller member epoch (%d) than the one known by the group coordinator (%d). The member must abandon all its partitions and rejoin.", received, mem.epoch)
	}
	return nil
}

func subsetOf(a, b assignment) bool {
	ok := true
	a.each(func(t [16]byte, p int32) {
		if !b.has(t, p) {
			ok = false
		}
	})
	return ok
}

// updateTargets computes the target assignment for the group epoch with
// the preferred assignor and queues records for the members whose target
// changed.
func (m *machine) updateTargets(g *group, e *effects) {
	cg := g.consumer
	name := cg.preferredAssignor(m.cfg.ConsumerAssignors[0])
	targets := assignors[name](m.assignSpec(cg))
	for _, id := range sortedKeys(targets) {
		if old, ok := cg.targets[id]; !ok || !old.equal(targets[id]) {
			e.records = append(e.records, targetRecord(g.id, id, targets[id]))
		}
	}
	cg.targets = targets
	cg.assignmentEpoch = cg.epoch
	e.records = append(e.records, targetEpochRecord(g.id, cg.epoch))
	m.cfg.Logger.Info("computed a new target assignment", "group", g.id, "epoch", cg.epoch, "assignor", name, "members", len(cg.members))
}

// idPartitions lists an assignment for a heartbeat answer, which names
// topics by id only.
func idPartitions(a assignment) []TopicPartitions {
	out := make([]TopicPartitions, 0, len(a))
	for _, t := range a.topics() {
		out = append(out, TopicPartitions{TopicID: t, Partitions: slices.Clone(a[t])})
	}
	return out
}

// topicPartitions lists an assignment with topic names, for descriptions.
func (m *machine) topicPartitions(a assignment) []TopicPartitions {
	out := idPartitions(a)
	for i := range out {
		if meta, ok := m.topics().TopicByID(out[i].TopicID); ok {
			out[i].Topic = meta.Name
		}
	}
	return out
}

// consumerLeave handles a heartbeat with epoch -1 (leave) or -2 (a static
// member leaves for now).
func (m *machine) consumerLeave(now time.Time, r ConsumerHeartbeatRequest) (ConsumerHeartbeatResponse, effects) {
	var e effects
	g := m.groups[r.Group]
	m.begin(g, now, &e)
	resp, err := m.consumerLeaveGroup(g, now, r, &e)
	m.end(g, now, &e)
	if err != nil {
		return ConsumerHeartbeatResponse{Err: err}, e
	}
	return resp, e
}

func (m *machine) consumerLeaveGroup(g *group, now time.Time, r ConsumerHeartbeatRequest, e *effects) (ConsumerHeartbeatResponse, error) {
	switch {
	case g == nil:
		return ConsumerHeartbeatResponse{}, errorf(ErrGroupIDNotFound, "Group %s not found.", r.Group)
	case g.consumer == nil:
		return ConsumerHeartbeatResponse{}, errorf(ErrGroupIDNotFound, "Group %s is not a consumer group.", r.Group)
	}
	cg := g.consumer
	resp := ConsumerHeartbeatResponse{MemberID: r.MemberID, MemberEpoch: r.MemberEpoch}
	if r.InstanceID == nil {
		mem := cg.members[r.MemberID]
		if mem == nil {
			return resp, errorf(ErrUnknownMemberID, "Member %s is not a member of group %s.", r.MemberID, g.id)
		}
		m.cfg.Logger.Info("member left the consumer group", "group", g.id, "member", mem.id)
		m.fenceMember(g, mem, e)
		return resp, nil
	}
	inst := *r.InstanceID
	mem := cg.members[cg.static[inst]]
	switch {
	case mem == nil:
		return resp, errorf(ErrUnknownMemberID, "Instance id %s is unknown.", inst)
	case mem.id != r.MemberID:
		return resp, errorf(ErrFencedInstanceID, "Static member %s with instance id %s was fenced by member %s.", r.MemberID, inst, mem.id)
	case r.MemberEpoch == LeaveStaticEpoch:
		// Its partitions stay reserved for its instance until it comes
		// back or its session expires.
		m.cfg.Logger.Info("static member temporarily left the consumer group", "group", g.id, "member", mem.id, "instance", inst)
		away := mem.clone()
		away.epoch = LeaveStaticEpoch
		away.pending = assignment{}
		away.state = memberStable
		away.revokeDeadline = time.Time{}
		cg.setMember(away)
		e.records = append(e.records, currentRecord(g.id, away))
		return resp, nil
	}
	m.cfg.Logger.Info("static member left the consumer group", "group", g.id, "member", mem.id, "instance", inst)
	m.fenceMember(g, mem, e)
	return resp, nil
}

// fenceMember removes a member that left or failed, freeing its
// partitions, and bumps the group epoch: the next heartbeat of any member
// computes the new target assignment.
func (m *machine) fenceMember(g *group, mem *consumerMember, e *effects) {
	cg := g.consumer
	e.records = append(e.records, memberTombstones(g.id, mem.id)...)
	cg.removeMember(mem.id)
	cg.forgetUnsubscribedRegexes()
	if meta := m.subscriptionMetadata(cg); !slices.Equal(meta, cg.subscribedMeta) {
		cg.subscribedMeta = meta
		e.records = append(e.records, partitionMetadataRecord(g.id, meta))
	}
	cg.epoch++
	e.records = append(e.records, epochRecord(g.id, cg.epoch))
	g.persisted = true
}

// onConsumerDeadline fires a consumer member's deadline.
func (m *machine) onConsumerDeadline(g *group, kind timerKind, id string, now time.Time, e *effects) {
	cg := g.consumer
	mem := cg.members[id]
	switch kind {
	case timerConsumerSession:
		m.cfg.Logger.Info("member fenced from the consumer group because its session expired", "group", g.id, "member", id)
	case timerConsumerRevoke:
		m.cfg.Logger.Info("member fenced from the consumer group because it did not revoke its partitions within the rebalance timeout",
			"group", g.id, "member", id, "epoch", mem.epoch)
	}
	m.fenceMember(g, mem, e)
}

// consumerPersistFailed is told that records of the group could not be
// made durable: the next event on the group rewrites all of it.
func (m *machine) consumerPersistFailed(g *group) {
	m.cfg.Logger.Warn("consumer group records not persisted; the next heartbeat rewrites the group", "group", g.id)
	g.consumer.dirty = true
}
