package group

// Reconciliation moves one member from its current assignment towards its
// target (Kafka's CurrentAssignmentBuilder). The rule that makes KIP-848
// rebalances incremental and safe: a partition is given to its new owner
// only once its previous owner no longer has it, and a member lets a
// partition go only by reporting, in a heartbeat, that it stopped owning
// it (after committing its offsets). So no partition is ever consumed by
// two members at once, and members keep consuming the partitions that do
// not move while others change hands.
//
//	                       target has partitions it must revoke
//	          +--------+ --------------------------------------> +------------+
//	          | stable |                                         | unrevoked  |
//	          +--------+ <--+                                    +------------+
//	             |   ^      |  all partitions free                   |
//	  some target|   |      |                       member reported  |
//	  partitions |   |   +------------+             them revoked:    |
//	  still owned|   +---| unreleased | <---------------------------+
//	  by others  +-----> +------------+    next epoch, take the free ones
//
// The member's epoch moves to the target epoch only when it has nothing
// left to revoke; while it revokes, it keeps its epoch (its offset commits
// stay valid).

// reconcile returns the member's next state given its target assignment at
// targetEpoch and the partitions it reports owning (nil: not reported, so
// it is assumed to own everything it had). force makes the assignment
// consistent with a subscription that just changed even when the member
// is already reconciled. topicID resolves a subscribed topic name to its
// id; unsubscribed topics are revoked whatever the target says.
func (cg *consumerGroup) reconcile(m *consumerMember, targetEpoch int32, target assignment, owned assignment, force bool, topicID func(string) ([16]byte, bool)) *consumerMember {
	if !force && m.reconciledTo(targetEpoch) {
		return m
	}
	subscribed := map[[16]byte]bool{}
	for name := range cg.memberTopics(m) {
		if id, ok := topicID(name); ok {
			subscribed[id] = true
		}
	}
	ownsAny := func(pending assignment) bool {
		if owned == nil {
			return pending.size() > 0
		}
		found := false
		pending.each(func(t [16]byte, p int32) {
			if owned.has(t, p) {
				found = true
			}
		})
		return found
	}
	switch m.state {
	case memberStable:
		if m.epoch != targetEpoch {
			return cg.nextAssignment(m, targetEpoch, target, subscribed, ownsAny)
		}
		if force {
			return dropUnsubscribed(m, subscribed, ownsAny)
		}
		return m
	case memberUnrevoked:
		if ownsAny(m.pending) {
			if force {
				return dropUnsubscribed(m, subscribed, ownsAny)
			}
			return m
		}
		return cg.nextAssignment(m, targetEpoch, target, subscribed, ownsAny)
	default: // memberUnreleased
		return cg.nextAssignment(m, targetEpoch, target, subscribed, ownsAny)
	}
}

// dropUnsubscribed moves the assigned partitions of topics the member no
// longer subscribes to into its pending revocation, keeping its epoch.
func dropUnsubscribed(m *consumerMember, subscribed map[[16]byte]bool, ownsAny func(assignment) bool) *consumerMember {
	dropped := false
	for t := range m.assigned {
		if !subscribed[t] {
			dropped = true
		}
	}
	if !dropped {
		return m
	}
	n := m.clone()
	for t, ps := range m.assigned {
		if subscribed[t] {
			continue
		}
		delete(n.assigned, t)
		for _, p := range ps {
			n.pending.add(t, p)
		}
	}
	if ownsAny(n.pending) {
		n.state = memberUnrevoked
	} else {
		// Already let go: nothing to wait for.
		n.pending = m.pending.clone()
	}
	return n
}

// nextAssignment is Kafka's computeNextAssignment: keep the current
// partitions still in the target, revoke the others first; once nothing is
// left to revoke, move to the target epoch and take the target's free
// partitions.
func (cg *consumerGroup) nextAssignment(m *consumerMember, targetEpoch int32, target assignment, subscribed map[[16]byte]bool, ownsAny func(assignment) bool) *consumerMember {
	keep, revoke, add := assignment{}, assignment{}, assignment{}
	unreleased := false
	topics := map[[16]byte]bool{}
	for t := range target {
		topics[t] = true
	}
	for t := range m.assigned {
		topics[t] = true
	}
	for t := range topics {
		want := target[t]
		if !subscribed[t] {
			want = nil
		}
		for _, p := range m.assigned[t] {
			if containsSorted(want, p) {
				keep.add(t, p)
			} else {
				revoke.add(t, p)
			}
		}
		for _, p := range want {
			if m.assigned.has(t, p) {
				continue
			}
			// Free, or ours while we were revoking it: ours to take.
			if cg.ownerEpoch(t, p) != -1 && !m.pending.has(t, p) {
				unreleased = true
				continue
			}
			add.add(t, p)
		}
	}
	n := m.clone()
	if revoke.size() > 0 && ownsAny(revoke) {
		n.state = memberUnrevoked
		n.assigned, n.pending = keep, revoke
		return n
	}
	add.each(func(t [16]byte, p int32) { keep.add(t, p) })
	n.assigned, n.pending = keep, assignment{}
	if n.epoch != targetEpoch {
		n.prevEpoch, n.epoch = n.epoch, targetEpoch
	}
	n.state = memberStable
	if unreleased {
		n.state = memberUnreleased
	}
	return n
}

func containsSorted(ps []int32, p int32) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
		if q > p {
			return false
		}
	}
	return false
}
