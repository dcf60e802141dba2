package group

import "slices"

// describeConsumerAsClassic describes a consumer group in DescribeGroups'
// terms (the adapter answers it as Kafka does for a group that is not a
// classic group).
func (m *machine) describeConsumerAsClassic(g *group) Description {
	cg := g.consumer
	d := Description{Group: g.id, Type: GroupTypeConsumer, State: cg.state(), ProtocolType: GroupTypeConsumer}
	for _, id := range cg.memberIDs() {
		mem := cg.members[id]
		d.Members = append(d.Members, MemberDescription{MemberID: id, InstanceID: mem.instanceID, ClientID: mem.clientID, ClientHost: mem.clientHost})
	}
	return d
}

// consumerDescribe is ConsumerGroupDescribe for one group (Kafka's
// ConsumerGroup.asDescribedGroup). Members come in member-id order; the
// assignor is the one the next target assignment would use.
func (m *machine) consumerDescribe(name string) ConsumerDescription {
	g := m.groups[name]
	switch {
	case g == nil:
		return ConsumerDescription{Group: name, Err: errorf(ErrGroupIDNotFound, "Group %s not found.", name)}
	case g.consumer == nil:
		return ConsumerDescription{Group: name, Err: errorf(ErrGroupIDNotFound, "Group %s is not a consumer group.", name)}
	}
	cg := g.consumer
	d := ConsumerDescription{
		Group:           name,
		State:           cg.state(),
		Epoch:           cg.epoch,
		AssignmentEpoch: cg.assignmentEpoch,
		Assignor:        cg.preferredAssignor(m.cfg.ConsumerAssignors[0]),
	}
	for _, id := range cg.memberIDs() {
		mem := cg.members[id]
		d.Members = append(d.Members, ConsumerMemberDescription{
			MemberID:         id,
			InstanceID:       mem.instanceID,
			RackID:           mem.rackID,
			ClientID:         mem.clientID,
			ClientHost:       mem.clientHost,
			MemberEpoch:      mem.epoch,
			SubscribedTopics: slices.Clone(mem.subscribedTopics),
			SubscribedRegex:  mem.subscribedRegex,
			Assignment:       m.namedTopicPartitions(mem.assigned),
			TargetAssignment: m.namedTopicPartitions(cg.targets[id]),
		})
	}
	return d
}

// namedTopicPartitions lists an assignment with topic names, leaving out
// topics deleted since (Kafka describes only topics it can name).
func (m *machine) namedTopicPartitions(a assignment) []TopicPartitions {
	out := []TopicPartitions{}
	for _, tp := range m.topicPartitions(a) {
		if tp.Topic != "" {
			out = append(out, tp)
		}
	}
	return out
}

// classicJoinConsumerGroup lets a classic JoinGroup through to a consumer
// group that has no members, which becomes a classic group (its offsets
// stay, as in Kafka). Tern does not admit classic members into a consumer
// group that has members (Kafka 4's mixed groups): they are refused with
// INCONSISTENT_GROUP_PROTOCOL, the error Kafka gives a classic member
// whose protocols the group cannot use.
func (m *machine) classicJoinConsumerGroup(g *group, memberID string, e *effects) error {
	cg := g.consumer
	if len(cg.members) > 0 {
		return errorf(ErrInconsistentGroupProtocol, "Member %s's protocols are not supported.", memberID)
	}
	e.records = append(e.records, consumerTombstones(g.id, cg)...)
	g.consumer = nil
	g.persisted = false
	g.protocolType = ""
	m.cfg.Logger.Info("converted the empty consumer group to a classic group", "group", g.id)
	return nil
}
