package group

import "slices"

// assignUniform is the "uniform" assignor (Kafka's UniformAssignor, the
// default of group.consumer.assignors): partitions spread evenly over the
// members regardless of topic, sticky.
//
// When every member subscribes to the same topics, each member ends with
// ⌊P/N⌋ or ⌈P/N⌉ of the P partitions: it keeps up to its quota of its
// current target (the first P mod N members in id order that hold more
// keep one extra), and the partitions nobody kept go, in topic and
// partition order, to the members under their quota. So a joining member
// takes only the surplus of the others, and a leaving member's partitions
// go to the others without moving anything else.
//
// When subscriptions differ, balance means that no partition could move
// to another member subscribed to its topic whose load is smaller by two
// or more: members keep their current targets, unassigned partitions go
// to the least loaded subscriber (topics with fewest subscribers first),
// then partitions move from loaded to light members until balanced.
func assignUniform(s assignSpec) map[string]assignment {
	out := make(map[string]assignment, len(s.members))
	for _, m := range s.members {
		out[m.id] = assignment{}
	}
	if len(s.members) == 0 {
		return out
	}
	if s.homogeneous() {
		uniformHomogeneous(s, out)
	} else {
		uniformHeterogeneous(s, out)
	}
	return out
}

func uniformHomogeneous(s assignSpec, out map[string]assignment) {
	topics := s.members[0].topics
	total := 0
	for _, t := range topics {
		total += int(s.partitions[t])
	}
	n := len(s.members)
	quota, extra := total/n, total%n
	taken := map[topicPart]bool{}
	counts := make([]int, n)
	for i, m := range s.members {
		keep := keepable(s, m, taken)
		k := min(len(keep), quota)
		if len(keep) > quota && extra > 0 {
			k++
			extra--
		}
		for _, tp := range keep[:k] {
			taken[tp] = true
			out[m.id].add(tp.topic, tp.partition)
		}
		counts[i] = k
	}
	var free []topicPart
	for _, t := range topics {
		for p := range s.partitions[t] {
			if tp := (topicPart{t, p}); !taken[tp] {
				free = append(free, tp)
			}
		}
	}
	give := func(i int) {
		tp := free[0]
		free = free[1:]
		out[s.members[i].id].add(tp.topic, tp.partition)
		counts[i]++
	}
	// Everyone up to the quota first, then the extras to members at it.
	for i := range s.members {
		for counts[i] < quota && len(free) > 0 {
			give(i)
		}
	}
	for i := range s.members {
		if len(free) == 0 {
			break
		}
		if counts[i] == quota {
			give(i)
		}
	}
}

func uniformHeterogeneous(s assignSpec, out map[string]assignment) {
	subs := s.subscribers()
	owner := map[topicPart]int{}
	load := make([]int, len(s.members))
	taken := map[topicPart]bool{}
	for i, m := range s.members {
		for _, tp := range keepable(s, m, taken) {
			taken[tp] = true
			owner[tp] = i
			load[i]++
		}
	}
	// lightest is the least loaded subscriber of topic t (ties to member
	// order).
	lightest := func(t [16]byte) int {
		best := -1
		for _, i := range subs[t] {
			if best < 0 || load[i] < load[best] {
				best = i
			}
		}
		return best
	}
	var topics [][16]byte
	for _, t := range sortedTopicIDs(s.partitions) {
		if len(subs[t]) > 0 {
			topics = append(topics, t)
		}
	}
	// Most constrained topics first, so they get their few subscribers
	// before topics anyone may take.
	slices.SortStableFunc(topics, func(a, b [16]byte) int { return len(subs[a]) - len(subs[b]) })
	for _, t := range topics {
		for p := range s.partitions[t] {
			tp := topicPart{t, p}
			if _, ok := owner[tp]; ok {
				continue
			}
			i := lightest(t)
			owner[tp] = i
			load[i]++
		}
	}
	// Each move lowers the sum of squared loads, so this ends.
	for moved := true; moved; {
		moved = false
		for _, t := range topics {
			for p := range s.partitions[t] {
				tp := topicPart{t, p}
				from := owner[tp]
				to := lightest(t)
				if load[from]-load[to] > 1 {
					owner[tp] = to
					load[from]--
					load[to]++
					moved = true
				}
			}
		}
	}
	for tp, i := range owner {
		out[s.members[i].id].add(tp.topic, tp.partition)
	}
}
