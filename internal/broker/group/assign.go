package group

import (
	"bytes"
	"slices"
)

// Server-side assignment (KIP-848). An assignor turns the members'
// subscriptions and their current target assignment into the next target
// assignment. Both of Tern's are sticky: a member keeps the partitions of
// its current target that it may keep within its quota, so a member
// joining or leaving moves only the partitions that must move. They are
// deterministic: members are taken in member-id order and topics in id
// order, so a scenario always produces the same assignment.

// assignMember is one member as an assignor sees it.
type assignMember struct {
	id string
	// topics are the subscribed topics that exist, in id order.
	topics [][16]byte
	// current is the member's current target assignment.
	current assignment
}

// assignSpec is an assignor's input: the members in id order and the
// partition count of every topic some member subscribes to.
type assignSpec struct {
	members    []assignMember
	partitions map[[16]byte]int32
}

// assignFunc computes a target assignment: one entry per member (possibly
// empty), every partition of a subscribed topic given to exactly one
// member subscribed to it.
type assignFunc func(assignSpec) map[string]assignment

// assignors by name (group.consumer.assignors).
var assignors = map[string]assignFunc{
	AssignorUniform: assignUniform,
	AssignorRange:   assignRange,
}

// homogeneous reports whether every member subscribes to the same topics.
func (s assignSpec) homogeneous() bool {
	for _, m := range s.members[1:] {
		if !slices.Equal(m.topics, s.members[0].topics) {
			return false
		}
	}
	return true
}

// subscribers returns, per topic, the indexes of the members subscribed to
// it, in member order.
func (s assignSpec) subscribers() map[[16]byte][]int {
	out := map[[16]byte][]int{}
	for i, m := range s.members {
		for _, t := range m.topics {
			out[t] = append(out[t], i)
		}
	}
	return out
}

// sortedTopicIDs returns the keys of m in id order.
func sortedTopicIDs[V any](m map[[16]byte]V) [][16]byte {
	ts := make([][16]byte, 0, len(m))
	for t := range m {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	return ts
}

// keepable is the part of a member's current target it may keep: topics
// it still subscribes to, partitions that still exist, and partitions no
// member before it in order already kept (taken).
func keepable(s assignSpec, m assignMember, taken map[topicPart]bool) []topicPart {
	var out []topicPart
	for _, t := range m.topics {
		n := s.partitions[t]
		for _, p := range m.current[t] {
			tp := topicPart{t, p}
			if p < n && !taken[tp] {
				out = append(out, tp)
			}
		}
	}
	return out
}
