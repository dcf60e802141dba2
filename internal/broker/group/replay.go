package group

import (
	"fmt"
	"time"
)

// load applies one replayed journal record. Records must come in append
// order; the last record per key wins.
func (m *machine) load(rec JournalRecord) error {
	k, err := decodeKey(rec.Key)
	if err != nil {
		return err
	}
	g := m.groups[k.group]
	if g == nil {
		g = newGroup(k.group)
		m.groups[k.group] = g
	}
	if k.consumerKind != 0 {
		return m.loadConsumer(g, k, rec.Value)
	}
	if k.isOffset {
		if rec.Value == nil {
			delete(g.offsets, k.tp)
			return nil
		}
		o, err := decodeOffsetValue(rec.Value)
		if err != nil {
			return fmt.Errorf("offset %s/%s/%d: %w", k.group, k.tp.topic, k.tp.partition, err)
		}
		g.offsets[k.tp] = o
		return nil
	}
	// Group metadata replaces the group's membership; a tombstone resets it
	// (the group's offsets have tombstones of their own).
	offsets := g.offsets
	*g = *newGroup(k.group)
	g.offsets = offsets
	if rec.Value == nil {
		return nil
	}
	gv, err := decodeGroupValue(rec.Value)
	if err != nil {
		return fmt.Errorf("group %s: %w", k.group, err)
	}
	g.persisted = true
	g.protocolType, g.protocol, g.generation, g.stateTime = gv.protocolType, gv.protocol, gv.generation, gv.stateTime
	for _, mem := range gv.members {
		g.addMember(mem)
	}
	if _, ok := g.members[gv.leader]; ok {
		g.leader = gv.leader
	}
	return nil
}

// finishLoad makes replayed groups serve: a group with members is Stable
// with every session starting now, one without is Empty, and a group with
// neither members, offsets nor metadata is forgotten.
func (m *machine) finishLoad(now time.Time) {
	for name, g := range m.groups {
		if g.consumer != nil && m.finishConsumerLoad(g, now) {
			continue
		}
		if len(g.members) == 0 {
			g.state = empty
			g.protocol, g.leader = "", ""
			if g.vacant() {
				delete(m.groups, name)
			}
			continue
		}
		g.state = stable
		if g.protocol == "" {
			g.protocol = g.selectProtocol()
		}
		for _, mem := range g.members {
			mem.deadline = now.Add(mem.sessionTimeout)
		}
	}
}
