package group

// assignRange is the "range" assignor (Kafka's server-side RangeAssignor):
// topic by topic, the n partitions are shared among the m members
// subscribed to the topic, each getting ⌊n/m⌋ and the first n mod m one
// more, in contiguous ranges of partition numbers so that co-partitioned
// topics land on the same members. It is sticky like Kafka's: a member
// keeps the lowest-numbered partitions of its current target up to its
// quota (and one extra while extras remain), and only the rest is
// redistributed, in ranges, to the members below their quota.
func assignRange(s assignSpec) map[string]assignment {
	out := make(map[string]assignment, len(s.members))
	for _, m := range s.members {
		out[m.id] = assignment{}
	}
	subs := s.subscribers()
	for _, t := range sortedTopicIDs(subs) {
		members := subs[t]
		n := s.partitions[t]
		quota, extra := int(n)/len(members), int(n)%len(members)
		taken := make([]bool, n)
		type unfilled struct{ member, need int }
		var short []unfilled
		for _, i := range members {
			m := s.members[i]
			var keep []int32
			for _, p := range m.current[t] { // sorted ascending
				if p < n && !taken[p] {
					keep = append(keep, p)
				}
			}
			k := min(len(keep), quota)
			need := quota - len(keep)
			if need < 0 && extra > 0 {
				k++
				extra--
			} else if need >= 0 {
				short = append(short, unfilled{i, need})
			}
			for _, p := range keep[:k] {
				taken[p] = true
				out[m.id].add(t, p)
			}
		}
		var free []int32
		for p := range n {
			if !taken[p] {
				free = append(free, p)
			}
		}
		for _, u := range short {
			need := u.need
			if extra > 0 {
				need++
				extra--
			}
			need = min(need, len(free))
			for _, p := range free[:need] {
				out[s.members[u.member].id].add(t, p)
			}
			free = free[need:]
		}
	}
	return out
}
