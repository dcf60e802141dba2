package group

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func topicN(i int) [16]byte {
	var id [16]byte
	id[0] = byte(i + 1)
	return id
}

// specOf builds an assignor input: partitions per topic and, per member,
// the indexes of the topics it subscribes to.
func specOf(partitions []int32, subs [][]int, current map[string]assignment) assignSpec {
	s := assignSpec{partitions: map[[16]byte]int32{}}
	for i, n := range partitions {
		s.partitions[topicN(i)] = n
	}
	for i, ts := range subs {
		m := assignMember{id: fmt.Sprintf("m%02d", i), current: current[fmt.Sprintf("m%02d", i)]}
		for _, t := range ts {
			m.topics = append(m.topics, topicN(t))
		}
		s.members = append(s.members, m)
	}
	return s
}

// checkComplete fails unless every partition of every subscribed topic is
// assigned to exactly one member that subscribes to it.
func checkComplete(t *testing.T, s assignSpec, out map[string]assignment) {
	t.Helper()
	owner := map[topicPart]string{}
	for _, m := range s.members {
		a := out[m.id]
		for tid := range a {
			if !slices.Contains(m.topics, tid) {
				t.Fatalf("%s got topic %x it does not subscribe to", m.id, tid[0])
			}
		}
		a.each(func(tid [16]byte, p int32) {
			if prev, ok := owner[topicPart{tid, p}]; ok {
				t.Fatalf("partition %x/%d given to %s and %s", tid[0], p, prev, m.id)
			}
			owner[topicPart{tid, p}] = m.id
		})
	}
	subscribed := s.subscribers()
	for tid, n := range s.partitions {
		if len(subscribed[tid]) == 0 {
			continue
		}
		for p := range n {
			if _, ok := owner[topicPart{tid, p}]; !ok {
				t.Fatalf("partition %x/%d not assigned", tid[0], p)
			}
		}
	}
}

// moved counts the partitions whose owner changed between two targets.
func moved(before, after map[string]assignment) int {
	owner := map[topicPart]string{}
	for id, a := range before {
		a.each(func(tid [16]byte, p int32) { owner[topicPart{tid, p}] = id })
	}
	n := 0
	for id, a := range after {
		a.each(func(tid [16]byte, p int32) {
			if prev, ok := owner[topicPart{tid, p}]; ok && prev != id {
				n++
			}
		})
	}
	return n
}

func sizes(out map[string]assignment) (lo, hi int) {
	lo = -1
	for _, a := range out {
		n := a.size()
		if lo < 0 || n < lo {
			lo = n
		}
		hi = max(hi, n)
	}
	return lo, hi
}

// TestAssignorsJoinAndLeave checks, for both assignors and homogeneous
// subscriptions, that an assignment is complete and balanced, and that a
// member joining or leaving moves only what it must: a joiner takes its
// share and nothing else changes hands; a leaver's partitions are the
// only ones that move.
func TestAssignorsJoinAndLeave(t *testing.T) {
	cases := []struct {
		name       string
		partitions []int32
		members    int
	}{
		{"one topic, fewer members than partitions", []int32{12}, 5},
		{"one topic, more members than partitions", []int32{3}, 5},
		{"two co-partitioned topics", []int32{8, 8}, 3},
		{"uneven topics", []int32{1, 7, 4}, 4},
		{"single member", []int32{6}, 1},
	}
	for _, c := range cases {
		for _, name := range []string{AssignorUniform, AssignorRange} {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				all := make([]int, len(c.partitions))
				for i := range all {
					all[i] = i
				}
				subs := make([][]int, c.members)
				for i := range subs {
					subs[i] = all
				}
				assign := assignors[name]
				s := specOf(c.partitions, subs, nil)
				base := assign(s)
				checkComplete(t, s, base)
				if name == AssignorUniform {
					if lo, hi := sizes(base); hi-lo > 1 {
						t.Fatalf("unbalanced: %d..%d", lo, hi)
					}
				}
				// A member joins.
				joined := specOf(c.partitions, append(slices.Clone(subs), all), base)
				after := assign(joined)
				checkComplete(t, joined, after)
				newcomer := after[joined.members[len(joined.members)-1].id].size()
				if m := moved(base, after); m != newcomer {
					t.Fatalf("join moved %d partitions, the newcomer got %d", m, newcomer)
				}
				if name == AssignorUniform {
					if lo, hi := sizes(after); hi-lo > 1 {
						t.Fatalf("unbalanced after join: %d..%d", lo, hi)
					}
				}
				// The first member leaves: only its partitions move.
				if c.members < 2 {
					return
				}
				left := map[string]assignment{}
				for id, a := range base {
					if id != "m00" {
						left[id] = a
					}
				}
				leaving := specOf(c.partitions, subs[1:], nil)
				for i := range leaving.members {
					leaving.members[i].id = fmt.Sprintf("m%02d", i+1)
					leaving.members[i].current = base[leaving.members[i].id]
				}
				after = assign(leaving)
				checkComplete(t, leaving, after)
				if m := moved(left, after); m != 0 {
					t.Fatalf("leave moved %d partitions of members that stayed", m)
				}
			})
		}
	}
}

// TestRangeIsContiguousAndCoPartitioned: range gives each member the same
// contiguous run of partitions of every co-partitioned topic.
func TestRangeIsContiguousAndCoPartitioned(t *testing.T) {
	s := specOf([]int32{7, 7}, [][]int{{0, 1}, {0, 1}, {0, 1}}, nil)
	out := assignRange(s)
	for id, a := range out {
		ps0, ps1 := a[topicN(0)], a[topicN(1)]
		if !slices.Equal(ps0, ps1) {
			t.Fatalf("%s: %v and %v differ", id, ps0, ps1)
		}
		for i := 1; i < len(ps0); i++ {
			if ps0[i] != ps0[i-1]+1 {
				t.Fatalf("%s: %v is not a range", id, ps0)
			}
		}
	}
	if got := out["m00"][topicN(0)]; !slices.Equal(got, []int32{0, 1, 2}) {
		t.Fatalf("first member got %v, want [0 1 2]", got)
	}
}

// TestUniformHeterogeneousIsBalanced checks random heterogeneous
// subscriptions: complete, and no partition could move to a subscriber
// lighter by two or more; re-assigning a balanced target moves nothing.
func TestUniformHeterogeneousIsBalanced(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		topics := 1 + rng.IntN(5)
		partitions := make([]int32, topics)
		for i := range partitions {
			partitions[i] = int32(rng.IntN(9))
		}
		subs := make([][]int, 1+rng.IntN(6))
		for i := range subs {
			for tp := range topics {
				if rng.IntN(2) == 0 {
					subs[i] = append(subs[i], tp)
				}
			}
			if len(subs[i]) == 0 {
				subs[i] = []int{rng.IntN(topics)}
			}
		}
		s := specOf(partitions, subs, nil)
		out := assignUniform(s)
		checkComplete(t, s, out)
		load := map[string]int{}
		for id, a := range out {
			load[id] = a.size()
		}
		for _, m := range s.members {
			out[m.id].each(func(tid [16]byte, p int32) {
				for _, o := range s.members {
					if slices.Contains(o.topics, tid) && load[m.id]-load[o.id] > 1 {
						t.Fatalf("round %d: %x/%d could move from %s (%d) to %s (%d)", round, tid[0], p, m.id, load[m.id], o.id, load[o.id])
					}
				}
			})
		}
		again := specOf(partitions, subs, out)
		if m := moved(out, assignUniform(again)); m != 0 {
			t.Fatalf("round %d: a balanced target moved %d partitions when assigned again", round, m)
		}
	}
}
