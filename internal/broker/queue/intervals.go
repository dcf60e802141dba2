package queue

import "sort"

// intervalSet is a set of offsets stored as sorted, non-overlapping,
// non-adjacent half-open intervals. Its size is the number of gaps, not
// the number of offsets: acking in order keeps it at one interval (or
// none, once the low-water mark absorbs it).
type intervalSet struct {
	iv []Interval
}

// search returns the index of the first interval whose End >= x, i.e. the
// only one that can contain x or be adjacent to it on the left.
func (s *intervalSet) search(x int64) int {
	return sort.Search(len(s.iv), func(i int) bool { return s.iv[i].End >= x })
}

// contains reports whether x is in the set and, if so, the end of the
// interval holding it.
func (s *intervalSet) contains(x int64) (end int64, ok bool) {
	i := s.search(x + 1)
	if i < len(s.iv) && s.iv[i].Start <= x && x < s.iv[i].End {
		return s.iv[i].End, true
	}
	return 0, false
}

// add inserts [start, end), merging with overlapping and adjacent
// intervals. Empty ranges are ignored.
func (s *intervalSet) add(start, end int64) {
	if start >= end {
		return
	}
	// Fast path: at or after the last interval (in-order settlement).
	if n := len(s.iv); n == 0 || start > s.iv[n-1].End {
		s.iv = append(s.iv, Interval{start, end})
		return
	} else if start >= s.iv[n-1].Start {
		s.iv[n-1].End = max(s.iv[n-1].End, end)
		return
	}
	i := s.search(start) // first with End >= start: merge candidates from i
	j := i
	for j < len(s.iv) && s.iv[j].Start <= end {
		start = min(start, s.iv[j].Start)
		end = max(end, s.iv[j].End)
		j++
	}
	switch {
	case j == i: // no overlap: insert at i
		s.iv = append(s.iv, Interval{})
		copy(s.iv[i+1:], s.iv[i:])
		s.iv[i] = Interval{start, end}
	default: // replace iv[i:j] by one interval
		s.iv[i] = Interval{start, end}
		s.iv = append(s.iv[:i+1], s.iv[j:]...)
	}
}

// popFrontAt removes and returns the first interval if it starts at x.
func (s *intervalSet) popFrontAt(x int64) (Interval, bool) {
	if len(s.iv) == 0 || s.iv[0].Start != x {
		return Interval{}, false
	}
	first := s.iv[0]
	// Shift rather than reslice so the array is reused: the set is small
	// (bounded by in-flight deliveries) and this keeps acking allocation-free.
	n := copy(s.iv, s.iv[1:])
	s.iv = s.iv[:n]
	return first, true
}

// count is the number of offsets of the set within [lo, hi).
func (s *intervalSet) count(lo, hi int64) int64 {
	var n int64
	for i := s.search(lo + 1); i < len(s.iv) && s.iv[i].Start < hi; i++ {
		n += min(s.iv[i].End, hi) - max(s.iv[i].Start, lo)
	}
	return n
}

// intervals returns a copy of the set.
func (s *intervalSet) intervals() []Interval {
	return append([]Interval(nil), s.iv...)
}

func (s *intervalSet) len() int { return len(s.iv) }
