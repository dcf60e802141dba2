package group

import (
	"cmp"
	"slices"
	"time"
)

// commitPlan is an offset commit that passed validation and waits for its
// records to be durable; applyCommit then makes it visible.
type commitPlan struct {
	g       *group
	records []JournalRecord
	tps     []topicPartition
	entries []offsetEntry
}

// add puts one offset in the plan and counts it in flight for its group.
func (p *commitPlan) add(o OffsetCommit, now time.Time) {
	tp := topicPartition{o.Topic, o.Partition}
	entry := offsetEntry{offset: o.Offset, leaderEpoch: o.LeaderEpoch, metadata: o.Metadata, commitTime: now}
	p.tps = append(p.tps, tp)
	p.entries = append(p.entries, entry)
	p.g.inflight[tp]++
	p.records = append(p.records, offsetRecord(p.g.id, tp, entry))
}

// commit is the OffsetCommit validation event (Kafka's
// validateOffsetCommit + doCommitOffsets). It returns the group-level
// error (applying to every partition), per-partition errors, and the plan
// to persist; plan is nil if nothing is to be stored.
func (m *machine) commit(now time.Time, name, memberID, instanceID string, generation int32, offsets []OffsetCommit) (error, []error, *commitPlan, effects) {
	var e effects
	g := m.groups[name]
	created := false
	if g == nil {
		if generation >= 0 {
			// Not a simple (generation -1) commit: a stale generation of a
			// group that no longer exists.
			return ErrNoGroupForGeneration, nil, nil, e
		}
		g, created = newGroup(name), true
		g.stateTime = now
	}
	m.begin(g, now, &e)
	if err := m.validateCommit(g, now, memberID, instanceID, generation); err != nil {
		m.end(g, now, &e)
		return err, nil, nil, e
	}
	if created {
		m.groups[name] = g
	}
	errs := make([]error, len(offsets))
	plan := &commitPlan{g: g}
	for i, o := range offsets {
		if m.cfg.MaxOffsetMetadataBytes > 0 && len(o.Metadata) > m.cfg.MaxOffsetMetadataBytes {
			errs[i] = ErrOffsetMetadataTooLarge
			continue
		}
		plan.add(o, now)
	}
	if len(plan.tps) == 0 {
		plan = nil
	}
	m.end(g, now, &e)
	return nil, errs, plan, e
}

func (m *machine) validateCommit(g *group, now time.Time, memberID, instanceID string, generation int32) error {
	if g.consumer != nil {
		return validateConsumerCommit(g, memberID, generation)
	}
	if generation >= 0 || memberID != "" || instanceID != "" {
		mem, err := g.committer(memberID, instanceID, generation)
		if err != nil {
			return err
		}
		switch g.state {
		case completingRebalance:
			// The member has the new generation but not its assignment yet.
			return ErrRebalanceInProgress
		case stable, preparingRebalance:
			// A commit counts as a heartbeat; during a rebalance the
			// heartbeat response tells the member to rejoin.
			mem.deadline = now.Add(mem.sessionTimeout)
		}
		return nil
	}
	if g.state != empty {
		// Only members may commit to a group that has members.
		return ErrUnknownMemberID
	}
	return nil
}

// applyCommit makes a durable commit visible, or forgets it if err is set.
func (m *machine) applyCommit(p *commitPlan, err error) {
	g := p.g
	for i, tp := range p.tps {
		if g.inflight[tp]--; g.inflight[tp] <= 0 {
			delete(g.inflight, tp)
		}
		if err == nil && g.state != dead {
			g.offsets[tp] = p.entries[i]
		}
	}
	if g.vacant() && m.groups[g.id] == g {
		delete(m.groups, g.id)
	}
}

// fetch is OffsetFetch: the committed offsets of the given partitions
// (offset -1 when none), or of every committed partition if topics is nil,
// ordered by topic then partition (requested partitions keep their order).
func (m *machine) fetch(name string, topics map[string][]int32) []CommittedOffset {
	g := m.groups[name]
	var out []CommittedOffset
	emit := func(tp topicPartition, o offsetEntry, ok bool) {
		c := CommittedOffset{Topic: tp.topic, Partition: tp.partition, Offset: -1, LeaderEpoch: -1}
		if ok {
			c.Offset, c.LeaderEpoch, c.Metadata = o.offset, o.leaderEpoch, o.metadata
		}
		out = append(out, c)
	}
	if topics == nil {
		if g == nil {
			return nil
		}
		tps := sortedPartitions(g.offsets)
		for _, tp := range tps {
			emit(tp, g.offsets[tp], true)
		}
		return out
	}
	for _, t := range sortedKeys(topics) {
		for _, p := range topics[t] {
			tp := topicPartition{t, p}
			var o offsetEntry
			ok := false
			if g != nil {
				o, ok = g.offsets[tp]
			}
			emit(tp, o, ok)
		}
	}
	return out
}

// deleteOffsets is OffsetDelete. Offsets leave memory at once and their
// tombstones are returned for the journal (as Kafka does).
func (m *machine) deleteOffsets(now time.Time, name string, topics map[string][]int32) (error, map[string]map[int32]error, effects) {
	var e effects
	if name == "" {
		return ErrInvalidGroupID, nil, e
	}
	g := m.groups[name]
	if g == nil {
		return ErrGroupIDNotFound, nil, e
	}
	m.begin(g, now, &e)
	err, out := m.deleteGroupOffsets(g, now, topics, &e)
	m.end(g, now, &e)
	return err, out, e
}

func (m *machine) deleteGroupOffsets(g *group, now time.Time, topics map[string][]int32, e *effects) (error, map[string]map[int32]error) {
	var subscribed map[string]bool
	allSubscribed := false
	switch {
	case g.state == dead:
		return ErrGroupIDNotFound, nil
	case g.consumer != nil:
		subscribed = g.consumer.subscribedTopicSet()
	case g.state == empty:
	case g.protocolType == "consumer":
		var ok bool
		subscribed, ok = g.subscribedTopics()
		allSubscribed = !ok
	default:
		return ErrNonEmptyGroup, nil
	}
	out := make(map[string]map[int32]error, len(topics))
	for _, t := range sortedKeys(topics) {
		out[t] = make(map[int32]error, len(topics[t]))
		for _, p := range topics[t] {
			if allSubscribed || subscribed[t] {
				out[t][p] = ErrGroupSubscribedToTopic
				continue
			}
			out[t][p] = nil
			tp := topicPartition{t, p}
			_, had := g.offsets[tp]
			if had || g.inflight[tp] > 0 {
				delete(g.offsets, tp)
				e.records = append(e.records, JournalRecord{Key: offsetKey(g.id, tp)})
			}
		}
	}
	// An empty group left with no offsets is gone (Kafka's
	// cleanupGroupMetadata).
	if g.state == empty && len(g.members) == 0 && len(g.offsets) == 0 && len(g.inflight) == 0 && len(g.pending) == 0 &&
		(g.consumer == nil || len(g.consumer.members) == 0) {
		m.deleteGroup(g, now, e)
	}
	return nil, out
}

// deleteGroups is DeleteGroups: each group must exist and be Empty.
func (m *machine) deleteGroups(now time.Time, names []string) ([]error, effects) {
	var e effects
	errs := make([]error, len(names))
	for i, name := range names {
		g := m.groups[name]
		if g == nil {
			errs[i] = ErrGroupIDNotFound
			continue
		}
		m.begin(g, now, &e)
		switch g.state {
		case dead:
			errs[i] = ErrGroupIDNotFound
		case empty:
			if g.consumer != nil && len(g.consumer.members) > 0 {
				errs[i] = ErrNonEmptyGroup
				break
			}
			m.deleteGroup(g, now, &e)
		default:
			errs[i] = ErrNonEmptyGroup
		}
		m.end(g, now, &e)
	}
	e.group = ""
	return errs, e
}

// deleteGroup makes an empty group Dead and queues tombstones for its
// metadata and every offset, including commits still in flight (they are
// ahead of the tombstones in the journal).
func (m *machine) deleteGroup(g *group, now time.Time, e *effects) {
	keys := map[topicPartition]bool{}
	for tp := range g.offsets {
		keys[tp] = true
	}
	for tp := range g.inflight {
		keys[tp] = true
	}
	for _, tp := range sortedPartitions(keys) {
		e.records = append(e.records, JournalRecord{Key: offsetKey(g.id, tp)})
	}
	if g.consumer != nil {
		e.records = append(e.records, consumerTombstones(g.id, g.consumer)...)
	} else if g.persisted {
		e.records = append(e.records, JournalRecord{Key: groupKey(g.id)})
	}
	clear(g.offsets)
	g.transition(dead, now)
	if m.groups[g.id] == g {
		delete(m.groups, g.id)
	}
	m.cfg.Logger.Info("group deleted", "group", g.id)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedPartitions[V any](m map[topicPartition]V) []topicPartition {
	tps := make([]topicPartition, 0, len(m))
	for tp := range m {
		tps = append(tps, tp)
	}
	slices.SortFunc(tps, func(a, b topicPartition) int {
		return cmp.Or(cmp.Compare(a.topic, b.topic), cmp.Compare(a.partition, b.partition))
	})
	return tps
}
