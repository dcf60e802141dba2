package group

import (
	"slices"
	"strings"
)

// describe is DescribeGroups for one group. As Kafka does, only a Stable
// group reports its protocol and its members' metadata and assignment, and
// an unknown group is described as Dead without an error.
func (m *machine) describe(name string) Description {
	g := m.groups[name]
	if g == nil {
		return Description{Group: name, State: StateDead}
	}
	if g.consumer != nil {
		return m.describeConsumerAsClassic(g)
	}
	d := Description{Group: name, Type: GroupTypeClassic, State: g.state.String(), ProtocolType: g.protocolType}
	if g.state == stable {
		d.Protocol = g.protocol
	}
	for _, id := range g.order {
		mem := g.members[id]
		md := MemberDescription{MemberID: mem.id, InstanceID: mem.instanceID, ClientID: mem.clientID, ClientHost: mem.clientHost}
		if g.state == stable {
			meta, _ := mem.metadataFor(g.protocol)
			md.Metadata = slices.Clone(meta)
			md.Assignment = slices.Clone(mem.assignment)
		}
		d.Members = append(d.Members, md)
	}
	return d
}

// list is ListGroups: every group, sorted by id, whose state is in states
// (compared case-insensitively, as Kafka does); all groups if states is
// empty.
func (m *machine) list(states []string) []Listing {
	out := []Listing{}
	for _, name := range sortedKeys(m.groups) {
		g := m.groups[name]
		st, typ := g.state.String(), GroupTypeClassic
		if g.consumer != nil {
			st, typ = g.consumer.state(), GroupTypeConsumer
		}
		if len(states) > 0 && !slices.ContainsFunc(states, func(s string) bool { return strings.EqualFold(s, st) }) {
			continue
		}
		out = append(out, Listing{Group: name, Type: typ, ProtocolType: g.protocolType, State: st})
	}
	return out
}
