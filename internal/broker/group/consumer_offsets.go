package group

// Offsets of consumer groups live with the classic ones (offsets.go); what
// differs is who may commit and fetch: a member with its current member
// epoch, or anyone while the group has no members.

// validateConsumerCommit is Kafka's ConsumerGroup.validateOffsetCommit: a
// commit without a member epoch (-1) is accepted only while the group has
// no members; otherwise the member must exist and send its current epoch.
// A commit is not a heartbeat.
func validateConsumerCommit(g *group, memberID string, epoch int32) error {
	cg := g.consumer
	if epoch < 0 && len(cg.members) == 0 {
		return nil
	}
	mem := cg.members[memberID]
	if mem == nil {
		return errorf(ErrUnknownMemberID, "Member %s is not a member of group %s.", memberID, g.id)
	}
	return checkCommitEpoch(mem, epoch)
}

func checkCommitEpoch(mem *consumerMember, epoch int32) error {
	if epoch != mem.epoch {
		return errorf(ErrStaleMemberEpoch, "The received member epoch %d does not match the expected member epoch %d.", epoch, mem.epoch)
	}
	return nil
}

// validateFetch is Kafka's validateOffsetFetch for OffsetFetch v9+, which
// names the member: classic groups accept anyone, consumer groups the
// member with its current epoch (or a caller naming no member).
func (m *machine) validateFetch(name, memberID string, epoch int32) error {
	g := m.groups[name]
	if g == nil || g.consumer == nil || memberID == "" && epoch < 0 {
		return nil
	}
	mem := g.consumer.members[memberID]
	if mem == nil {
		return errorf(ErrUnknownMemberID, "Member %s is not a member of group %s.", memberID, name)
	}
	return checkCommitEpoch(mem, epoch)
}

// usesConsumerProtocol reports whether memberID is a consumer-protocol
// member of the group (such members must commit with OffsetCommit v9+).
func (m *machine) usesConsumerProtocol(name, memberID string) bool {
	g := m.groups[name]
	return g != nil && g.consumer != nil && g.consumer.members[memberID] != nil
}

// subscribedTopicSet is every topic name the group's members subscribe
// to, for OffsetDelete (Kafka's isSubscribedToTopic).
func (cg *consumerGroup) subscribedTopicSet() map[string]bool {
	set := map[string]bool{}
	for _, t := range cg.subscribedNames() {
		set[t] = true
	}
	return set
}
