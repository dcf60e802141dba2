package queue

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestBacklogCostsNoMemory appends ten million offsets (one million
// under -race) with no consumer
// and checks the queue's heap does not grow with them, then drains them
// through one consumer (prefetch 100) acking out of order within its
// window, and checks that the acked intervals stay bounded by the window
// and collapse, and that the low-water mark reaches the end.
func TestBacklogCostsNoMemory(t *testing.T) {
	n := int64(10_000_000)
	if raceEnabled {
		n = 1_000_000
	}
	q, err := New(DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for off := range n {
		if _, _, err := q.Append(0, off, 512); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 8<<10 {
		t.Errorf("heap grew %d bytes for %d appended offsets", grew, n)
	}
	if s := q.Stats(); s.Ready != n || s.ReadyBytes != n*512 {
		t.Fatalf("stats %+v", s)
	}

	drain(t, q, 100, n)
	l := &q.levels[0]
	if l.lowWater != n || l.acked.len() != 0 || len(l.unacked) != 0 || len(l.requeued) != 0 {
		t.Fatalf("after drain: low-water %d acked %v unacked %d requeued %d", l.lowWater, l.acked.iv, len(l.unacked), len(l.requeued))
	}
}

// drain consumes n messages with one consumer of the given prefetch,
// acking a random half of what it holds after each dispatch (so acks are
// out of order and some messages wait several rounds).
func drain(t *testing.T, q *Queue, prefetch int, n int64) {
	t.Helper()
	if err := q.AddConsumer(ConsumerSpec{ID: 1, Channel: 1, Prefetch: prefetch}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	held := make([]int64, 0, prefetch)
	var delivered, lowWater, maxFragments int64
	for delivered < n || len(held) > 0 {
		ds, _ := q.Dispatch(prefetch)
		for _, d := range ds {
			held = append(held, d.Offset)
		}
		delivered += int64(len(ds))
		if len(held) > prefetch {
			t.Fatalf("holding %d > prefetch %d", len(held), prefetch)
		}
		rng.Shuffle(len(held), func(i, j int) { held[i], held[j] = held[j], held[i] })
		k := (len(held) + 1) / 2
		if delivered == n {
			k = len(held)
		}
		fx, err := q.Ack(1, 0, held[:k]...)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held[:0], held[k:]...)
		for _, m := range fx.LowWater {
			if m.Offset <= lowWater {
				t.Fatalf("low-water went from %d to %d", lowWater, m.Offset)
			}
			lowWater = m.Offset
		}
		maxFragments = max(maxFragments, int64(q.levels[0].acked.len()))
	}
	if maxFragments > int64(prefetch) {
		t.Errorf("acked set reached %d intervals with a window of %d", maxFragments, prefetch)
	}
	if lowWater != n {
		t.Errorf("low-water effects reached %d, want %d", lowWater, n)
	}
}
