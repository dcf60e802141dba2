package queue

import (
	"slices"
	"testing"
)

func TestIntervalSetAdd(t *testing.T) {
	iv := func(pairs ...int64) []Interval {
		var out []Interval
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, Interval{pairs[i], pairs[i+1]})
		}
		return out
	}
	tests := []struct {
		name string
		init []Interval
		add  Interval
		want []Interval
	}{
		{"into empty", nil, Interval{3, 5}, iv(3, 5)},
		{"empty range ignored", iv(3, 5), Interval{7, 7}, iv(3, 5)},
		{"after last, apart", iv(3, 5), Interval{7, 9}, iv(3, 5, 7, 9)},
		{"after last, adjacent", iv(3, 5), Interval{5, 9}, iv(3, 9)},
		{"inside last", iv(3, 9), Interval{4, 6}, iv(3, 9)},
		{"extends last", iv(3, 5), Interval{4, 8}, iv(3, 8)},
		{"before first, apart", iv(3, 5), Interval{0, 1}, iv(0, 1, 3, 5)},
		{"before first, adjacent", iv(3, 5), Interval{1, 3}, iv(1, 5)},
		{"fills a gap exactly", iv(0, 2, 3, 5), Interval{2, 3}, iv(0, 5)},
		{"into a gap, apart", iv(0, 2, 8, 9), Interval{4, 5}, iv(0, 2, 4, 5, 8, 9)},
		{"into a gap, touching left", iv(0, 2, 8, 9), Interval{2, 5}, iv(0, 5, 8, 9)},
		{"into a gap, touching right", iv(0, 2, 8, 9), Interval{5, 8}, iv(0, 2, 5, 9)},
		{"spans several", iv(0, 1, 2, 3, 4, 5, 6, 7, 10, 11), Interval{1, 7}, iv(0, 7, 10, 11)},
		{"covers all", iv(2, 3, 4, 5), Interval{0, 10}, iv(0, 10)},
		{"overlaps two partially", iv(0, 3, 5, 8, 20, 21), Interval{2, 6}, iv(0, 8, 20, 21)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := intervalSet{iv: slices.Clone(tt.init)}
			s.add(tt.add.Start, tt.add.End)
			if !slices.Equal(s.iv, tt.want) {
				t.Errorf("add %v to %v = %v, want %v", tt.add, tt.init, s.iv, tt.want)
			}
		})
	}
}

func TestIntervalSetQueries(t *testing.T) {
	s := intervalSet{iv: []Interval{{2, 4}, {6, 7}, {10, 15}}}
	for _, tt := range []struct {
		x       int64
		wantEnd int64
		wantOK  bool
	}{
		{0, 0, false}, {1, 0, false}, {2, 4, true}, {3, 4, true}, {4, 0, false},
		{6, 7, true}, {7, 0, false}, {9, 0, false}, {10, 15, true}, {14, 15, true}, {15, 0, false},
	} {
		end, ok := s.contains(tt.x)
		if end != tt.wantEnd || ok != tt.wantOK {
			t.Errorf("contains(%d) = %d, %t; want %d, %t", tt.x, end, ok, tt.wantEnd, tt.wantOK)
		}
	}
	for _, tt := range []struct{ lo, hi, want int64 }{
		{0, 100, 8}, {3, 12, 4}, {4, 6, 0}, {0, 3, 1}, {12, 13, 1}, {15, 20, 0},
	} {
		if got := s.count(tt.lo, tt.hi); got != tt.want {
			t.Errorf("count(%d, %d) = %d, want %d", tt.lo, tt.hi, got, tt.want)
		}
	}
	if _, ok := s.popFrontAt(1); ok {
		t.Error("popFrontAt(1) popped")
	}
	if iv, ok := s.popFrontAt(2); !ok || iv != (Interval{2, 4}) || s.len() != 2 {
		t.Errorf("popFrontAt(2) = %v, %t, left %v", iv, ok, s.iv)
	}
}

// TestIntervalSetAgainstModel adds pseudo-random ranges and compares
// with a bitmap.
func TestIntervalSetAgainstModel(t *testing.T) {
	const n = 200
	var model [n]bool
	var s intervalSet
	x := uint64(42)
	next := func(m int64) int64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return int64(x % uint64(m)) }
	for step := range 2000 {
		a := next(n)
		b := min(a+next(5), n)
		s.add(a, b)
		for i := a; i < b; i++ {
			model[i] = true
		}
		var want []Interval
		for i := int64(0); i < n; i++ {
			if model[i] && (i == 0 || !model[i-1]) {
				want = append(want, Interval{i, i + 1})
			} else if model[i] {
				want[len(want)-1].End = i + 1
			}
		}
		if !slices.Equal(s.iv, want) {
			t.Fatalf("step %d add [%d,%d): %v, want %v", step, a, b, s.iv, want)
		}
	}
}
